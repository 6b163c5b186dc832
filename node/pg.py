"""Every call the handlers make to Postgres, bounded in time.

A hung Postgres (frozen, or its host gone silent) must answer its own
routes with a 503 in seconds, well under nginx's 10 s read timeout: a
timeout there counts against the node, and with every node failed nginx
answers 502 to every route, those that need no database included.

asyncpg's own timeouts do not bound it.  A query that times out (its
``timeout`` argument, ``command_timeout``, or an ``asyncio.timeout`` around
it) makes asyncpg send a cancel request, on a new connection that the hung
server never answers, and asyncpg's pool's release waits for that cancel,
up to ``command_timeout`` more: 10 s in all.  So here a statement
that overruns has its connection terminated instead (the socket closed, no
cancel): the server rolls back whatever was open when it reads on, and the
pool opens a new connection at the next take.

The pool is ours (:class:`Pool`); the connections are asyncpg's.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import asyncpg

from .outages import DATABASE_DOWN

# Each step: acquiring a connection (or opening one), one statement, the
# commit, the release.  Ours take milliseconds; a database that has not
# answered in 2 s is treated as down, and a request that meets it answers
# 503 about 2 s after the database stopped.
BOUND = 2.0

T = TypeVar("T")


class Bounded:
    """A pooled connection whose every statement ends within ``BOUND``."""

    def __init__(self, conn: asyncpg.Connection[Any]) -> None:
        self._conn = conn
        self._overran = False
        # False once a step ended without Postgres's answer (cancelled, timed
        # out, lost): the connection may be mid-statement, so it is closed,
        # not reused.
        self.sound = True

    async def fetch(self, query: str, *args: object) -> list[asyncpg.Record]:
        return await self.within(self._conn.fetch(query, *args))

    async def fetchrow(self, query: str, *args: object) -> asyncpg.Record | None:
        return await self.within(self._conn.fetchrow(query, *args))

    async def execute(self, query: str, *args: object) -> str:
        return await self.within(self._conn.execute(query, *args))

    async def within(self, step: Awaitable[T]) -> T:
        # A timer that terminates the connection (not a cancel: see the
        # module's docstring), which fails the step: not asyncio.timeout,
        # whose object, task lookup and state cost a login 4 % (py-spy).
        loop = asyncio.get_running_loop()
        timer = loop.call_at(loop.time() + BOUND, self._overrun)
        try:
            return await step
        except BaseException as exc:
            # The server's refusal of a statement leaves the connection ready;
            # anything else (the connection lost included) may not.
            if not isinstance(exc, asyncpg.PostgresError) or isinstance(exc, asyncpg.PostgresConnectionError):
                self.sound = False
            if self._overran:
                raise TimeoutError(f"Postgres did not answer within {BOUND} s") from exc
            raise
        finally:
            timer.cancel()

    def _overrun(self) -> None:
        self._overran = True
        self._conn.terminate()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """BEGIN, then COMMIT when the block ends, or ROLLBACK if it raises.
        The block's own work (Redis calls, say) is not bounded here."""
        tx = self._conn.transaction()
        await self.within(tx.start())
        try:
            yield
        except BaseException:
            if not self._conn.is_closed():
                # The block's error is the one to report; a connection lost
                # on the way is rolled back by the server all the same.
                with contextlib.suppress(*DATABASE_DOWN):
                    await self.within(tx.rollback())
            raise
        await self.within(tx.commit())


class Pool:
    """At most ``size`` connections to Postgres, each lent to one block at a
    time (:func:`connection`): an idle one, a new one while under ``size``,
    or the next one given back, within ``BOUND``.

    Not asyncpg's pool, whose acquire and release cost a login a fifth of
    the node's CPU (`make bench-ab`: 0.74 -> 0.60 ms): a task for each wait
    and each release, and three timeout contexts.  Here a connection given
    back is reused as it is (no query of ours leaves session state: no SET,
    cursor, LISTEN or session lock), unless its state is in doubt: closed,
    in a transaction, or ``sound`` false.  Then it is closed, and its place
    goes to the first block waiting, which opens another.
    """

    def __init__(self, dsn: str, *, size: int, **connect: Any) -> None:
        self._dsn, self._size = dsn, size
        # A statement the node gave up on (overran, or its task cancelled:
        # its connection is closed, with no cancel request) is ended by the
        # server too, a moment after the node stopped waiting for it.
        settings = {"statement_timeout": str(int((BOUND + 0.5) * 1000)), **connect.pop("server_settings", {})}
        self._connect = {**connect, "server_settings": settings}
        self._idle: list[asyncpg.Connection[Any]] = []
        self._open = 0  # idle, lent, being opened, or a place handed to a waiter
        # A waiter gets a connection, or None: a place of its own, to open one in.
        self._waiters: collections.deque[asyncio.Future[asyncpg.Connection[Any] | None]] = collections.deque()
        self._closed = False

    async def open(self) -> None:
        """One connection now: a database that is down fails the start-up."""
        self.give(await self.take())

    async def take(self) -> asyncpg.Connection[Any]:
        if self._closed:
            raise asyncpg.InterfaceError("the Postgres pool is closed")
        while self._idle:
            conn = self._idle.pop()  # the last given back: the warmest
            if not conn.is_closed():
                return conn
            self._free_place()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BOUND
        if self._open < self._size:
            self._open += 1
        elif (given := await self._wait(loop, deadline)) is not None:
            return given
        return await self._new(deadline - loop.time())

    async def _new(self, seconds: float) -> asyncpg.Connection[Any]:
        """A connection opened in a place already counted."""
        try:
            conn: asyncpg.Connection[Any] = await asyncpg.connect(
                self._dsn, timeout=max(seconds, 0.001), **self._connect
            )
        except BaseException:
            self._free_place()
            raise
        return conn

    async def _wait(self, loop: asyncio.AbstractEventLoop, deadline: float) -> asyncpg.Connection[Any] | None:
        waiter: asyncio.Future[asyncpg.Connection[Any] | None] = loop.create_future()
        self._waiters.append(waiter)

        def expire() -> None:
            if not waiter.done():
                waiter.set_exception(TimeoutError(f"no Postgres connection was free within {BOUND} s"))

        timer = loop.call_at(deadline, expire)
        try:
            return await waiter
        except BaseException:
            # Cancelled just as a connection (or a place) came: pass it on.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                given = waiter.result()
                if given is None:
                    self._free_place()
                else:
                    self._hand(given)
            raise
        finally:
            timer.cancel()

    def give(self, conn: asyncpg.Connection[Any], *, sound: bool = True) -> None:
        if self._closed or not sound or conn.is_closed() or conn.is_in_transaction():
            conn.terminate()
            self._free_place()
        else:
            self._hand(conn)

    def _hand(self, conn: asyncpg.Connection[Any]) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if self._closed:  # a waiter passed it on after the close
            conn.terminate()
            self._open -= 1
        else:
            self._idle.append(conn)

    def _free_place(self) -> None:
        """A connection's place, freed: the first waiter's now (so that no
        newcomer takes it first), or nobody's."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._open -= 1

    async def close(self) -> None:
        """Close the idle connections, and each lent one as it comes back;
        the waiters fail."""
        self._closed = True
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the Postgres pool is closed"))
        self._waiters.clear()
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        # All at once: on a hung server each waits out its bound.
        closed = await asyncio.gather(*(conn.close(timeout=BOUND) for conn in idle), return_exceptions=True)
        for conn, result in zip(idle, closed, strict=True):
            if isinstance(result, BaseException):  # down, hung or refusing: closed all the same
                conn.terminate()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection[Any]]:
        """A connection with asyncpg's own timeouts only, not bounded step by
        step (the start-up's schema step, which may wait on another node's;
        the login floor); an error drops it."""
        conn = await self.take()
        sound = False
        try:
            yield conn
            sound = True
        finally:
            self.give(conn, sound=sound)


@contextlib.asynccontextmanager
async def connection(pool: Pool) -> AsyncIterator[Bounded]:
    conn = await pool.take()
    bounded = Bounded(conn)
    try:
        yield bounded
    finally:
        pool.give(conn, sound=bounded.sound)


async def fetch(pool: Pool, query: str, *args: object) -> list[asyncpg.Record]:
    async with connection(pool) as conn:
        return await conn.fetch(query, *args)


async def fetchrow(pool: Pool, query: str, *args: object) -> asyncpg.Record | None:
    async with connection(pool) as conn:
        return await conn.fetchrow(query, *args)


async def execute(pool: Pool, query: str, *args: object) -> str:
    async with connection(pool) as conn:
        return await conn.execute(query, *args)
