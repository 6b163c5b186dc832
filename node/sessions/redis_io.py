"""How the Redis backends go to Redis: every call through one wrapper, and
the session reads of one event-loop tick as one pipeline."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable
from typing import Any, TypeVar

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError

from ..redis_client import RedisClient

T = TypeVar("T")


class RoundTrips:
    """The one place the backends await redis-py: counts the round trips
    (for /cluster/info), and turns a connection closed under the call into
    a connection error, a 503 rather than a 500.  redis-py's cluster client
    closes all its connections when a pipeline meets a dead master, and a
    request writing on one of them then gets uvloop's RuntimeError or
    redis-py's AttributeError.  Only the awaited I/O is wrapped, so the same
    errors raised by our own code stay bugs."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, io: Awaitable[T]) -> T:
        self.count += 1
        try:
            return await io
        except (RuntimeError, AttributeError) as exc:
            raise RedisConnectionError(f"connection closed under the request: {exc!r}") from exc


class TickBatch:
    """The session reads of every request that arrives in one event-loop
    tick, sent as one pipeline: one write and one read for all of them.

    Nothing is cached: each request still runs its own script, so each
    pushes its TTL back and a logout is seen by the next request on any
    node.  A failed send fails every request waiting on it at once, and the
    next tick takes a fresh connection from the pool."""

    def __init__(self, redis: RedisClient, script: str, trips: RoundTrips) -> None:
        self._redis = redis
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest()
        self._trips = trips
        self._waiting: list[tuple[str, int, int, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()

    def run(self, key: str, now: int, ttl: int) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((key, now, ttl, future))
        if len(self._waiting) == 1:
            # After every callback already due in this tick: the requests
            # that arrived with this one join the batch first.
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._send(batch))
        self._sending.add(task)  # held until done, so it is not collected
        task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[tuple[str, int, int, asyncio.Future[Any]]]) -> None:
        try:
            results = await self._execute(batch)
            if any(isinstance(r, NoScriptError) for r in results):  # Redis restarted: scripts are gone
                await self._trips(self._redis.script_load(self._script))
                results = await self._execute(batch)
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

    async def _execute(self, batch: list[tuple[str, int, int, asyncio.Future[Any]]]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for key, now, ttl, _ in batch:
                # Not pipe.evalsha, which redis-py refuses on a Redis Cluster:
                # this script has one key, and goes to the server that holds it.
                pipe.execute_command("EVALSHA", self._sha, 1, key, now, ttl)
            return list(await self._trips(pipe.execute(raise_on_error=False)))


def ms(seconds: float) -> int:
    """A TTL in ms; at least 1, as PEXPIRE 0 would delete the key."""
    return max(1, round(seconds * 1000))
