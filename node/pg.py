"""Every call the handlers make to Postgres, bounded in time.

A hung Postgres (frozen, or its host gone silent) must answer its own
routes with a 503 in seconds, well under nginx's 10 s read timeout: a
timeout there counts against the node, and with every node failed nginx
answers 502 to every route, those that need no database included.

asyncpg's own timeouts do not bound it.  A query that times out (its
``timeout`` argument, ``command_timeout``, or an ``asyncio.timeout`` around
it) makes asyncpg send a cancel request, on a new connection that the hung
server never answers, and the pool's release waits for that cancel, up to
``command_timeout`` more: 10 s in all with our pool.  So here a statement
that overruns has its connection terminated instead (the socket closed, no
cancel): the server rolls back whatever was open when it reads on, and the
pool opens a new connection at the next acquire.
"""

from __future__ import annotations

import asyncio
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

    def __init__(self, conn: asyncpg.pool.PoolConnectionProxy[Any]) -> None:
        self._conn = conn
        self._overran = False

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
        except Exception as exc:
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


async def keep_session(conn: asyncpg.Connection[Any]) -> None:
    """The pool's reset, between two acquires: nothing to undo.  asyncpg's
    own sends ``RESET ALL; CLOSE ALL; UNLISTEN *`` and the unlocking of
    advisory locks on every release, a round trip a query, for state no
    query of ours leaves (no SET, cursor, LISTEN or session lock).  An open
    transaction is still rolled back: the pool does that before this."""


@contextlib.asynccontextmanager
async def connection(pool: asyncpg.Pool) -> AsyncIterator[Bounded]:
    # asyncpg applies the acquire timeout to the release too, which rolls
    # back a transaction left open (and terminates the connection if that
    # overruns).
    async with pool.acquire(timeout=BOUND) as conn:
        yield Bounded(conn)


async def fetch(pool: asyncpg.Pool, query: str, *args: object) -> list[asyncpg.Record]:
    async with connection(pool) as conn:
        return await conn.fetch(query, *args)


async def fetchrow(pool: asyncpg.Pool, query: str, *args: object) -> asyncpg.Record | None:
    async with connection(pool) as conn:
        return await conn.fetchrow(query, *args)


async def execute(pool: asyncpg.Pool, query: str, *args: object) -> str:
    async with connection(pool) as conn:
        return await conn.execute(query, *args)
