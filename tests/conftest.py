"""Throwaway clusters, started with the same launcher as `make up`.

One redis-mode cluster (its own Redis and Postgres on free ports, in a
temporary dir) serves every test that does not kill or reconfigure
anything; the memory-mode cluster reuses its Redis and Postgres (memory-mode
nodes never touch Redis) and adds its own nodes and nginx.  Tests that stop
or reconfigure things start their own.  Nothing here touches a server the
tests did not start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from redis.asyncio import Redis

from scripts.cluster import ClusterConfig, clean, down, new_run_dir, up


def make_config(run_dir: Path, *, nodes: int = 3, **kwargs: object) -> ClusterConfig:
    # Tests trade crash safety for speed (no fsync in their Postgres), and
    # send from one address far more than nginx lets a real client.
    kwargs.setdefault("login_rate", "10000r/s")
    return ClusterConfig.on_free_ports(run_dir, nodes=nodes, pg_durable=False, **kwargs)


RunDirs = Callable[[str], Path]


@pytest.fixture(scope="session")
def run_dirs() -> Iterator[RunDirs]:
    """Makes run dirs, and at the end stops and deletes what they hold.

    Not pytest's tmp_path: its root is private (0700); see new_run_dir.
    """
    made: list[Path] = []

    def make(name: str) -> Path:
        made.append(new_run_dir(name))
        return made[-1]

    yield make
    for path in made:
        if (path / "cluster.json").exists():
            down(ClusterConfig.load(path), quiet=True)
        clean(path)


@pytest.fixture(scope="session")
def redis_cluster(run_dirs: RunDirs) -> Iterator[ClusterConfig]:
    yield from running(make_config(run_dirs("redis"), session_store="redis"))


def running(cfg: ClusterConfig) -> Iterator[ClusterConfig]:
    """``cfg`` started, and stopped when the fixture ends."""
    try:
        up(cfg, quiet=True)
        yield cfg
    finally:
        down(cfg, quiet=True)


def cluster_beside(shared: ClusterConfig, run_dir: Path, **kwargs: Any) -> Iterator[ClusterConfig]:
    """A cluster of nodes and nginx of its own, on ``shared``'s Redis and
    Postgres (nodes that keep sessions elsewhere never touch Redis)."""
    yield from running(
        make_config(
            run_dir,
            redis_url=shared.effective_redis_url(),
            database_url=shared.effective_database_url(),
            **kwargs,
        )
    )


@pytest.fixture(scope="session")
def memory_cluster(run_dirs: RunDirs, redis_cluster: ClusterConfig) -> Iterator[ClusterConfig]:
    yield from cluster_beside(redis_cluster, run_dirs("memory"), session_store="memory")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


@pytest.fixture
async def redis(redis_cluster: ClusterConfig) -> AsyncIterator[Redis]:
    """A client of the test cluster's own Redis."""
    client = Redis.from_url(redis_cluster.effective_redis_url(), decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def pg(redis_cluster: ClusterConfig) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the test cluster's own Postgres."""
    conn = await asyncpg.connect(redis_cluster.effective_database_url())
    try:
        yield conn
    finally:
        await conn.close()
