"""The two interfaces, one job each, shaped like aiohttp-session's
storages: a backend per store, handed a ready client.

- :class:`LoginGuard` keeps the codes and enforces the login rules of
  SECURITY.md atomically, so that many nodes sharing one Redis cannot race
  past them (the in-process guard keeps them within its process);
- :class:`SessionStore` keeps the sessions (only a SHA-256 of each token).

Both take their numbers from one :class:`~.policy.Policy` and their time
from ``clock`` (seconds since the epoch), passed in so that the rules can
be tested with a fake one.
"""

from __future__ import annotations

import abc
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from ..models import UserDTO
from .policy import Attempt, Policy, Refusal

if TYPE_CHECKING:
    from ..metrics import Metrics


class _Backend:
    """What both interfaces share: the policy, the clock, and the timing of
    every call named in ``timed``, wrapped where each backend defines it so
    that none can forget to report its latency."""

    timed: ClassVar[tuple[str, ...]] = ()
    # Set by the app (node/resources.py); None: calls are not timed.
    metrics: Metrics | None = None

    def __init__(self, policy: Policy, *, clock: Callable[[], float] = time.time) -> None:
        self.policy = policy
        self._clock = clock

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for op in cls.timed:
            impl = cls.__dict__.get(op)
            if impl is not None and not getattr(impl, "__isabstractmethod__", False):
                setattr(cls, op, _timed(op, impl))


class LoginGuard(_Backend, abc.ABC):
    """A phone's codes, sends and failures.  ``source`` is the asking
    client's address: sends and failures count per phone *and* per address,
    so that whoever knows a phone number cannot lock its owner out."""

    timed = (
        "save_code",
        "cancel_send",
        "take_attempt",
        "refund_attempt",
        "consume_code",
        "record_failure",
    )

    @abc.abstractmethod
    async def save_code(self, phone: str, mac: str, *, source: str = "") -> Refusal | None:
        """Keep ``mac`` (a keyed hash of a new code) as the phone's only live
        code, unless the sending rules or the cluster's SMS budget refuse
        (then a Refusal, and nothing is kept or counted)."""

    @abc.abstractmethod
    async def cancel_send(self, phone: str, mac: str, *, source: str = "") -> None:
        """Undo a save_code whose SMS could not go out: a code not sent is no send."""

    @abc.abstractmethod
    async def take_attempt(self, phone: str, *, source: str = "") -> Attempt:
        """Count one try on the phone's code and hand back its hash to judge.
        Tries past ``code_max_tries`` are "burned", not judged, but the code
        stays until a judged try consumes it or the last wrong one burns it:
        50 parallel copies of the right code still log in once."""

    @abc.abstractmethod
    async def refund_attempt(self, phone: str, mac: str) -> None:
        """Give back the try of a right code whose login our own outage cut
        short, if the code is still ``mac`` (never bring a used code back)."""

    @abc.abstractmethod
    async def consume_code(self, phone: str, mac: str, *, source: str = "") -> bool:
        """Delete the code if it is still ``mac``, and clear the address's
        failures: True for exactly one caller however many race."""

    @abc.abstractmethod
    async def record_failure(self, phone: str, *, source: str = "") -> bool:
        """A wrong code: burn the code at its last wrong judgement, count the
        failure for the phone from this address, and lock that address out
        of the phone after ``phone_max_failures``.  True if now locked."""


class SessionStore(_Backend, abc.ABC):
    """Sessions by session id (a hash of the token).  Which sessions a user
    has is Postgres's to know (tb_session): a store keeps one entry per
    session and nothing per user."""

    kind: str
    # load_user is timed by its caller, the request pipeline, inline
    # (node/pipeline.py: Pipeline.guard): a wrapper's coroutine on every request
    # cost more than the read.
    timed = ("save_user", "update_user", "live_sessions", "end_sessions", "end_for_good", "ping")

    @abc.abstractmethod
    async def save_user(self, session_id: str, user: UserDTO, *, row: int = 0) -> bool:
        """Start a session for ``user`` (its row in tb_session is ``row``),
        with the fields a rename left for it (update_user) in place of the
        ones its login read; False, and nothing stored, if a logout-all
        ended that row (or a later one) first (end_for_good)."""

    @abc.abstractmethod
    async def load_user(self, session_id: str) -> UserDTO | None:
        """The session's user, its idle TTL pushed back to ``login_user_ttl``
        but never past ``session_max_age`` from its start; None if there is
        no such session."""

    @abc.abstractmethod
    async def update_user(self, session_ids: list[str], fields: dict[str, str]) -> int:
        """Change these fields (by their hash names: ``nickName``) of the user
        in each of these sessions that is alive, without touching its TTL;
        how many were.  Where none is stored (a login in flight, or a
        session gone), the fields wait for save_user for IN_FLIGHT."""

    @abc.abstractmethod
    async def live_sessions(self, session_ids: list[str]) -> list[str]:
        """Those of ``session_ids`` that are alive, in the order given."""

    @abc.abstractmethod
    async def end_sessions(self, session_ids: list[str]) -> int:
        """End these sessions (all of a user's, for logout-all); how many were alive."""

    @abc.abstractmethod
    async def end_for_good(self, rows: dict[str, int]) -> int:
        """Logout-all: end these sessions (session id: its row id), and
        leave in each one's place, for IN_FLIGHT, a mark that refuses the
        save of a login of that row still in flight; how many were alive."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the store cannot answer."""

    def stats(self) -> dict[str, Any]:
        """What /cluster/info shows of the store, for the comparisons."""
        return {"kind": self.kind}


def _timed(op: str, impl: Callable[..., Any]) -> Callable[..., Any]:
    # On every request's path: timed inline, no extra coroutine.
    @functools.wraps(impl)
    async def call(self: _Backend, *args: Any, **kwargs: Any) -> Any:
        metrics = self.metrics
        if metrics is None:
            return await impl(self, *args, **kwargs)
        started = time.perf_counter()
        try:
            return await impl(self, *args, **kwargs)
        except Exception as exc:
            metrics.store_error(op, exc)
            raise
        finally:
            metrics.store_time(op, time.perf_counter() - started)

    return call
