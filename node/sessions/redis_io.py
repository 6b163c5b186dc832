"""How the Redis backends go to Redis: every call through one wrapper, and
the session reads of one event-loop tick as one pipeline."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
    """The session reads of every request that arrives while Redis answers
    the previous ones, sent as one batch: one write and one read for all.

    One batch is in flight at a time; what arrives meanwhile waits for it
    and goes next, all together, so the busier the node the larger the
    batch and the cheaper each read.  Nothing is cached: each request still
    runs its own script, so each pushes its TTL back and a logout is seen by
    the next request on any node.  A failed batch fails its requests, and
    those waiting behind it, at once; the next batch reconnects.

    On one server or Sentinel the batch goes over a connection of its own,
    taken from the client's pool once (redis-py connects it, authenticates,
    and finds Sentinel's master), with one deadline for the whole batch
    instead of one per reply: `make bench` measured a pipeline's per-reply
    timeouts and pool round trips costing more than the read itself.  On a
    Redis Cluster it is a pipeline, which routes each key to its master."""

    def __init__(self, redis: RedisClient, script: str, trips: RoundTrips) -> None:
        self._redis = redis
        self._script = script
        self._sha = hashlib.sha1(script.encode()).hexdigest()
        self._trips = trips
        self._waiting: list[tuple[str, int, int, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._in_flight = False
        self._own = isinstance(redis, Redis)  # not a RedisCluster
        self._conn: AbstractConnection | None = None
        # `EVALSHA <sha> 1`, the same for every read: packed once.
        self._head = b"*6\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$1\r\n1\r\n" % self._sha.encode()

    def run(self, key: str, now: int, ttl: int) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((key, now, ttl, future))
        if len(self._waiting) == 1 and not self._in_flight:
            # After every callback already due in this tick: the requests
            # that arrived with this one join the batch first.
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        if self._in_flight or not self._waiting:
            return
        batch, self._waiting = self._waiting, []
        self._in_flight = True
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
            # Those that arrived behind it would wait as long again for the
            # same Redis: they hear it now, and the next arrivals try afresh.
            behind, self._waiting = self._waiting, []
            for *_, future in (*batch, *behind):
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._in_flight = False
            if self._waiting:
                asyncio.get_running_loop().call_soon(self._flush)
        for (*_, future), result in zip(batch, results, strict=True):
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _execute(self, batch: list[tuple[str, int, int, asyncio.Future[Any]]]) -> list[Any]:
        if not self._own:
            async with self._redis.pipeline(transaction=False) as pipe:
                for key, now, ttl, _ in batch:
                    # Not pipe.evalsha, which redis-py refuses on a Redis Cluster:
                    # this script has one key, and goes to the server that holds it.
                    pipe.execute_command("EVALSHA", self._sha, 1, key, now, ttl)
                return list(await self._trips(pipe.execute(raise_on_error=False)))
        packed = [self._pack(key, now, ttl) for key, now, ttl, _ in batch]
        # Once more on a connection error, as the client's own retry does: the
        # socket that died with a Redis restart or a failover; a fresh one works.
        for attempt in (1, 2):
            try:
                return await self._trips(self._exchange(packed))
            except RedisConnectionError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _pack(self, key: str, now: int, ttl: int) -> bytes:
        """One read in Redis's protocol (RESP), by hand: redis-py's packer
        encodes each argument through its Encoder, and `make bench`'s
        profile showed it costing more than the reply's parsing."""
        k, n, t = key.encode(), b"%d" % now, b"%d" % ttl
        return b"%s$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (self._head, len(k), k, len(n), n, len(t), t)

    async def _exchange(self, packed: list[bytes]) -> list[Any]:
        """Send the ``packed`` commands and read their replies (errors as
        values) within one socket_timeout; any failure closes the connection."""
        if self._conn is None:
            self._conn = await self._redis.connection_pool.get_connection()  # type: ignore[union-attr]
        conn = self._conn
        try:
            async with asyncio.timeout(conn.socket_timeout):
                if not conn.is_connected:
                    await conn.connect()
                conn._writer.write(b"".join(packed))  # type: ignore[union-attr]
                await conn._writer.drain()  # type: ignore[union-attr]
                replies = [await conn._parser.read_response() for _ in packed]  # type: ignore[union-attr]
        except TimeoutError:
            await conn.disconnect(nowait=True)
            raise RedisTimeoutError("Redis did not answer the batch in time") from None
        except OSError as exc:
            await conn.disconnect(nowait=True)
            raise RedisConnectionError(f"Redis connection lost: {exc!r}") from exc
        except BaseException:
            await conn.disconnect(nowait=True)
            raise
        if any(isinstance(r, ReadOnlyError) for r in replies):
            # Sentinel promoted another server: this one is a replica now.
            await conn.disconnect(nowait=True)
            raise RedisConnectionError("the master is now a replica")
        return replies


def ms(seconds: float) -> int:
    """A TTL in ms; at least 1, as PEXPIRE 0 would delete the key."""
    return max(1, round(seconds * 1000))
