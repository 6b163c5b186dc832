"""The session-store interface, shaped like aiohttp-session's storages.

A store keeps three things, each with a TTL: login codes by phone (only a
keyed hash of each code), the sending and failure history of each phone,
and sessions by token (only a SHA-256 of each token).  It enforces the
login rules of SECURITY.md atomically, so that many nodes sharing one store
cannot race past them; the memory store keeps the same rules within its
own process.

Time comes from ``clock`` (seconds since the epoch), passed in so that the
rules can be tested with a fake one; Redis still expires its keys by its
own clock, which the rules never read.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ..models import UserDTO

if TYPE_CHECKING:
    from ..metrics import Metrics

# The seed's RedisConstants.  The braces are a Redis Cluster hash tag: every
# key of one phone lands in one slot, so one script can use them all.
LOGIN_CODE_KEY = "login:code:"  # + {phone}: hash {mac, tries}
LOGIN_SENT_KEY = "login:sent:"  # + {phone}: sorted set of send times (ms)
LOGIN_FAIL_KEY = "login:fail:"  # + {phone}: wrong codes since the last success
LOGIN_LOCK_KEY = "login:lock:"  # + {phone}: present while the phone is locked out
LOGIN_USER_KEY = "login:token:"  # + session id (tokens.session_id): hash {id, nickName, icon, exp}

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def phone_tag(phone: str) -> str:
    return "{" + phone + "}"


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """The rules' numbers (seconds, counts); see node.settings."""

    code_ttl: float = 120
    user_ttl: float = 1800
    session_max_age: float = 86400
    max_sessions_per_user: int = 0
    code_max_tries: int = 5
    phone_max_failures: int = 20
    phone_lockout: float = 900
    # Wrong codes are counted for this long after the last one.
    failure_window: float = 86400
    send_interval: float = 60
    send_per_hour: int = 5
    send_per_day: int = 10


class Refusal(NamedTuple):
    """Why a phone may not have what it asked for now, and for how long."""

    reason: Literal["interval", "hour", "day", "locked"]
    retry_after: float  # seconds


class Attempt(NamedTuple):
    """One login try on a phone's code, counted before it is judged."""

    status: Literal["judge", "none", "burned", "locked"]
    mac: str = ""  # the stored keyed hash to judge against, when status is "judge"
    retry_after: float = 0.0  # when status is "locked"


# The calls /metrics times (node/metrics.py), in every backend.
TIMED_OPS = (
    "save_code",
    "take_attempt",
    "consume_code",
    "record_failure",
    "save_user",
    "load_user",
    "live_sessions",
    "end_sessions",
    "ping",
)


class SessionStore(abc.ABC):
    kind: str
    # Set by the app (node/resources.py); None: calls are not timed.
    metrics: Metrics | None = None

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self._clock = clock

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every backend's implementation of a timed call is wrapped where it
        # is defined, so no backend can forget to report its latency.
        super().__init_subclass__(**kwargs)
        for op in TIMED_OPS:
            impl = cls.__dict__.get(op)
            if impl is not None and not getattr(impl, "__isabstractmethod__", False):
                setattr(cls, op, _timed(op, impl))

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    # --- codes ------------------------------------------------------------
    @abc.abstractmethod
    async def save_code(self, phone: str, mac: str) -> Refusal | None:
        """Keep ``mac`` (a keyed hash of a new code) as the phone's only live
        code, unless the phone is locked out or sent too much lately (then
        a Refusal, and nothing is kept)."""

    @abc.abstractmethod
    async def take_attempt(self, phone: str) -> Attempt:
        """Count one try on the phone's code and hand back its hash to judge.

        Tries beyond ``code_max_tries`` are not judged ("burned"), but the
        code stays until a judged try consumes it or the last wrong one
        burns it (record_failure): 50 parallel copies of the right code
        still log in once.
        """

    @abc.abstractmethod
    async def consume_code(self, phone: str, mac: str) -> bool:
        """Delete the code if it is still ``mac``.  True for exactly one
        caller however many race: the one whose login goes on."""

    @abc.abstractmethod
    async def record_failure(self, phone: str) -> bool:
        """A wrong code: burn the code at its last wrong judgement, count the
        failure for the phone, and lock the phone after
        ``phone_max_failures``.  True if the phone is now locked."""

    # --- sessions ------------------------------------------------------------
    @abc.abstractmethod
    async def save_user(self, session_id: str, user: UserDTO) -> None:
        """Start a session for ``user`` under ``session_id`` (a hash of its
        token).  Which sessions a user has is Postgres's to know (tb_session):
        the store keeps one entry per session and nothing per user."""

    @abc.abstractmethod
    async def load_user(self, session_id: str) -> UserDTO | None:
        """The session's user, its idle TTL pushed back to ``user_ttl`` but
        never past ``session_max_age`` from its start; None if there is no
        such session."""

    @abc.abstractmethod
    async def live_sessions(self, session_ids: list[str]) -> list[str]:
        """Those of ``session_ids`` that are alive, in the order given."""

    @abc.abstractmethod
    async def end_sessions(self, session_ids: list[str]) -> int:
        """End these sessions; how many of them were alive."""

    def stats(self) -> dict[str, Any]:
        """What /cluster/info shows of the store, for the comparisons."""
        return {"kind": self.kind}

    async def start(self) -> None:  # noqa: B027  (a hook: most stores need nothing)
        """Before the node serves anyone (the replicated store catches up)."""

    async def close(self) -> None:  # noqa: B027
        """When the node stops (the replicated store stops sending)."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise if the store cannot answer."""


def send_refusal(sent_ms: list[int], now_ms: int, limits: Limits) -> Refusal | None:
    """The sending rules over a phone's send times (ascending, last 24 h).

    The memory store calls this; the Redis store's script is the same logic
    in Lua (redis_store.py).  At most one code per ``send_interval``,
    ``send_per_hour`` an hour, ``send_per_day`` a day, sliding windows.
    A wait is never longer than its window, even for a ``now`` a little
    before the last send (a request that read the clock first, ran second).
    """
    if sent_ms and limits.send_interval > 0:
        wait = sent_ms[-1] + limits.send_interval * 1000 - now_ms
        if wait > 0:
            return Refusal("interval", min(wait, limits.send_interval * 1000) / 1000)
    for reason, window, limit in (
        ("hour", HOUR_MS, limits.send_per_hour),
        ("day", DAY_MS, limits.send_per_day),
    ):
        inside = [t for t in sent_ms if t > now_ms - window]
        if len(inside) >= limit:
            # The one that must age out for a send to fit again.
            wait = min(inside[len(inside) - limit] + window - now_ms, window)
            return Refusal(reason, wait / 1000)  # type: ignore[arg-type]
    return None


def _timed(op: str, impl: Callable[..., Any]) -> Callable[..., Any]:
    # On every request's path: timed inline, no extra coroutine.
    @functools.wraps(impl)
    async def call(self: SessionStore, *args: Any, **kwargs: Any) -> Any:
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
