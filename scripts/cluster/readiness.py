"""Waiting for a cluster: its stores answering, its nodes ready, nginx sending them traffic."""

from __future__ import annotations

import asyncio

import aiohttp

from scripts.cluster import redis_topology
from scripts.cluster.common import LaunchError
from scripts.cluster.config import ClusterConfig
from scripts.cluster.postgres import ensure_database
from scripts.cluster.supervisor import supervisord_pid
from scripts.lab.waiting import until

_TIMEOUT = aiohttp.ClientTimeout(total=2)


async def wait_stores(cfg: ClusterConfig, wait: float) -> None:
    """The launcher's own Redis (its whole layout) and Postgres (the database made)."""

    async def redis() -> None:
        if cfg.own_redis:
            await redis_topology.wait_whole(
                cfg.redis_topology,
                cfg.redis_processes,
                password=cfg.redis_password(),
                wait=wait,
                log_dir=cfg.log_dir,
            )

    await asyncio.gather(redis(), ensure_database(cfg, wait))


async def wait_nodes_ready(cfg: ClusterConfig, names: list[str], wait: float) -> None:
    """Each named node answers /readyz 200 on its own port."""
    pending = set(names)
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:

        async def all_ready() -> bool:
            for name in sorted(pending):
                try:
                    async with http.get(cfg.node_url(int(name.removeprefix("node"))) + "/readyz") as resp:
                        if resp.status == 200:
                            pending.discard(name)
                except (aiohttp.ClientError, TimeoutError):
                    pass
            return not pending

        await until(
            all_ready,
            wait,
            lambda: (
                f"not ready after {wait:.0f} s: {', '.join(sorted(pending))} (see {cfg.log_dir}/<node>.log)"
            ),
            error=LaunchError,
        )


async def wait_behind_nginx(cfg: ClusterConfig, names: list[str], wait: float) -> None:
    """Each named node has answered at least once through nginx."""
    want = set(names)
    seen: set[str] = set()
    async with aiohttp.ClientSession(timeout=_TIMEOUT) as http:

        async def all_seen() -> bool:
            try:
                async with http.get(cfg.url + "/api/readyz") as resp:
                    if resp.status == 200:
                        seen.add(resp.headers.get("X-Node", ""))
            except (aiohttp.ClientError, TimeoutError):
                pass
            return want <= seen

        await until(
            all_seen,
            wait,
            lambda: (
                f"through nginx after {wait:.0f} s only {sorted(seen & want)} answered "
                f"(see {cfg.log_dir}/nginx-error.log)"
            ),
            error=LaunchError,
        )


async def wait_back(cfg: ClusterConfig, names: list[str], wait: float) -> None:
    """Each named node is ready, then answering through nginx (which tries a
    node it marked failed again only after fail_timeout)."""
    await wait_nodes_ready(cfg, names, wait)
    await wait_behind_nginx(cfg, names, wait)


async def wait_supervisord_gone(cfg: ClusterConfig, wait: float) -> None:
    async def gone() -> bool:
        return supervisord_pid(cfg) is None

    await until(gone, wait, lambda: f"timed out after {wait:.0f} s waiting for supervisord to exit",
                error=LaunchError, every=0.1)  # fmt: skip
