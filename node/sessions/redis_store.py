"""The fix: login state in Redis, shared by every node."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from ..models import UserDTO
from ..outages import SESSION_STORE_DOWN
from ..redis_client import RedisClient
from . import redis_scripts
from .base import LoginGuard, SessionStore
from .keys import (
    LOGIN_FAIL_KEY,
    LOGIN_LOCK_KEY,
    LOGIN_SENT_KEY,
    LOGIN_USER_KEY,
    SMS_BUDGET_KEY,
    phone_source,
    phone_tag,
)
from .policy import IN_FLIGHT, MINUTE_MS, Attempt, Policy, Refusal
from .redis_io import Arg, OnKey, RoundTrips, TickBatch, ms

_IN_FLIGHT_MS = ms(IN_FLIGHT)  # a mark's TTL (redis_scripts)


class _OnRedis:
    """A backend handed a ready client; ``batch`` (and its count of round
    trips) shared by a node's two, so that a login's scripts and the
    session reads of the requests around it go to Redis together."""

    def __init__(
        self,
        redis: RedisClient,
        policy: Policy,
        *,
        clock: Callable[[], float] = time.time,
        batch: TickBatch | None = None,
    ) -> None:
        super().__init__(policy, clock=clock)  # type: ignore[call-arg]  # the backend's interface
        self._redis = redis
        self._batch = batch or TickBatch(redis, RoundTrips())
        self._trips = self._batch.trips


class RedisLoginGuard(_OnRedis, LoginGuard):
    def __init__(self, redis: RedisClient, policy: Policy, **kwargs: Any) -> None:
        super().__init__(redis, policy, **kwargs)
        script = self._batch.script
        self._save_code = script(redis_scripts.SAVE_CODE)
        self._spend_sms = script(redis_scripts.SPEND_SMS)
        self._cancel_send = script(redis_scripts.CANCEL_SEND)
        self._take_attempt = script(redis_scripts.TAKE_ATTEMPT)
        self._refund_attempt = script(redis_scripts.REFUND_ATTEMPT)
        self._consume_code = script(redis_scripts.CONSUME_CODE)
        self._record_failure = script(redis_scripts.RECORD_FAILURE)

    async def save_code(self, phone: str, mac: str, *, source: str = "") -> Refusal | None:
        tag, policy, now = phone_tag(phone), self.policy, self._now_ms()
        # The budget first, so that a refusal leaves the phone's code as it
        # was.  One key for the whole cluster: a command of its own (on a
        # Redis Cluster it lives in another slot than the phone's keys).
        minute = SMS_BUDGET_KEY + str(now // MINUTE_MS)
        over = await self._spend_sms(keys=[minute], args=[now, policy.sms_per_minute])
        if int(over):
            return Refusal("busy", int(over) / 1000)
        try:
            status, wait = await self._save_code(
                keys=[
                    self.policy.code_key(phone),
                    LOGIN_SENT_KEY + tag,
                    LOGIN_SENT_KEY + phone_source(phone, source),
                    LOGIN_LOCK_KEY + phone_source(phone, source),
                ],
                args=[
                    now,
                    mac,
                    ms(policy.login_code_ttl),
                    round(policy.send_interval * 1000),  # may be 0: no interval
                    policy.send_per_hour,
                    policy.send_per_day,
                    policy.phone_sends_per_day,
                ],
            )
        except BaseException:
            with contextlib.suppress(*SESSION_STORE_DOWN):
                await self._trips(self._redis.decr(minute))
            raise
        if status != "ok":
            await self._trips(self._redis.decr(minute))  # not sent: not spent
            return Refusal(status, int(wait) / 1000)
        return None

    async def cancel_send(self, phone: str, mac: str, *, source: str = "") -> None:
        tag = phone_tag(phone)
        keys = [
            self.policy.code_key(phone),
            LOGIN_SENT_KEY + tag,
            LOGIN_SENT_KEY + phone_source(phone, source),
        ]
        await self._cancel_send(keys=keys, args=[mac])

    async def take_attempt(self, phone: str, *, source: str = "") -> Attempt:
        keys = [self.policy.code_key(phone), LOGIN_LOCK_KEY + phone_source(phone, source)]
        status, mac, wait = await self._take_attempt(keys=keys, args=[self.policy.code_max_tries])
        return Attempt(status, mac, int(wait) / 1000)

    async def refund_attempt(self, phone: str, mac: str) -> None:
        await self._refund_attempt(keys=[self.policy.code_key(phone)], args=[mac])

    async def consume_code(self, phone: str, mac: str, *, source: str = "") -> bool:
        keys = [self.policy.code_key(phone), LOGIN_FAIL_KEY + phone_source(phone, source)]
        return bool(await self._consume_code(keys=keys, args=[mac]))

    async def record_failure(self, phone: str, *, source: str = "") -> bool:
        policy = self.policy
        locked = await self._record_failure(
            keys=[
                self.policy.code_key(phone),
                LOGIN_FAIL_KEY + phone_source(phone, source),
                LOGIN_LOCK_KEY + phone_source(phone, source),
            ],
            args=[
                policy.code_max_tries,
                policy.phone_max_failures,
                ms(policy.failure_window),
                ms(policy.phone_lockout),
            ],
        )
        return bool(locked)


class RedisSessionStore(_OnRedis, SessionStore):
    """The seed's design: each session a hash at login:token:{id}.  With
    MISTAKE=json-string, the user is one JSON string there instead."""

    kind = "redis"

    def __init__(self, redis: RedisClient, policy: Policy, **kwargs: Any) -> None:
        super().__init__(redis, policy, **kwargs)
        self._as_json = policy.makes("json-string")
        self._refresh = not policy.makes("no-refresh")
        self._idle_ms = ms(policy.login_user_ttl)
        read = ("GET",) if self._as_json else ("HMGET", "id", "nickName", "icon", "exp")
        self._read = OnKey(read, ("PEXPIRE", self._idle_ms)) if self._refresh else OnKey(read)
        script = self._batch.script
        scripts = (
            (redis_scripts.SAVE_JSON, redis_scripts.UPDATE_JSON, redis_scripts.END_JSON)
            if self._as_json
            else (redis_scripts.SAVE_HASH, redis_scripts.UPDATE_HASH, redis_scripts.END_HASH)
        )
        self._save, self._update, self._end = (script(lua) for lua in scripts)

    async def save_user(self, session_id: str, user: UserDTO, *, row: int = 0) -> bool:
        policy = self.policy
        exp = self._now_ms() + ms(policy.session_max_age)
        ttl = ms(min(policy.login_user_ttl, policy.session_max_age))
        args: list[Arg] = [ttl, row]
        if self._as_json:
            args.append(_json({**user.to_json(), "exp": exp}))
        else:
            args += [part for pair in user.to_hash().items() for part in pair] + ["exp", exp]
        return bool(await self._save(keys=[LOGIN_USER_KEY + session_id], args=args))

    async def load_user(self, session_id: str) -> UserDTO | None:
        """Read the user and push the idle TTL back, in one round trip, as
        two plain commands (a Lua script doing both took Redis three times
        as long: docs/benchmark.md; a Redis Cluster gets them as one script,
        redis_io.OnKey).  The TTL is pushed back before the
        absolute expiry ``exp`` is known, so a session within a TTL of its
        end gets a second trip that brings it back to ``exp``; one past it
        is deleted.  A session's ``exp`` never changes (a key is written
        once per login, with a new random id), so the read one is still
        true then.  (With MISTAKE=phone-token a login writes the same key
        again: a request racing it at the old session's very end may end
        the new one.)  A session from before ``exp`` existed has idle TTL
        only.  At maxmemory these still work: none of them needs memory."""
        key = LOGIN_USER_KEY + session_id
        found = (await self._batch.on_key(self._read, key))[0]
        if self._as_json:
            stored = None if found is None else json.loads(found)
            if stored is None or "id" not in stored:  # none, or a mark (redis_scripts)
                return None
            uid, nick, icon, exp = stored["id"], stored["nickName"], stored.get("icon"), stored.get("exp")
        else:
            uid, nick, icon, exp = found
            if uid is None:
                return None
        if exp is not None:
            left = int(exp) - self._now_ms()
            if left <= 0:
                await self._batch.commands(("DEL", key))
                return None
            if self._refresh and left < self._idle_ms:
                await self._batch.commands(("PEXPIRE", key, left))
        return UserDTO(id=int(uid), nick_name=nick, icon=icon or "")

    async def update_user(self, session_ids: list[str], fields: dict[str, str]) -> int:
        if not session_ids:
            return 0
        # MISTAKE=json-string: a string has no fields, so the whole value is
        # read, changed and written back.
        changes = [_json(fields)] if self._as_json else [part for pair in fields.items() for part in pair]
        args: list[Arg] = [_IN_FLIGHT_MS, *changes]
        # One script each (a session is one key, in a slot of its own on a
        # Redis Cluster), all in one batch: a user has few sessions.
        calls = [self._update(keys=[LOGIN_USER_KEY + sid], args=args) for sid in session_ids]
        return sum(await asyncio.gather(*calls))

    async def live_sessions(self, session_ids: list[str]) -> list[str]:
        if not session_ids:
            return []
        # One command each, not one for all: Redis Cluster needs one slot per
        # command.  A session's id, not the key: a mark has none.
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                if self._as_json:
                    pipe.get(LOGIN_USER_KEY + sid)
                else:
                    pipe.hexists(LOGIN_USER_KEY + sid, "id")
            there = await self._trips(pipe.execute())
        if self._as_json:
            there = [value is not None and "id" in json.loads(value) for value in there]
        return [sid for sid, alive in zip(session_ids, there, strict=True) if alive]

    async def end_sessions(self, session_ids: list[str]) -> int:
        if not session_ids:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.delete(LOGIN_USER_KEY + sid)
            return sum(await self._trips(pipe.execute()))

    async def end_for_good(self, rows: dict[str, int]) -> int:
        end = self._end
        calls = [end(keys=[LOGIN_USER_KEY + sid], args=[row, _IN_FLIGHT_MS]) for sid, row in rows.items()]
        return sum(await asyncio.gather(*calls))

    async def ping(self) -> None:
        await self._trips(self._redis.ping())

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "roundTrips": self._trips.count}


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
