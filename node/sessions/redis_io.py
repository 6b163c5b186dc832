"""How the Redis backends go to Redis: every call through one wrapper, and
the commands and scripts on a request's path (its session read, a login's
rules) as one batch for all the requests that arrive while Redis answers."""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ReadOnlyError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..redis_client import RedisClient
from .redis_tap import Replies, Tap

T = TypeVar("T")
# What a script's ARGV takes.
Arg = str | int | float


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
    """The commands and scripts of every request that arrives while Redis
    answers the previous ones, sent as one batch: one write and one read
    for all.

    One batch is in flight at a time; what arrives meanwhile waits for it
    and goes next, all together, so the busier the node the larger the
    batch and the cheaper each script.  Nothing is cached: each request
    still runs its own script, so each read pushes its TTL back and a
    logout is seen by the next request on any node.  A failed batch fails
    its requests, and those waiting behind it, at once; the next batch
    reconnects.

    On one server or Sentinel the batch goes over a connection of its own,
    taken from the client's pool once (redis-py connects it, authenticates,
    and finds Sentinel's master), with one deadline for the whole batch
    instead of one per reply: `make bench` measured a pipeline's per-reply
    timeouts and pool round trips costing more than the read itself, and
    redis-py's call of one command makes a task (``asyncio.wait_for``) on
    Python 3.11.  Its replies are read in the transport's callback
    (redis_tap.py), so on a connection already open a batch is written and
    answered with no task and no await (`make bench-instr`: 5 % of a
    redis-mode request's instructions); connecting, a retry and a NOSCRIPT
    go the task's way.  On a Redis Cluster it is a pipeline, which routes
    each key to its master."""

    def __init__(self, redis: RedisClient, trips: RoundTrips) -> None:
        self._redis = redis
        self.trips = trips  # shared: the backends count their own calls there too
        self._texts: dict[str, str] = {}  # by SHA-1: for a Redis that lost them
        self._waiting: list[_Call] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._in_flight = False
        self._own = isinstance(redis, Redis)  # not a RedisCluster
        self._conn: AbstractConnection | None = None
        self._tap: Tap | None = None  # on self._conn's current transport
        # The batch sent on the tap and not yet answered, when, and the
        # timer that fails it if Redis does not answer in time.
        self._flying: list[_Call] | None = None
        self._sent_at = 0.0
        self._watcher: asyncio.TimerHandle | None = None

    def script(self, text: str) -> BatchScript:
        sha = hashlib.sha1(text.encode()).hexdigest()
        self._texts[sha] = text
        return BatchScript(self, sha)

    def commands(self, *argvs: tuple[Arg, ...]) -> asyncio.Future[list[Any]]:
        """Plain commands, run one after the other in the next batch; their
        replies, in order (an error reply fails the whole call)."""
        future = asyncio.get_running_loop().create_future()
        self.queue(_Call(argvs, future))
        return future

    def on_key(self, shape: OnKey, key: str) -> asyncio.Future[list[Any]]:
        """``shape``'s commands on ``key``, as :meth:`commands` runs them.
        On a Redis Cluster they go as one script of them: `make bench-ab
        --topology cluster` measured two commands through redis-py's
        cluster pipeline 48 % dearer a request than one script."""
        future = asyncio.get_running_loop().create_future()
        if self._own:
            self.queue(_Call(None, future, packed=shape.packed(key), count=shape.count))
        else:
            self._texts.setdefault(shape.sha, shape.lua)
            self.queue(_Call((("EVALSHA", shape.sha, 1, key),), future, shape.sha))
        return future

    def queue(self, call: _Call) -> None:
        self._waiting.append(call)
        if len(self._waiting) == 1 and not self._in_flight:
            # After every callback already due in this tick: the requests
            # that arrived with this one join the batch first.
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        if self._in_flight or not self._waiting:
            return
        batch, self._waiting = self._waiting, []
        self._in_flight = True
        tap, conn = self._tap, self._conn
        if tap is not None and conn is not None and conn._writer is not None and tap.usable():
            # The common case: written now, answered in the transport's
            # callback (_answered), without a task or an await.
            self.trips.count += 1
            self._flying = batch
            if conn.socket_timeout:
                self._watch(conn.socket_timeout)
            packed, count = _packed(batch)
            tap.expect(count, functools.partial(self._answered, batch))
            try:
                conn._writer.write(packed)
            except (RuntimeError, AttributeError) as exc:  # closed under us (RoundTrips says more)
                tap.forget()
                self._answered(batch, exc)
            return
        self._spawn(self._send(batch))

    def _watch(self, timeout: float) -> None:
        """The batch just sent fails if unanswered in ``timeout``.  One
        timer watches every batch, not a timer each: making and cancelling
        one a batch cost more than the batch's own bookkeeping."""
        loop = asyncio.get_running_loop()
        self._sent_at = loop.time()
        if self._watcher is None:
            self._watcher = loop.call_at(self._sent_at + timeout, self._check, timeout)

    def _check(self, timeout: float) -> None:
        self._watcher = None
        batch = self._flying
        if batch is None:
            return  # answered; the next batch sent starts the watch again
        due = self._sent_at + timeout
        if asyncio.get_running_loop().time() >= due:
            self._timed_out(batch)
        else:  # a later batch: watched until its own time is up
            self._watcher = asyncio.get_running_loop().call_at(due, self._check, timeout)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._sending.add(task)  # held until done, so it is not collected
        task.add_done_callback(self._sending.discard)

    def _answered(self, batch: list[_Call], replies: Replies | BaseException) -> None:
        self._flying = None
        if isinstance(replies, BaseException) or any(isinstance(r, ReadOnlyError) for r in replies.errors):
            # The connection died, or Sentinel made this server a replica:
            # once more on a fresh connection, as the task's way does.
            self._tap = None
            self._spawn(self._send(batch, attempts=1, reconnect=True))
            return
        results = self._replies(batch, replies.all, errors=bool(replies.errors))
        if any(isinstance(error, NoScriptError) for error in replies.errors):
            self._spawn(self._send(batch, results=results))
            return
        self._next()
        self._settle(batch, results)

    def _timed_out(self, batch: list[_Call]) -> None:
        self._flying = None
        tap, self._tap = self._tap, None
        if tap is not None:
            tap.forget()
        self._fail(batch, RedisTimeoutError("Redis did not answer the batch in time"))
        self._spawn(self._send([], reconnect=True))  # closes it; the next batch connects afresh

    async def _send(
        self,
        batch: list[_Call],
        *,
        results: list[Any] | None = None,
        attempts: int = 2,
        reconnect: bool = False,
    ) -> None:
        """The batch the task's way: connecting first if need be (or
        afresh, with ``reconnect``); ``results`` if it has them already."""
        try:
            if reconnect and self._conn is not None:
                self._tap = None
                await self._conn.disconnect(nowait=True)
            if results is None:
                results = await self._execute(batch, attempts) if batch else []
            lost = [i for i, result in enumerate(results) if isinstance(result, NoScriptError)]
            if lost:
                # Redis restarted and its scripts are gone.  Those refused
                # did not run: load theirs and send them again, them only
                # (a login's scripts count tries: none may run twice).
                for sha in {sha for i in lost if (sha := batch[i].sha) is not None}:
                    await self.trips(self._redis.script_load(self._texts[sha]))
                again = await self._execute([batch[i] for i in lost], attempts)
                for i, result in zip(lost, again, strict=True):
                    results[i] = result
        except BaseException as exc:
            self._fail(batch, exc)
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            self._next()
        self._settle(batch, results)

    def _next(self) -> None:
        self._in_flight = False
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._flush)

    def _fail(self, batch: list[_Call], exc: BaseException) -> None:
        """Every waiting request hears of it, at once: those that arrived
        behind the batch would wait as long again for the same Redis; the
        next arrivals try afresh."""
        behind, self._waiting = self._waiting, []
        for call in (*batch, *behind):
            if not call.future.done():
                call.future.set_exception(exc)

    @staticmethod
    def _settle(batch: list[_Call], results: list[Any]) -> None:
        for call, result in zip(batch, results, strict=True):
            if call.future.done():
                continue
            if isinstance(result, Exception):
                call.future.set_exception(result)
            else:
                call.future.set_result(result)

    def _replies(self, batch: list[_Call], flat: list[Any], *, errors: bool = True) -> list[Any]:
        """Each call's reply, out of the batch's ``flat`` list: a script's
        own; a call of plain commands, the list of theirs, or its first
        error (looked for only if the batch has ``errors``)."""
        results: list[Any] = []
        at = 0
        for call in batch:
            if call.sha is not None:
                results.append(flat[at])
                at += 1
                continue
            replies = flat[at : at + call.count]
            at += call.count
            error = next((r for r in replies if isinstance(r, Exception)), None) if errors else None
            results.append(replies if error is None else error)
        return results

    async def _execute(self, batch: list[_Call], attempts: int) -> list[Any]:
        if not self._own:
            async with self._redis.pipeline(transaction=False) as pipe:
                for call in batch:
                    # Not pipe.evalsha, which redis-py refuses on a Redis Cluster:
                    # a call's keys share a slot, and go to its master.
                    assert call.argvs is not None  # on a cluster, never only packed
                    for argv in call.argvs:
                        pipe.execute_command(*argv)
                return self._replies(batch, list(await self.trips(pipe.execute(raise_on_error=False))))
        packed, count = _packed(batch)
        # Once more on a connection error, as the client's own retry does: the
        # socket that died with a Redis restart or a failover; a fresh one works.
        for attempt in range(1, attempts + 1):
            try:
                return self._replies(batch, await self.trips(self._exchange(packed, count)))
            except RedisConnectionError:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, packed: bytes, count: int) -> list[Any]:
        """Send the ``packed`` commands and read their ``count`` replies
        (errors as values) within one socket_timeout; any failure closes
        the connection."""
        if self._conn is None:
            self._conn = await self._redis.connection_pool.get_connection()  # type: ignore[union-attr]
        conn = self._conn
        try:
            async with asyncio.timeout(conn.socket_timeout):
                reader = conn._reader
                if reader is not None and (reader.at_eof() or reader.exception() is not None):
                    # Closed under us (a tap tells the stream), and redis-py
                    # has not noticed; a connection from the pool may be too.
                    await conn.disconnect(nowait=True)
                if not conn.is_connected:
                    await conn.connect()
                writer = conn._writer
                assert writer is not None  # connected
                tap = self._tap
                if tap is None or tap.transport is not writer.transport:
                    tap = self._tap = Tap(conn, writer.transport)  # a new connection
                answered: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
                tap.expect(count, functools.partial(_resolve, answered))
                writer.write(packed)
                await writer.drain()
                replies = await answered
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


def _packed(batch: list[_Call]) -> tuple[bytes, int]:
    """The batch's commands as one write, and how many replies they get."""
    return b"".join([call.packed for call in batch]), sum([call.count for call in batch])


def _resolve(future: asyncio.Future[list[Any]], result: Replies | BaseException) -> None:
    if future.done():  # its time ran out
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result.all)


def ms(seconds: float) -> int:
    """A TTL in ms; at least 1, as PEXPIRE 0 would delete the key."""
    return max(1, round(seconds * 1000))


class BatchScript:
    """A Lua script run in a TickBatch: ``await script(keys=[...], args=[...])``
    answers its reply, as redis-py's ``Script`` does."""

    def __init__(self, batch: TickBatch, sha: str) -> None:
        self._batch = batch
        self.sha = sha

    def __call__(self, keys: list[str], args: Sequence[Arg]) -> asyncio.Future[Any]:
        future = asyncio.get_running_loop().create_future()
        self._batch.queue(_Call((("EVALSHA", self.sha, len(keys), *keys, *args),), future, self.sha))
        return future


class OnKey:
    """Commands on one key whose other words never change, e.g.
    ``OnKey(("HMGET", "id", "nickName"), ("PEXPIRE", 1800000))`` (the key
    goes second): packed once, so that a call only formats its key in.
    Packing every word of a session read on every request was 5 % of a
    redis-mode node's profile."""

    def __init__(self, *commands: tuple[Arg, ...]) -> None:
        self._commands = commands
        self.count = len(commands)  # replies
        # Each command's words in RESP, with the key's place left as %d
        # (its length) and %s (its bytes): one %-format a call.
        self._format = b"".join(
            [
                b"*%d\r\n" % (len(words) + 1)
                + b"".join(_bulks(words[:1])).replace(b"%", b"%%")
                + b"$%d\r\n%s\r\n"
                + b"".join(_bulks(words[1:])).replace(b"%", b"%%")
                for words in commands
            ]
        )
        # The same as one script, for a Redis Cluster: it answers their
        # replies, as a list.  No flags: Redis refuses at maxmemory only a
        # command that needs memory.
        calls = [
            "redis.call(" + ", ".join([f"'{words[0]}'", "KEYS[1]", *(f"'{w}'" for w in words[1:])]) + ")"
            for words in commands
        ]
        self.lua = f"return {{{', '.join(calls)}}}\n"
        self.sha = hashlib.sha1(self.lua.encode()).hexdigest()

    def argvs(self, key: str) -> tuple[tuple[Arg, ...], ...]:
        return tuple((words[0], key, *words[1:]) for words in self._commands)

    def packed(self, key: str) -> bytes:
        data = key.encode()
        return self._format % ((len(data), data) * self.count)


class _Call:
    """One request's commands waiting for their batch: a script (``sha``
    given: one EVALSHA, whose reply is the call's), or plain commands.
    Packed when made, or given ``packed`` (with their ``count``) by an
    OnKey: each call is packed once, however often its batch is sent."""

    __slots__ = ("argvs", "count", "future", "packed", "sha")

    def __init__(
        self,
        argvs: tuple[tuple[Arg, ...], ...] | None,
        future: asyncio.Future[Any],
        sha: str | None = None,
        *,
        packed: bytes | None = None,
        count: int = 0,
    ) -> None:
        self.argvs, self.future, self.sha = argvs, future, sha
        if packed is None:
            assert argvs is not None  # one or the other
            packed, count = _pack(argvs), len(argvs)
        self.packed, self.count = packed, count  # count: of replies


def _pack(argvs: tuple[tuple[Arg, ...], ...]) -> bytes:
    """Commands in Redis's protocol (RESP), by hand: redis-py's packer
    encodes each argument through its Encoder, and `make bench`'s profile
    showed it costing more than the reply's parsing."""
    return b"".join([b"*%d\r\n%s" % (len(argv), b"".join(_bulks(argv))) for argv in argvs])


def _bulks(words: tuple[Arg, ...]) -> list[bytes]:
    # As redis-py writes them: str() is repr() for a float, digits for an
    # int, the text itself for a str (a bool is no Arg: redis-py refuses it).
    # Comprehensions, not a call a word: a login's scripts have about 45
    # words between them (py-spy: 2.6 % of a login).
    return [b"$%d\r\n%s\r\n" % (len(data), data) for data in [str(word).encode() for word in words]]
