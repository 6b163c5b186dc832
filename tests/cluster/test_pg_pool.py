"""node.pg.Pool on the test cluster's real Postgres: at most ``size``
connections, a bounded wait for one, and a connection whose state is in
doubt closed rather than lent again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from node.pg import Pool, connection
from scripts.cluster import ClusterConfig
from tests.helpers import wait_for

SIZE = 2


class Watched(Pool):
    """A pool whose connections carry a name of their own, so that
    pg_stat_activity shows them apart from every other test's."""

    def __init__(self, cfg: ClusterConfig) -> None:
        self.name = f"pool-{uuid.uuid4().hex[:12]}"
        url = cfg.effective_database_url()
        super().__init__(url, size=SIZE, server_settings={"application_name": self.name})

    async def backends(self, pg: asyncpg.Connection) -> set[int]:
        """The server processes of its connections (a closed one's may
        linger for a moment: its process exits when it reads the close)."""
        rows = await pg.fetch("SELECT pid FROM pg_stat_activity WHERE application_name = $1", self.name)
        return {row["pid"] for row in rows}

    async def settled_at(self, pg: asyncpg.Connection, at_most: int) -> None:
        async def settled() -> bool:
            return len(await self.backends(pg)) <= at_most

        await wait_for(settled, within=5, what=f"{self.name} to hold at most {at_most} connections")


@pytest.fixture
async def pool(redis_cluster: ClusterConfig) -> AsyncIterator[Watched]:
    pool = Watched(redis_cluster)
    await pool.open()
    try:
        yield pool
    finally:
        await pool.close()


async def test_it_opens_no_more_than_size_and_a_third_block_waits_for_one_given_back(
    pool: Watched, pg: asyncpg.Connection
) -> None:
    first, second = await pool.take(), await pool.take()
    third = asyncio.create_task(pool.take())
    await asyncio.sleep(0.2)
    assert not third.done()
    assert len(await pool.backends(pg)) == SIZE
    pool.give(second)
    assert await asyncio.wait_for(third, 1) is second
    pool.give(first)
    pool.give(second)
    assert len(await pool.backends(pg)) == SIZE


async def test_a_wait_past_the_bound_fails_as_a_database_outage_and_takes_nothing(
    pool: Watched, monkeypatch: pytest.MonkeyPatch
) -> None:
    lent = [await pool.take(), await pool.take()]
    monkeypatch.setattr("node.pg.BOUND", 0.3)
    with pytest.raises(TimeoutError, match="no Postgres connection was free"):
        await pool.take()
    for conn in lent:
        pool.give(conn)
    async with connection(pool) as conn:
        assert dict(await conn.fetchrow("SELECT 1 AS one") or {}) == {"one": 1}


@pytest.mark.parametrize("doubt", ["cancelled mid-statement", "left in a transaction", "closed"])
async def test_a_connection_whose_state_is_in_doubt_is_closed_and_the_next_block_gets_a_fresh_one(
    pool: Watched, pg: asyncpg.Connection, doubt: str
) -> None:
    [before] = await pool.backends(pg)  # the one opened at start
    if doubt == "cancelled mid-statement":

        async def slow() -> None:
            async with connection(pool) as conn:
                await conn.execute("SELECT pg_sleep(30)")

        task = asyncio.create_task(slow())
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        conn = await pool.take()
        if doubt == "left in a transaction":
            await conn.execute("BEGIN")
        else:
            await conn.close()
        pool.give(conn)
    # Closed, with no cancel sent: the server's statement_timeout (the
    # pool's, just past the bound) ends a statement left running.
    await pool.settled_at(pg, 0)
    # Both places usable at once, each on a new connection that answers.
    async with connection(pool) as one, connection(pool) as two:
        rows = await asyncio.gather(one.fetchrow("SELECT 1 AS n"), two.fetchrow("SELECT 2 AS n"))
    assert [row["n"] for row in rows if row] == [1, 2]
    now = await pool.backends(pg)
    assert len(now) == SIZE and before not in now


async def test_a_waiter_cancelled_as_a_connection_reaches_it_passes_the_connection_on(pool: Watched) -> None:
    lent = [await pool.take(), await pool.take()]
    waiter = asyncio.create_task(pool.take())
    await asyncio.sleep(0.1)
    pool.give(lent[0])  # handed to the waiter...
    waiter.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    again = await asyncio.wait_for(pool.take(), 1)
    assert again is lent[0]
    pool.give(again)
    pool.give(lent[1])


async def test_a_place_freed_goes_to_the_first_waiter_not_to_a_newcomer(
    pool: Watched, pg: asyncpg.Connection
) -> None:
    lent = [await pool.take(), await pool.take()]
    first = asyncio.create_task(pool.take())
    await asyncio.sleep(0.1)
    pool.give(lent[0], sound=False)  # closed: its place is the waiter's
    newcomer = asyncio.create_task(pool.take())
    opened = await asyncio.wait_for(first, 2)
    await asyncio.sleep(0.2)
    assert not newcomer.done()
    assert len(await pool.backends(pg)) <= SIZE
    pool.give(opened)
    assert await asyncio.wait_for(newcomer, 1) is opened
    pool.give(opened)
    pool.give(lent[1])


async def test_a_connection_passed_on_after_the_close_is_closed(pool: Watched) -> None:
    lent = [await pool.take(), await pool.take()]
    waiter = asyncio.create_task(pool.take())
    await asyncio.sleep(0.1)
    pool.give(lent[0])  # handed to the waiter...
    await pool.close()  # ...the pool closes...
    waiter.cancel()  # ...and the waiter, cancelled, passes it on
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert lent[0].is_closed()
    pool.give(lent[1])
    assert lent[1].is_closed()


async def test_a_closed_pool_closes_what_comes_back_and_lends_nothing(
    redis_cluster: ClusterConfig, pg: asyncpg.Connection
) -> None:
    pool = Watched(redis_cluster)
    await pool.open()
    lent, idle = await pool.take(), await pool.take()
    pool.give(idle)
    await pool.close()
    assert idle.is_closed() and not lent.is_closed()
    pool.give(lent)
    assert lent.is_closed()
    with pytest.raises(asyncpg.InterfaceError, match="closed"):
        await pool.take()
    await pool.settled_at(pg, 0)
