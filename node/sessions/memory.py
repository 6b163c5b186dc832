"""The bug, on purpose: login state in this process's memory, like Tomcat's
HttpSession.  Each node has its own dict, so what one node stored the
others never see.  Within its node it keeps every rule the Redis backends
keep, so the only difference between the modes is where the state lives.

Both backends write into one :class:`~.ttl_dict.TTLDict`, which replication
copies to the other nodes (a ReplicatedDict) in SESSION_STORE=replicated.
"""

from __future__ import annotations

import time
from typing import Any

from ..models import UserDTO
from .base import LoginGuard, SessionStore
from .policy import DAY_MS, MINUTE_MS, Attempt, Policy, Refusal, budget_wait, send_refusal
from .ttl_dict import TTLDict


class Session:
    """A session as the in-process stores hold it."""

    __slots__ = ("expires_at", "user")

    def __init__(self, user: UserDTO, expires_at: float) -> None:
        self.user = user
        self.expires_at = expires_at  # absolute: session_max_age from its start


class MemoryLoginGuard(LoginGuard):
    """The keys are the Redis guard's, without the prefix: code:{phone},
    sent:{phone} and sent:{phone}:{source} (lists of [ms, mac]),
    fail:/lock:{phone}:{source}, sms:{minute}."""

    def __init__(self, policy: Policy, data: TTLDict) -> None:
        super().__init__(policy, clock=data.clock)
        self._data = data

    def _sent(self, key: str, now_ms: int) -> list[list[Any]]:
        return [s for s in self._data.get(key) or [] if s[0] > now_ms - DAY_MS]

    async def save_code(self, phone: str, mac: str, *, source: str = "") -> Refusal | None:
        data, policy, now_ms = self._data, self.policy, self._now_ms()
        # The budget first, as the Redis guard spends it, counted only for a send.
        minute = f"sms:{now_ms // MINUTE_MS}"
        spent = (data.get(minute) or 0) + 1
        refusal = budget_wait(spent, now_ms, policy)
        if refusal is not None:
            return refusal
        locked = data.ttl(f"lock:{phone}:{source}")
        if locked > 0:
            return Refusal("locked", locked)
        by_phone = self._sent(f"sent:{phone}", now_ms)
        by_source = self._sent(f"sent:{phone}:{source}", now_ms)
        refusal = send_refusal([t for t, _ in by_phone], [t for t, _ in by_source], now_ms, policy)
        if refusal is not None:
            return refusal
        data.put(minute, spent, MINUTE_MS / 1000)
        data.put(f"sent:{phone}", [*by_phone, [now_ms, mac]], DAY_MS / 1000)
        data.put(f"sent:{phone}:{source}", [*by_source, [now_ms, mac]], DAY_MS / 1000)
        data.put(f"code:{phone}", {"mac": mac, "tries": 0}, policy.login_code_ttl)
        return None

    async def cancel_send(self, phone: str, mac: str, *, source: str = "") -> None:
        data = self._data
        for key in (f"sent:{phone}", f"sent:{phone}:{source}"):
            sent = data.get(key)
            if sent is not None:
                data.put(key, [s for s in sent if s[1] != mac], data.ttl(key))
        code = data.get(f"code:{phone}")
        if code is not None and code["mac"] == mac:
            data.drop(f"code:{phone}")

    async def take_attempt(self, phone: str, *, source: str = "") -> Attempt:
        locked = self._data.ttl(f"lock:{phone}:{source}")
        if locked > 0:
            return Attempt("locked", retry_after=locked)
        code = self._data.get(f"code:{phone}")
        if code is None:
            return Attempt("none")
        code["tries"] += 1
        self._data.changed(f"code:{phone}")
        if code["tries"] > self.policy.code_max_tries:
            # Refused, but the code stays: a try still being judged may hold
            # the right one (the last wrong one burns it, in record_failure).
            return Attempt("burned")
        return Attempt("judge", mac=code["mac"])

    async def refund_attempt(self, phone: str, mac: str) -> None:
        code = self._data.get(f"code:{phone}")
        if code is not None and code["mac"] == mac and code["tries"] > 0:
            code["tries"] -= 1
            self._data.changed(f"code:{phone}")

    async def consume_code(self, phone: str, mac: str, *, source: str = "") -> bool:
        code = self._data.get(f"code:{phone}")
        if code is None or code["mac"] != mac:
            return False
        self._data.drop(f"code:{phone}")
        self._data.drop(f"fail:{phone}:{source}")
        return True

    async def record_failure(self, phone: str, *, source: str = "") -> bool:
        data, policy = self._data, self.policy
        code = data.get(f"code:{phone}")
        if code is not None:
            # Burned by its last wrong judgement, not by the count of tries:
            # a right try judged at the same time still logs in.
            code["wrong"] = code.get("wrong", 0) + 1
            if code["wrong"] >= policy.code_max_tries:
                data.drop(f"code:{phone}")
            else:
                data.changed(f"code:{phone}")
        fails = (data.get(f"fail:{phone}:{source}") or 0) + 1
        if fails >= policy.phone_max_failures:
            data.put(f"lock:{phone}:{source}", True, policy.phone_lockout)
            data.drop(f"fail:{phone}:{source}")
            data.drop(f"code:{phone}")
            return True
        data.put(f"fail:{phone}:{source}", fails, policy.failure_window)
        return False


class MemorySessionStore(SessionStore):
    def __init__(self, policy: Policy, data: TTLDict) -> None:
        super().__init__(policy, clock=data.clock)
        self._data = data
        self.kind = data.kind
        self._counted: tuple[float, int] = (-1e9, 0)  # (when, sessions)

    async def save_user(self, session_id: str, user: UserDTO) -> None:
        policy = self.policy
        self._data.put(
            f"token:{session_id}",
            Session(user, self._clock() + policy.session_max_age),
            min(policy.login_user_ttl, policy.session_max_age),
        )

    async def load_user(self, session_id: str) -> UserDTO | None:
        key = "token:" + session_id
        data = self._data
        now = data.clock()
        entry = data.entry(key, now)
        if entry is None:
            return None
        session: Session = entry.value
        left = session.expires_at - now  # the absolute cap...
        if left <= 0:
            data.expire(key)
            return None
        idle = self.policy.login_user_ttl
        entry.deadline = now + (idle if idle < left else left)  # ...or the idle TTL, whichever is sooner
        if data.hears_touches:
            data.touched(key)
        return session.user

    async def update_user(self, session_ids: list[str], fields: dict[str, str]) -> int:
        updated = 0
        for sid in session_ids:
            session = self._data.get(f"token:{sid}")
            if session is not None:
                session.user = UserDTO.from_hash({**session.user.to_hash(), **fields})
                self._data.changed(f"token:{sid}")
                updated += 1
        return updated

    async def live_sessions(self, session_ids: list[str]) -> list[str]:
        return [sid for sid in session_ids if self._data.get(f"token:{sid}") is not None]

    async def end_sessions(self, session_ids: list[str]) -> int:
        return sum(self._data.drop(f"token:{sid}") for sid in session_ids)

    async def ping(self) -> None:
        return None

    def stats(self) -> dict[str, Any]:
        # Counted, not tracked, and at most once a second: /cluster/info is
        # public, and the count walks every key.
        now = time.monotonic()
        if now - self._counted[0] >= 1.0:
            self._counted = (now, sum(k.startswith("token:") for k in self._data))
        return {**super().stats(), "sessions": self._counted[1], **self._data.stats()}
