"""The bug, on purpose: sessions in this process's memory, like Tomcat's
HttpSession.  Each node has its own dicts, so what one node stored the
others never see.  Within its node it keeps every rule the Redis store
keeps, so the only difference between the modes is where the state lives."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from typing import Any

from ..models import UserDTO
from .base import DAY_MS, Attempt, Limits, Refusal, SessionStore, send_refusal


class _Entry:
    __slots__ = ("deadline", "queued", "value")

    def __init__(self, value: Any, deadline: float) -> None:
        self.value = value
        self.deadline = deadline
        # The deadline of this entry's one live place in the sweep heap;
        # heap items with any other deadline are left over from earlier
        # writes of the key and are dropped when they come up.
        self.queued = deadline


class _Session:
    __slots__ = ("expires_at", "user")

    def __init__(self, user: UserDTO, expires_at: float) -> None:
        self.user = user
        self.expires_at = expires_at  # absolute: session_max_age from its start


class MemorySessionStore(SessionStore):
    """Same TTL semantics as Redis, in one dict with a deadline per key.

    Expired entries are dropped when read and, so that abandoned ones do
    not pile up, swept on every write from a heap of deadlines: a refresh
    only moves an entry's deadline, and the sweep re-queues an entry whose
    deadline moved instead of dropping it.  Every method runs without an
    await, so on one event loop each is atomic, as a Redis script is.
    """

    kind = "memory"

    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(limits, clock=clock)
        self._data: dict[str, _Entry] = {}
        self._deadlines: list[tuple[float, str]] = []
        self._counted: tuple[float, int] = (-1e9, 0)  # (when, sessions)

    def __len__(self) -> int:
        return len(self._data)

    # --- codes ------------------------------------------------------------
    async def save_code(self, phone: str, mac: str) -> Refusal | None:
        now = self._clock()
        locked = self._ttl(f"lock:{phone}")
        if locked > 0:
            return Refusal("locked", locked)
        now_ms = int(now * 1000)
        sent = [t for t in self._get(f"sent:{phone}") or [] if t > now_ms - DAY_MS]
        refusal = send_refusal(sent, now_ms, self.limits)
        if refusal is not None:
            return refusal
        self._put(f"sent:{phone}", [*sent, now_ms], DAY_MS / 1000)
        self._put(f"code:{phone}", {"mac": mac, "tries": 0}, self.limits.code_ttl)
        return None

    async def take_attempt(self, phone: str) -> Attempt:
        locked = self._ttl(f"lock:{phone}")
        if locked > 0:
            return Attempt("locked", retry_after=locked)
        code = self._get(f"code:{phone}")
        if code is None:
            return Attempt("none")
        code["tries"] += 1
        self._changed(f"code:{phone}")
        if code["tries"] > self.limits.code_max_tries:
            # Refused, but the code stays: a try still being judged may hold
            # the right one (the last wrong one burns it, in record_failure).
            return Attempt("burned")
        return Attempt("judge", mac=code["mac"])

    async def consume_code(self, phone: str, mac: str) -> bool:
        code = self._get(f"code:{phone}")
        if code is None or code["mac"] != mac:
            return False
        self._drop(f"code:{phone}")
        self._drop(f"fail:{phone}")
        return True

    async def record_failure(self, phone: str) -> bool:
        code = self._get(f"code:{phone}")
        if code is not None:
            # Burned by its last wrong judgement, not by the count of tries:
            # a right try judged at the same time still logs in.
            code["wrong"] = code.get("wrong", 0) + 1
            if code["wrong"] >= self.limits.code_max_tries:
                self._drop(f"code:{phone}")
            else:
                self._changed(f"code:{phone}")
        fails = (self._get(f"fail:{phone}") or 0) + 1
        if fails >= self.limits.phone_max_failures:
            self._put(f"lock:{phone}", True, self.limits.phone_lockout)
            self._drop(f"fail:{phone}")
            self._drop(f"code:{phone}")
            return True
        self._put(f"fail:{phone}", fails, self.limits.failure_window)
        return False

    # --- sessions ------------------------------------------------------------
    async def save_user(self, session_id: str, user: UserDTO) -> None:
        now = self._clock()
        limits = self.limits
        self._put(
            f"token:{session_id}",
            _Session(user, now + limits.session_max_age),
            min(limits.user_ttl, limits.session_max_age),
        )

    async def load_user(self, session_id: str) -> UserDTO | None:
        key = f"token:{session_id}"
        session = self._get(key)
        if session is None:
            return None
        now = self._clock()
        left = min(self.limits.user_ttl, session.expires_at - now)
        if left <= 0:
            del self._data[key]
            return None
        self._data[key].deadline = now + left
        self._touched(key)
        return session.user  # type: ignore[no-any-return]

    async def live_sessions(self, session_ids: list[str]) -> list[str]:
        return [sid for sid in session_ids if self._get(f"token:{sid}") is not None]

    async def end_sessions(self, session_ids: list[str]) -> int:
        return sum(self._drop(f"token:{sid}") for sid in session_ids)

    def stats(self) -> dict[str, Any]:
        # Counted, not tracked, and at most once a second: /cluster/info is
        # public, and the count walks every key.
        now = time.monotonic()
        if now - self._counted[0] >= 1.0:
            self._counted = (now, sum(k.startswith("token:") for k in self._data))
        return {**super().stats(), "sessions": self._counted[1]}

    async def ping(self) -> None:
        return None

    # --- the dict with deadlines ---------------------------------------------
    def _changed(self, key: str) -> None:
        """Called after every write to ``key`` (not after expiry, which every
        copy does by itself at the same deadline): the hook replication uses."""

    def _touched(self, key: str) -> None:
        """Called after ``key``'s deadline alone moved (a session refreshed)."""

    def _drop(self, key: str) -> bool:
        """Delete ``key``; whether it was there."""
        there = self._data.pop(key, None) is not None
        self._changed(key)
        return there

    def entries(self) -> list[tuple[str, Any, float]]:
        """Every live entry: (key, value, deadline)."""
        now = self._clock()
        return [(key, e.value, e.deadline) for key, e in list(self._data.items()) if e.deadline > now]

    def restore(self, key: str, value: Any, deadline: float | None) -> None:
        """Set (or, with no deadline, delete) an entry as another copy has
        it, without calling the write hook: what arrives is not sent on."""
        now = self._clock()
        if deadline is None or deadline <= now:
            self._data.pop(key, None)
            return
        self._sweep(now)
        entry = self._data.get(key)
        if entry is None:
            self._data[key] = _Entry(value, deadline)
            heapq.heappush(self._deadlines, (deadline, key))
        else:
            entry.value = value
            self._move(entry, key, deadline)

    def extend(self, key: str, deadline: float) -> None:
        """Push a live entry's deadline to ``deadline`` (never back, never
        creating it): a refresh another copy saw."""
        entry = self._data.get(key)
        if entry is not None and entry.deadline > self._clock() and deadline > entry.deadline:
            self._move(entry, key, deadline)

    def _move(self, entry: _Entry, key: str, deadline: float) -> None:
        entry.deadline = deadline
        # Only an earlier deadline needs a new place in the heap: the sweep
        # re-queues an entry whose deadline moved later when its place comes up.
        if deadline < entry.queued:
            entry.queued = deadline
            heapq.heappush(self._deadlines, (deadline, key))

    def _get(self, key: str) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.deadline <= self._clock():
            del self._data[key]
            return None
        return entry.value

    def _ttl(self, key: str) -> float:
        """Seconds left for ``key``; 0 if it is not there."""
        entry = self._data.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.deadline - self._clock())

    def _put(self, key: str, value: Any, ttl: float) -> None:
        now = self._clock()
        self._sweep(now)
        deadline = now + ttl
        self._data[key] = _Entry(value, deadline)
        heapq.heappush(self._deadlines, (deadline, key))
        self._changed(key)

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
