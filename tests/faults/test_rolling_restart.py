"""`make rolling-restart` under load: every node restarted, no request failed."""

from __future__ import annotations

import asyncio

import aiohttp

from scripts.cluster import process_pid, rolling_restart
from tests.faults.conftest import Load, MakeCluster
from tests.helpers import log_in_via, wait_for


async def test_a_rolling_restart_under_load_fails_no_request(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=3)
    tokens = [(await log_in_via(http, cfg.url + "/api"))[0] for _ in range(6)]
    before = {name: process_pid(cfg, f"nodes:{name}") for name in cfg.node_names()}

    async with Load(http, cfg, tokens, journeys=True) as load:

        async def going() -> bool:
            return load.count() >= 50

        await wait_for(going, what="load to get going")
        await asyncio.to_thread(rolling_restart, cfg, quiet=True)
        done_at = load.count()

        async def more() -> bool:
            return load.count() >= done_at + 50

        await wait_for(more, what="load after the restart")

    after = {name: process_pid(cfg, f"nodes:{name}") for name in cfg.node_names()}
    assert all(after[name] not in (0, before[name]) for name in before)  # each one restarted
    assert load.failures() == []
    assert sum(1 for path, _, _ in load.answers if path == "login journey") > 0  # POSTs ran through it
