"""Throwaway clusters, started with the same launcher as `make up`.

One redis-mode cluster (its own Redis and Postgres on free ports, in a
temporary dir) serves every test that does not kill or reconfigure
anything.  The session and login tests (marked ``every_topology``) run
again on one cluster per Redis topology: Sentinel, and Redis Cluster.  The
memory-mode cluster reuses the single server's Redis and Postgres
(memory-mode nodes never touch Redis) and adds its own nodes and nginx.
Tests that stop or reconfigure things start their own.  Nothing here
touches a server the tests did not start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from node.app import create_app
from node.redis_client import RedisClient
from node.settings import Settings
from node.typedefs import PIPELINE
from scripts.cluster import ClusterConfig, clean, down, new_run_dir, up
from scripts.cluster.redis_topology import TOPOLOGIES
from scripts.lab.throwaway import beside_config, load_limits
from tests.helpers import NodeServer, redis_of


def make_config(run_dir: Path, *, nodes: int = 3, **kwargs: object) -> ClusterConfig:
    # Tests trade crash safety for speed (no fsync in their Postgres), and
    # send from one address far more than a real client may.
    return ClusterConfig.on_free_ports(run_dir, nodes=nodes, pg_durable=False, **load_limits(**kwargs))


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "redis_topology" in metafunc.fixturenames:
        every = metafunc.definition.get_closest_marker("every_topology") and not (
            metafunc.definition.get_closest_marker("one_server")
        )
        topologies = TOPOLOGIES if every else ("single",)
        # Session-scoped: one cluster per topology, and pytest runs each
        # topology's tests together.
        if "store_kind" in metafunc.fixturenames:
            # A test of both stores: the memory store has no topology.
            pairs = [("memory", "single"), *(("redis", topology) for topology in topologies)]
            metafunc.parametrize(
                ("store_kind", "redis_topology"), pairs, indirect=["redis_topology"], scope="session"
            )
        else:
            metafunc.parametrize("redis_topology", topologies, indirect=True, scope="session")


@pytest.fixture(scope="session")
def redis_topology(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def redis_cluster(run_dirs: RunDirs, redis_topology: str) -> Iterator[ClusterConfig]:
    yield from running(
        make_config(run_dirs(f"redis-{redis_topology}"), session_store="redis", redis_topology=redis_topology)
    )


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
    yield from running(beside_config(shared, run_dir, **kwargs))


@pytest.fixture(scope="session")
def memory_cluster(run_dirs: RunDirs, redis_cluster: ClusterConfig) -> Iterator[ClusterConfig]:
    yield from cluster_beside(redis_cluster, run_dirs("memory"), session_store="memory")


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


@pytest.fixture
async def redis(redis_cluster: ClusterConfig) -> AsyncIterator[RedisClient]:
    """A client of the test cluster's own Redis, reached as its nodes reach it."""
    async with redis_of(redis_cluster) as client:
        yield client


@pytest.fixture
async def pg(redis_cluster: ClusterConfig) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the test cluster's own Postgres."""
    conn = await asyncpg.connect(redis_cluster.effective_database_url())
    try:
        yield conn
    finally:
        await conn.close()


Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def make_client(redis_cluster: ClusterConfig) -> AsyncIterator[MakeClient]:
    """The real app in this process, on the test cluster's Redis and Postgres."""
    clients: list[Client] = []

    async def make(
        session_store: str = "redis", setup: Callable[[web.Application], None] | None = None, **kw: object
    ) -> Client:
        settings = Settings(
            node_name="inproc",
            session_store=session_store,  # type: ignore[arg-type]
            redis_url=redis_cluster.effective_redis_url(),
            database_url=redis_cluster.effective_database_url(),
            **kw,  # type: ignore[arg-type]
        )
        app = create_app(settings)
        if setup:
            setup(app)
        client = TestClient(NodeServer(app, app[PIPELINE]))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
