"""A hung Postgres (every process SIGSTOPped): its routes answer 503 within
seconds, the routes that need no database never notice, and the nodes
recover by themselves when it resumes."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable
from typing import NamedTuple, TypeVar

import aiohttp

from node import pg
from node.outages import DATABASE_UNAVAILABLE
from node.routes import PATHS
from scripts.cluster import ClusterConfig
from scripts.lab.freeze import postgres_frozen
from tests.faults.conftest import MakeCluster
from tests.helpers import call, log_in_via, random_phone, wait_for

# The promise: a request that meets a hung database is answered 503 within
# node.pg's bound and a second of room for a busy machine; nginx's read
# timeout (10 s), which would mark the node failed, is far off.
WITHIN = pg.BOUND + 1.0
DATABASE_ROUTES = ("/shop/1", PATHS["blog.hot"])
# Past nginx's read timeout: long enough for nginx to fail every node, had
# they waited for the database that long.
FROZEN_FOR = 11.0

T = TypeVar("T")


async def timed(step: Awaitable[T]) -> tuple[T, float]:
    started = time.monotonic()
    return await step, time.monotonic() - started


class Answer(NamedTuple):
    path: str
    status: int  # 0: no HTTP answer at all
    message: str  # the envelope's errorMsg, or what went wrong
    node: str
    seconds: float
    started: float


class Load:
    """Logged-in users through nginx, half on /user/me, half on database routes."""

    def __init__(self, http: aiohttp.ClientSession, cfg: ClusterConfig, tokens: list[str]) -> None:
        self.http, self.base, self.tokens = http, cfg.url + "/api", tokens
        self.answers: list[Answer] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> Load:
        self._tasks = [asyncio.create_task(self._worker(i)) for i in range(8)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def since(self, moment: float, paths: tuple[str, ...]) -> list[Answer]:
        return [a for a in self.answers if a.started >= moment and a.path in paths]

    async def _worker(self, index: int) -> None:
        token = self.tokens[index % len(self.tokens)]
        path = PATHS["user.me"] if index % 2 else DATABASE_ROUTES[index // 2 % len(DATABASE_ROUTES)]
        while not self._stop.is_set():
            started = time.monotonic()
            status, message, node = 0, "", ""
            try:
                async with self.http.get(self.base + path, headers={"authorization": token}) as resp:
                    status, node = resp.status, resp.headers.get("X-Node", "")
                    message = str((await resp.json(content_type=None)).get("errorMsg", ""))
            except (TimeoutError, aiohttp.ClientError, ValueError, AttributeError) as exc:
                message = repr(exc)
            self.answers.append(Answer(path, status, message, node, time.monotonic() - started, started))


async def test_a_hung_postgres_answers_its_routes_503_in_seconds_and_spares_the_others(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=2)
    base = cfg.url + "/api"
    tokens = [(await log_in_via(http, base))[0] for _ in range(3)]
    spare, _ = await log_in_via(http, base)
    me = (PATHS["user.me"],)
    async with Load(http, cfg, tokens) as load:

        async def running() -> bool:
            return len(load.answers) > 50

        await wait_for(running, what="the load to run")
        frozen_at = time.monotonic()
        with postgres_frozen(cfg):
            # The other database calls the handlers make, bounded too: an SMS
            # into the outbox, and logout-all's transaction.
            others = asyncio.gather(
                timed(call(http, "POST", base + PATHS["user.code"], params={"phone": random_phone()})),
                timed(call(http, "POST", base + PATHS["user.logout.all"], token=spare)),
            )

            async def frozen_long_enough() -> bool:
                return time.monotonic() - frozen_at > FROZEN_FOR and others.done()

            await wait_for(frozen_long_enough, within=FROZEN_FOR + 20, what="the frozen spell to end")
        resumed_at = time.monotonic()

        async def database_routes_back_on_every_node() -> bool:
            served = {(a.path, a.node) for a in load.since(resumed_at, DATABASE_ROUTES) if a.status == 200}
            return served >= {(p, n) for p in DATABASE_ROUTES for n in cfg.node_names()}

        await wait_for(database_routes_back_on_every_node, within=20, what="the database routes to recover")

    during = [a for a in load.answers if frozen_at <= a.started < resumed_at]
    statuses = Counter(a.status for a in during if a.path in me)
    assert set(statuses) == {200}, statuses  # no 502 from nginx, no 503, no 401
    assert {a.node for a in during if a.path in me} == set(cfg.node_names())  # nginx failed no node
    for answer in load.since(0, DATABASE_ROUTES):
        assert answer.status == 200 or (answer.status, answer.message) == (503, DATABASE_UNAVAILABLE), answer
        assert answer.seconds < WITHIN, answer
    assert any(a.status == 503 for a in during)  # the freeze was felt
    for (status, body, _), seconds in others.result():
        assert (status, body["errorMsg"], seconds < WITHIN) == (503, DATABASE_UNAVAILABLE, True), body
    # Everything works after the resume, the logins and logout-all too.
    token, _ = await log_in_via(http, base)
    status, _, _ = await call(http, "POST", base + PATHS["user.logout.all"], token=spare)
    assert status == 200
    for index in range(1, cfg.nodes + 1):
        for path in (*DATABASE_ROUTES, PATHS["readyz"]):
            status, body, _ = await call(http, "GET", cfg.node_url(index) + path, token=token)
            assert status == 200, (index, path, body)
