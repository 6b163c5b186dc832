"""Throwaway clusters, started with the same launcher as `make up`.

One redis-mode cluster (its own Redis and Postgres on free ports, in a
temporary dir) serves every test that does not kill or reconfigure
anything; the memory-mode cluster reuses its Redis and Postgres (memory-mode
nodes never touch Redis) and adds its own nodes and nginx.  Tests that stop
or reconfigure things start their own.  Nothing here touches a server the
tests did not start.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from redis.asyncio import Redis

from scripts.cluster import ClusterConfig, clean, down, up


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (all held open while chosen)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for sock in socks:
            sock.close()


def make_config(run_dir: Path, *, nodes: int = 3, **kwargs: object) -> ClusterConfig:
    ports = free_ports(nodes + 3)
    return ClusterConfig(
        run_dir=run_dir,
        nodes=nodes,
        port=ports[0],
        redis_port=ports[1],
        pg_port=ports[2],
        node_ports=ports[3:],
        pg_durable=False,
        **kwargs,  # type: ignore[arg-type]
    )


RunDirs = Callable[[str], Path]


@pytest.fixture(scope="session")
def run_dirs() -> Iterator[RunDirs]:
    """Makes run dirs, and at the end stops and deletes what they hold.

    Not pytest's tmp_path: its root is private (0700), and as root the
    Postgres of a cluster runs as the postgres user, which must be able to
    enter the run dir (else the launcher keeps the data outside it).
    """
    made: list[Path] = []

    def make(name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=f"sessionlab-{name}-"))
        path.chmod(0o755)
        made.append(path)
        return path

    yield make
    for path in made:
        if (path / "cluster.json").exists():
            down(ClusterConfig.load(path), quiet=True)
        clean(path)


@pytest.fixture(scope="session")
def redis_cluster(run_dirs: RunDirs) -> Iterator[ClusterConfig]:
    cfg = make_config(run_dirs("redis"), session_store="redis")
    try:
        up(cfg, quiet=True)
        yield cfg
    finally:
        down(cfg, quiet=True)


@pytest.fixture(scope="session")
def memory_cluster(run_dirs: RunDirs, redis_cluster: ClusterConfig) -> Iterator[ClusterConfig]:
    cfg = make_config(
        run_dirs("memory"),
        session_store="memory",
        redis_url=redis_cluster.effective_redis_url(),
        database_url=redis_cluster.effective_database_url(),
    )
    try:
        up(cfg, quiet=True)
        yield cfg
    finally:
        down(cfg, quiet=True)


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
