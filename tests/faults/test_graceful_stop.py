"""SIGTERM: stop taking connections, finish what is in flight, close the pools, exit 0."""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import asyncpg
from redis.asyncio import Redis

from scripts.cluster import process_pid, supervisorctl
from tests.faults.conftest import MakeCluster, waiting_on
from tests.helpers import call, wait_for


def _refuses(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


async def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_closes_pools(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=1)
    port = cfg.node_ports[0]
    pg = await asyncpg.connect(cfg.effective_database_url())
    redis = Redis.from_url(cfg.effective_redis_url(), decode_responses=True)
    in_flight: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    stopping: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    try:
        # Hold a shop page in the database: its SELECT waits on a table lock.
        lock = pg.transaction()
        await lock.start()
        await pg.execute("LOCK TABLE tb_shop IN ACCESS EXCLUSIVE MODE")
        in_flight = asyncio.create_task(call(http, "GET", cfg.node_url(1) + "/shop/1"))

        async def select_waiting() -> bool:
            return await waiting_on(pg, "tb_shop") == ["node1"]

        await wait_for(select_waiting, what="the shop query to wait on the lock")
        stopping = asyncio.create_task(asyncio.to_thread(supervisorctl, cfg, "stop", "nodes:node1"))

        async def refusing() -> bool:
            return _refuses(port)

        await wait_for(refusing, what="node1 to stop accepting connections")
        assert not in_flight.done()  # still held, and still alive
        await lock.rollback()  # let the query finish

        status, body, node = await in_flight
        assert (status, node) == (200, "node1") and body["data"]["id"] == 1
        await stopping
        assert process_pid(cfg, "nodes:node1") == 0
        assert "stopped: node1 (exit status 0)" in (cfg.log_dir / "supervisord.log").read_text()
        # It closed its pools itself (the lines come from the cleanup
        # contexts), and none of its connections is left anywhere.
        log = (cfg.log_dir / "node1.log").read_text()
        assert "postgres pool closed" in log and "redis client closed" in log

        async def no_connection_left() -> bool:
            pg_left = await pg.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'node1'"
            )
            redis_left = [c for c in await redis.client_list() if c["name"] == "node1"]
            return pg_left == 0 and not redis_left

        await wait_for(no_connection_left, what="node1's connections to be gone")
    finally:
        for task in (in_flight, stopping):
            task.cancel()
        await pg.close()
        await redis.aclose()
