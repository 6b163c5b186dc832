"""The fix: sessions in Redis, shared by every node.

Each rule that reads and then writes is one Lua script, so that requests
racing on many nodes cannot slip between the read and the write (two nodes
accepting one code, a 6th guess judged before the 5th was counted).  The
time the rules use is passed in (ARGV ``now``), like the memory store's.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
import traceback
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

import redis.asyncio.connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.typing import EncodableT

from ..models import UserDTO
from ..redis_client import RedisClient
from .base import (
    DAY_MS,
    HOUR_MS,
    LOGIN_CODE_KEY,
    LOGIN_FAIL_KEY,
    LOGIN_LOCK_KEY,
    LOGIN_SENT_KEY,
    LOGIN_USER_KEY,
    Attempt,
    Limits,
    Refusal,
    SessionStore,
    phone_tag,
)

# KEYS: code, sent, lock.  ARGV: now, mac, code ttl, interval, per hour,
# per day (ms and counts).  The sending rules of base.send_refusal, then the
# new code replaces the old one with its tries at 0.  A wait is never longer
# than its window: ``now`` is read on the node before the script runs, so a
# request may carry a time a little before a send that ran first.
_SAVE_CODE = f"""
local now = tonumber(ARGV[1])
local locked = redis.call('PTTL', KEYS[3])
if locked > 0 then return {{'locked', locked}} end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - {DAY_MS})
local sent = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
local n = #sent / 2
if n > 0 and tonumber(ARGV[4]) > 0 then
  local wait = tonumber(sent[2 * n]) + tonumber(ARGV[4]) - now
  if wait > 0 then return {{'interval', math.min(wait, tonumber(ARGV[4]))}} end
end
local rules = {{{{'hour', {HOUR_MS}, tonumber(ARGV[5])}}, {{'day', {DAY_MS}, tonumber(ARGV[6])}}}}
for _, rule in ipairs(rules) do
  local inside = {{}}
  for i = 2, #sent, 2 do
    local t = tonumber(sent[i])
    if t > now - rule[2] then table.insert(inside, t) end
  end
  if #inside >= rule[3] then
    return {{rule[1], math.min(inside[#inside - rule[3] + 1] + rule[2] - now, rule[2])}}
  end
end
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[2], {DAY_MS})
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'mac', ARGV[2], 'tries', 0)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {{'ok', 0}}
"""

# KEYS: code, lock.  ARGV: max tries.  Counts the try before anyone judges it.
# A try past the last is refused but leaves the code alone: the tries still
# being judged may hold the right one (the last wrong one burns it, in
# _RECORD_FAILURE).
_TAKE_ATTEMPT = """
local locked = redis.call('PTTL', KEYS[2])
if locked > 0 then return {'locked', '', locked} end
local mac = redis.call('HGET', KEYS[1], 'mac')
if not mac then return {'none', '', 0} end
if redis.call('HINCRBY', KEYS[1], 'tries', 1) > tonumber(ARGV[1]) then
  return {'burned', '', 0}
end
return {'judge', mac, 0}
"""

# KEYS: code, fail.  ARGV: mac.  Compares the stored hash with itself (the
# value the caller read), not with anything a client sent.
_CONSUME_CODE = """
if redis.call('HGET', KEYS[1], 'mac') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""

# KEYS: code, fail, lock.  ARGV: max tries, max failures, window, lockout.
# The code is burned by its last wrong judgement (the max tries-th), not by
# the count of tries: a right try judged at the same time still logs in.
_RECORD_FAILURE = """
if redis.call('EXISTS', KEYS[1]) == 1
   and redis.call('HINCRBY', KEYS[1], 'wrong', 1) >= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1])
end
local fails = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
if fails >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[3], '1', 'PX', ARGV[4])
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""

# KEYS: session.  ARGV: now, idle ttl.  Read the user and push the idle TTL
# back, never past the absolute expiry `exp`: one round trip per request.
_LOAD_AND_TOUCH = """
local f = redis.call('HMGET', KEYS[1], 'id', 'nickName', 'icon', 'exp')
if not f[1] then return false end
-- A session from before absolute expiry existed has no `exp`: idle TTL only.
local exp = tonumber(f[4]) or (tonumber(ARGV[1]) + tonumber(ARGV[2]))
local left = math.min(tonumber(ARGV[2]), exp - tonumber(ARGV[1]))
if left <= 0 then
  redis.call('DEL', KEYS[1])
  return false
end
redis.call('PEXPIRE', KEYS[1], left)
return {f[1], f[2], f[3]}
"""


P = ParamSpec("P")
T = TypeVar("T")


class _Counted(Protocol):
    round_trips: int


S = TypeVar("S", bound=_Counted)


def _round_trip(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """A method that goes to Redis once: counted in ``round_trips`` (for
    /cluster/info; an empty list, which goes nowhere, counts too).

    And a connection closed under the call becomes a connection error: the
    store was out of reach, a 503, not a 500.  redis-py's cluster client
    closes every connection it holds, those other requests are using
    included, when a pipeline meets a dead master (to read the slot map
    again); the request that was writing on one then gets uvloop's "the
    handler is closed" RuntimeError, or an AttributeError from redis-py
    itself (its writer already gone).  Either is told by where it was
    raised, inside redis-py's connection code; anywhere else a RuntimeError
    or an AttributeError is a bug and stays one."""

    @functools.wraps(method)
    async def call(counted: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        counted.round_trips += 1
        try:
            return await method(counted, *args, **kwargs)
        except (RuntimeError, AttributeError) as exc:
            if not _raised_in_redis_connection(exc):
                raise
            raise RedisConnectionError(f"connection closed under the request: {exc!r}") from exc

    return call


def _raised_in_redis_connection(exc: BaseException) -> bool:
    return any(
        frame.f_globals.get("__name__") == redis.asyncio.connection.__name__
        for frame, _ in traceback.walk_tb(exc.__traceback__)
    )


class _TickBatch:
    """The session reads of every request that arrives in one event-loop
    tick, sent to Redis as one pipeline: one write and one read for all of
    them, where each request alone would pay redis-py's whole path.

    Nothing is cached: each request still runs its own script (so every
    request pushes its TTL back, and a logout is seen by the next request on
    any node).  A failed send fails every request waiting on it at once, and
    the next tick takes a fresh connection from the pool.
    """

    def __init__(self, redis: RedisClient, script: str) -> None:
        self._redis = redis
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest()
        self._waiting: list[tuple[str, int, int, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self.round_trips = 0

    def run(self, key: str, now: int, ttl: int) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((key, now, ttl, future))
        if len(self._waiting) == 1:
            # After every callback already due in this tick: the other
            # requests that arrived with this one join the batch first.
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._send(batch))
        self._sending.add(task)  # held until done, so it is not collected
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[str, int, int, asyncio.Future[Any]]]) -> None:
        try:
            results = await self._pipeline(batch)
            if any(isinstance(r, NoScriptError) for r in results):  # Redis restarted: scripts are gone
                await self._load_script()
                results = await self._pipeline(batch)
        except BaseException as exc:  # every waiting request hears of it, at once
            for *_, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (*_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    @_round_trip
    async def _load_script(self) -> None:
        await self._redis.script_load(self._script)

    @_round_trip
    async def _pipeline(self, batch: list[tuple[str, int, int, asyncio.Future[Any]]]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, now, ttl, _ in batch:
                # Not pipe.evalsha: redis-py refuses that on a Redis Cluster,
                # for fear of a script whose keys span servers.  This one has
                # one key, and the pipeline sends it to the server that holds it.
                pipe.execute_command("EVALSHA", self._sha, 1, key, now, ttl)
            return list(await pipe.execute(raise_on_error=False))


class RedisSessionStore(SessionStore):
    kind = "redis"

    def __init__(self, redis: RedisClient, limits: Limits, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(limits, clock=clock)
        self._redis = redis
        self._save_code = redis.register_script(_SAVE_CODE)
        self._take_attempt = redis.register_script(_TAKE_ATTEMPT)
        self._consume_code = redis.register_script(_CONSUME_CODE)
        self._record_failure = redis.register_script(_RECORD_FAILURE)
        self._load_and_touch = _TickBatch(redis, _LOAD_AND_TOUCH)
        self.round_trips = 0  # of every call but the batched reads, which count their own

    # --- codes ------------------------------------------------------------
    @_round_trip
    async def save_code(self, phone: str, mac: str) -> Refusal | None:
        tag, lim = phone_tag(phone), self.limits
        status, wait = await self._save_code(
            keys=[LOGIN_CODE_KEY + tag, LOGIN_SENT_KEY + tag, LOGIN_LOCK_KEY + tag],
            args=[
                self._now_ms(),
                mac,
                _ms(lim.code_ttl),
                round(lim.send_interval * 1000),  # may be 0: no interval
                lim.send_per_hour,
                lim.send_per_day,
            ],
        )
        return None if status == "ok" else Refusal(status, int(wait) / 1000)

    @_round_trip
    async def take_attempt(self, phone: str) -> Attempt:
        tag = phone_tag(phone)
        status, mac, wait = await self._take_attempt(
            keys=[LOGIN_CODE_KEY + tag, LOGIN_LOCK_KEY + tag], args=[self.limits.code_max_tries]
        )
        return Attempt(status, mac, int(wait) / 1000)

    @_round_trip
    async def consume_code(self, phone: str, mac: str) -> bool:
        tag = phone_tag(phone)
        return bool(await self._consume_code(keys=[LOGIN_CODE_KEY + tag, LOGIN_FAIL_KEY + tag], args=[mac]))

    @_round_trip
    async def record_failure(self, phone: str) -> bool:
        tag, lim = phone_tag(phone), self.limits
        locked = await self._record_failure(
            keys=[LOGIN_CODE_KEY + tag, LOGIN_FAIL_KEY + tag, LOGIN_LOCK_KEY + tag],
            args=[
                lim.code_max_tries,
                lim.phone_max_failures,
                _ms(lim.failure_window),
                _ms(lim.phone_lockout),
            ],
        )
        return bool(locked)

    # --- sessions ------------------------------------------------------------
    @_round_trip
    async def save_user(self, session_id: str, user: UserDTO) -> None:
        now, lim = self._now_ms(), self.limits
        key = LOGIN_USER_KEY + session_id
        fields: dict[EncodableT, EncodableT] = {k: v for k, v in user.to_hash().items()}
        fields["exp"] = now + _ms(lim.session_max_age)
        # MULTI/EXEC: a session must never exist without its TTL.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.pexpire(key, _ms(min(lim.user_ttl, lim.session_max_age)))
            await pipe.execute()

    async def load_user(self, session_id: str) -> UserDTO | None:
        fields = await self._load_and_touch.run(
            LOGIN_USER_KEY + session_id, self._now_ms(), _ms(self.limits.user_ttl)
        )
        if not fields:
            return None
        uid, nick, icon = fields
        return UserDTO(id=int(uid), nick_name=nick, icon=icon or "")

    @_round_trip
    async def live_sessions(self, session_ids: list[str]) -> list[str]:
        if not session_ids:
            return []
        # One EXISTS each, not one for all: Redis Cluster needs one slot per command.
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.exists(LOGIN_USER_KEY + sid)
            there = await pipe.execute()
        return [sid for sid, alive in zip(session_ids, there, strict=True) if alive]

    @_round_trip
    async def end_sessions(self, session_ids: list[str]) -> int:
        if not session_ids:
            return 0
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid in session_ids:
                pipe.delete(LOGIN_USER_KEY + sid)
            return sum(await pipe.execute())

    @_round_trip
    async def ping(self) -> None:
        await self._redis.ping()

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "roundTrips": self.round_trips + self._load_and_touch.round_trips}


def _ms(seconds: float) -> int:
    """A TTL in ms; at least 1, as PEXPIRE 0 would delete the key."""
    return max(1, round(seconds * 1000))
