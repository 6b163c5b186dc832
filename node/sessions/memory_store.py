"""The bug, on purpose: sessions in this process's memory, like Tomcat's
HttpSession.  Each node has its own dict, so what one node stored the
others never see."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

from ..models import UserDTO
from .base import LOGIN_CODE_KEY, LOGIN_USER_KEY, SessionStore


class _Entry:
    __slots__ = ("deadline", "queued", "value")

    def __init__(self, value: str | UserDTO, deadline: float) -> None:
        self.value = value
        self.deadline = deadline
        # The deadline of this entry's one live place in the sweep heap;
        # heap items with any other deadline are left over from earlier
        # writes of the key and are dropped when they come up.
        self.queued = deadline


class MemorySessionStore(SessionStore):
    """Same TTL semantics as the Redis store, in a per-process dict.

    Expired entries are dropped when read and, so that abandoned sessions
    do not pile up, swept on every write from a heap of deadlines: a
    refresh only moves the entry's deadline, and the sweep re-queues an
    entry whose deadline moved instead of dropping it.
    """

    kind = "memory"

    def __init__(
        self,
        *,
        code_ttl: float,
        user_ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(code_ttl=code_ttl, user_ttl=user_ttl)
        self._clock = clock
        self._data: dict[str, _Entry] = {}
        self._deadlines: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._data)

    async def save_code(self, phone: str, code: str) -> None:
        self._put(LOGIN_CODE_KEY + phone, code, self.code_ttl)

    async def get_code(self, phone: str) -> str | None:
        value = self._get(LOGIN_CODE_KEY + phone)
        return value if isinstance(value, str) else None

    async def save_user(self, token: str, user: UserDTO) -> None:
        self._put(LOGIN_USER_KEY + token, user, self.user_ttl)

    async def load_user(self, token: str) -> UserDTO | None:
        key = LOGIN_USER_KEY + token
        value = self._get(key)
        if not isinstance(value, UserDTO):
            return None
        entry = self._data[key]
        entry.deadline = self._clock() + self.user_ttl
        return value

    async def delete_user(self, token: str) -> None:
        self._data.pop(LOGIN_USER_KEY + token, None)

    async def ping(self) -> None:
        return None

    def _get(self, key: str) -> str | UserDTO | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.deadline <= self._clock():
            del self._data[key]
            return None
        return entry.value

    def _put(self, key: str, value: str | UserDTO, ttl: float) -> None:
        now = self._clock()
        self._sweep(now)
        deadline = now + ttl
        self._data[key] = _Entry(value, deadline)
        heapq.heappush(self._deadlines, (deadline, key))

    def _sweep(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            queued, key = heapq.heappop(self._deadlines)
            entry = self._data.get(key)
            if entry is None or entry.queued != queued:
                continue
            if entry.deadline <= now:
                del self._data[key]
            else:
                entry.queued = entry.deadline
                heapq.heappush(self._deadlines, (entry.deadline, key))
