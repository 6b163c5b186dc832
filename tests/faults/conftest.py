"""Each fault test kills or stops something, so each gets a cluster of its own."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import asyncpg
import pytest

from node.routes import PATHS
from scripts.cluster import ClusterConfig, down, up
from tests.conftest import RunDirs, make_config
from tests.helpers import log_in_via

MakeCluster = Callable[..., Awaitable[ClusterConfig]]


@pytest.fixture
def own_cluster(run_dirs: RunDirs) -> Iterator[MakeCluster]:
    started: list[ClusterConfig] = []

    async def make(*, nodes: int = 3, **kwargs: Any) -> ClusterConfig:
        cfg = make_config(run_dirs("fault"), nodes=nodes, **kwargs)
        started.append(cfg)
        # The launcher runs its own event loop; the test's is running.
        await asyncio.to_thread(up, cfg, quiet=True)
        return cfg

    yield make
    for cfg in started:
        down(cfg, quiet=True)


class Load:
    """Users hammering the cluster through nginx until stopped, every answer
    kept: ``(path, status, node)``, or ``(path, 0, repr(error))`` when no
    HTTP answer came at all.

    Each worker is a logged-in user asking ``/user/me`` and a shop page; with
    ``journeys`` some also run the whole login (code, phone, login), POSTs
    included.
    """

    def __init__(
        self,
        http: aiohttp.ClientSession,
        cfg: ClusterConfig,
        tokens: list[str],
        *,
        workers: int = 6,
        journeys: bool = False,
    ) -> None:
        self.http = http
        self.base = cfg.url + "/api"
        self.tokens = tokens
        self.workers = workers
        self.journeys = journeys
        self.answers: list[tuple[str, int, str]] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Load:
        self._tasks = [asyncio.create_task(self._worker(i)) for i in range(self.workers)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def count(self) -> int:
        return len(self.answers)

    def failures(self) -> list[tuple[str, int, str]]:
        return [a for a in self.answers if not 200 <= a[1] < 300]

    async def _worker(self, index: int) -> None:
        rng = random.Random(index)
        while not self._stop.is_set():
            roll = rng.random()
            if self.journeys and roll < 0.15:
                await self._journey()
            elif roll < 0.7:
                await self._get(PATHS["user.me"], rng.choice(self.tokens))
            else:
                await self._get("/shop/1", rng.choice(self.tokens))

    async def _get(self, path: str, token: str | None) -> None:
        await self._record("GET", path, headers={"authorization": token} if token else {})

    async def _journey(self) -> None:
        try:
            token, _ = await log_in_via(self.http, self.base)
        except (TimeoutError, AssertionError, aiohttp.ClientError) as exc:
            self.answers.append(("login journey", 0, repr(exc)))
            return
        self.answers.append(("login journey", 200, ""))
        self.tokens.append(token)

    async def _record(self, method: str, path: str, **kwargs: Any) -> None:
        try:
            async with self.http.request(method, self.base + path, **kwargs) as resp:
                await resp.read()
                self.answers.append((path, resp.status, resp.headers.get("X-Node", "")))
        except (TimeoutError, aiohttp.ClientError) as exc:
            self.answers.append((path, 0, repr(exc)))


async def waiting_on(pg: asyncpg.Connection, table: str) -> list[str]:
    """The nodes (application names) whose queries wait for a lock on ``table``.

    From pg_locks, not pg_stat_activity's query text: a statement blocked
    while it is being parsed still shows the connection's previous query.
    """
    rows = await pg.fetch(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND l.relation = $1::regclass",
        table,
    )
    return [r["application_name"] for r in rows]
