"""The session-store interface, shaped like aiohttp-session's storages."""

from __future__ import annotations

import abc

from ..models import UserDTO

# The seed's RedisConstants; the memory store uses the same keys so that a
# person comparing the two sees the same names.
LOGIN_CODE_KEY = "login:code:"
LOGIN_USER_KEY = "login:token:"


class SessionStore(abc.ABC):
    """Codes by phone and users by token, each with a TTL.

    ``code_ttl`` and ``user_ttl`` are in seconds (fractions allowed, so tests
    can watch an expiry happen).  Every key is written with its TTL.
    """

    kind: str

    def __init__(self, *, code_ttl: float, user_ttl: float) -> None:
        self.code_ttl = code_ttl
        self.user_ttl = user_ttl

    @abc.abstractmethod
    async def save_code(self, phone: str, code: str) -> None:
        """Store the login code for ``phone``, replacing any earlier one."""

    @abc.abstractmethod
    async def get_code(self, phone: str) -> str | None:
        """The live code for ``phone``, or None once it expired."""

    @abc.abstractmethod
    async def save_user(self, token: str, user: UserDTO) -> None:
        """Start a session: ``token`` now stands for ``user`` for ``user_ttl``."""

    @abc.abstractmethod
    async def load_user(self, token: str) -> UserDTO | None:
        """The session's user, pushing its TTL back to ``user_ttl`` (sliding
        expiry, like an HttpSession); None if there is no such session."""

    @abc.abstractmethod
    async def delete_user(self, token: str) -> None:
        """End the session ``token`` stands for."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the store cannot answer."""
