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
from .policy import DAY_MS, IN_FLIGHT, MINUTE_MS, Attempt, Policy, Refusal, budget_wait, send_refusal
from .ttl_dict import TTLDict


class Session:
    """A session as the in-process stores hold it."""

    __slots__ = ("expires_at", "row", "user")

    def __init__(self, user: UserDTO, expires_at: float, row: int = 0) -> None:
        self.user = user
        self.expires_at = expires_at  # absolute: session_max_age from its start
        self.row = row  # its login's row in tb_session (replication weighs marks by it)


class Ended:
    """A logout-all's mark at a session id, for a login of ``row`` in
    flight (SessionStore.end_for_good): the Redis backend's `ended`."""

    __slots__ = ("row",)

    def __init__(self, row: int) -> None:
        self.row = row

    def refuses(self, row: int) -> bool:
        """Whether this mark ends the session of a login of ``row``: its
        own row's, or an earlier one's (the Redis scripts' rule too)."""
        return row <= self.row


class Pending:
    """A rename's fields for a session not stored yet (SessionStore.update_user)."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields


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

    async def save_user(self, session_id: str, user: UserDTO, *, row: int = 0) -> bool:
        policy, key = self.policy, f"token:{session_id}"
        found = self._data.get(key)
        if isinstance(found, Ended) and found.refuses(row):
            return False
        if isinstance(found, Pending):
            user = UserDTO.from_hash({**user.to_hash(), **found.fields})
        self._data.put(
            key,
            Session(user, self._clock() + policy.session_max_age, row),
            min(policy.login_user_ttl, policy.session_max_age),
        )
        return True

    async def load_user(self, session_id: str) -> UserDTO | None:
        key = "token:" + session_id
        data = self._data
        now = data.clock()
        entry = data.entry(key, now)
        if entry is None:
            return None
        session = entry.value
        if session.__class__ is not Session:  # a mark
            return None
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
            key = f"token:{sid}"
            found = self._data.get(key)
            if isinstance(found, Session):
                found.user = UserDTO.from_hash({**found.user.to_hash(), **fields})
                self._data.changed(key)
                updated += 1
            elif not isinstance(found, Ended):
                kept = found.fields if isinstance(found, Pending) else {}
                self._data.put(key, Pending({**kept, **fields}), IN_FLIGHT)
        return updated

    async def live_sessions(self, session_ids: list[str]) -> list[str]:
        return [sid for sid in session_ids if isinstance(self._data.get(f"token:{sid}"), Session)]

    async def end_sessions(self, session_ids: list[str]) -> int:
        return sum(self._data.drop(f"token:{sid}") for sid in session_ids)

    async def end_for_good(self, rows: dict[str, int]) -> int:
        alive = 0
        for sid, row in rows.items():
            key = f"token:{sid}"
            alive += isinstance(self._data.get(key), Session)
            self._data.put(key, Ended(row), IN_FLIGHT)
        return alive

    async def ping(self) -> None:
        return None

    def stats(self) -> dict[str, Any]:
        # Counted, not tracked, and at most once a second: /cluster/info is
        # public, and the count walks every key.
        now = time.monotonic()
        if now - self._counted[0] >= 1.0:
            tokens = [self._data.get(k) for k in self._data if k.startswith("token:")]
            self._counted = (now, sum(isinstance(v, Session) for v in tokens))
        return {**super().stats(), "sessions": self._counted[1], **self._data.stats()}
