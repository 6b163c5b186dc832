"""A node killed (SIGKILL) mid-load: in redis mode nobody notices."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import aiohttp
import asyncpg

from node.routes import PATHS
from scripts.cluster import process_pid, supervisorctl
from tests.faults.conftest import Load, MakeCluster, waiting_on
from tests.helpers import call, log_in_via, random_phone, wait_for


async def test_a_killed_node_loses_no_session_and_rejoins_by_itself(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=3)
    tokens = [(await log_in_via(http, cfg.node_url(1 + i % 3)))[0] for i in range(9)]
    victim = process_pid(cfg, "nodes:node2")

    async with Load(http, cfg, tokens) as load:
        await wait_for(lambda: _at_least(load, 100), what="load to get going")
        os.kill(victim, signal.SIGKILL)
        killed_at = load.count()

        async def node2_back() -> bool:
            return any(node == "node2" for _, _, node in load.answers[killed_at:])

        # supervisord restarts it; nginx tries it again after fail_timeout.
        await wait_for(node2_back, within=30, what="node2 to serve through nginx again")
        rejoined_at = load.count()
        await wait_for(lambda: _at_least(load, rejoined_at + 100), what="more load after the rejoin")

    assert load.failures() == []  # no 401 (no session lost), no 5xx, no connection error
    assert process_pid(cfg, "nodes:node2") not in (0, victim)  # supervisord restarted it


async def test_a_post_in_flight_on_a_killed_node_is_not_sent_again(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    # /user/code is held in the database (its outbox insert waits on a lock)
    # while its node is killed: nginx must answer 502, not send the POST to
    # another node, which would text the user a second code.
    cfg = await own_cluster(nodes=2)
    phone = random_phone()
    pg = await asyncpg.connect(cfg.effective_database_url())
    try:
        lock = pg.transaction()
        await lock.start()
        await pg.execute("LOCK TABLE sms_outbox IN EXCLUSIVE MODE")
        request = asyncio.create_task(
            call(http, "POST", cfg.url + "/api" + PATHS["user.code"], params={"phone": phone})
        )
        holder: list[str] = []

        async def insert_waiting() -> bool:
            holder[:] = await waiting_on(pg, "sms_outbox")
            return len(holder) == 1

        await wait_for(insert_waiting, what="the SMS insert to wait on the lock")
        os.kill(process_pid(cfg, f"nodes:{holder[0]}"), signal.SIGKILL)
        status, body, _ = await request
        # Answered while the lock is still held: a resent POST would still
        # be waiting on it, so this answer proves it was not resent.
        assert status == 502 and body["success"] is False
        await lock.rollback()
        assert await pg.fetchval("SELECT count(*) FROM sms_outbox WHERE phone = $1", phone) == 0
    finally:
        await pg.close()


async def test_a_dead_node_is_tried_once_then_skipped_for_fail_timeout(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=3)
    supervisorctl(cfg, "stop", "nodes:node2")  # stays down
    access = cfg.log_dir / "nginx-access.log"
    dead = f"upstream=127.0.0.1:{cfg.node_ports[1]}, "
    seen = len(access.read_text())

    def tries() -> int:
        # A refused try is listed first: upstream=<dead>, <live> upstream_status=502, 200.
        return sum(1 for line in access.read_text()[seen:].splitlines() if dead in line)

    answers = [await call(http, "GET", cfg.url + "/api" + PATHS["healthz"]) for _ in range(30)]
    assert all(status == 200 for status, _, _ in answers)  # each refused try was passed on
    # max_fails=1: one refused connection, and nginx stops sending it
    # anything (without it, every third request would try node2).
    assert tries() == 1
    started = time.monotonic()

    async def tried_again() -> bool:
        await call(http, "GET", cfg.url + "/api" + PATHS["healthz"])
        return tries() == 2

    await wait_for(tried_again, within=10, what="nginx to try node2 again")
    assert time.monotonic() - started > 2  # not before fail_timeout (3 s)


async def _at_least(load: Load, n: int) -> bool:
    return load.count() >= n
