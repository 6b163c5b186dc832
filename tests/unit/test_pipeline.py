"""The request pipeline on a bare app: the real pipeline around two routes,
run as a node runs it, and a real (in-memory) session store, time from a
fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.exceptions
from aiohttp import web
from aiohttp.test_utils import TestClient

from node.models import UserDTO
from node.pipeline import Pipeline, reads_session_id
from node.sessions import MemorySessionStore, Policy, TTLDict
from node.tokens import session_id, token_rules
from node.typedefs import LIFECYCLE, SESSION_ID, STORE, USER, Lifecycle
from tests.helpers import Clock, NodeServer

TOKEN = "0123456789abcdef0123456789abcdef"
ALICE = UserDTO(id=7, nick_name="user_alice00000")


@pytest.fixture
def mistakes() -> tuple[str, ...]:
    """The seed's wrong turns the pipeline makes: none, unless a test parametrizes it."""
    return ()


@pytest.fixture
async def pipeline(
    mistakes: tuple[str, ...],
) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], MemorySessionStore, Clock, list[object]]]:
    clock = Clock()
    policy = Policy(login_user_ttl=1800, mistakes=mistakes)  # type: ignore[arg-type]
    lifecycle = Lifecycle()
    store = MemorySessionStore(policy, TTLDict(clock=clock))
    await store.save_user(session_id(TOKEN), ALICE)
    seen: list[object] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request[USER])
        return web.json_response({"success": True})

    pipeline = Pipeline("unit", policy=policy, tokens=token_rules(policy), lifecycle=lifecycle)
    pipeline.attach(store)
    app = web.Application()
    app[STORE] = store
    app[LIFECYCLE] = lifecycle
    app.router.add_get("/user/me", pipeline.guard("user.me", handler, public=False, method="GET"))
    app.router.add_get("/shop/{id}", pipeline.guard("shop.get", handler, public=True, method="GET"))
    client = TestClient(NodeServer(app, pipeline))
    await client.start_server()
    try:
        yield client, store, clock, seen
    finally:
        await client.close()


async def test_the_login_check_sees_the_user_the_refresh_loaded(pipeline) -> None:  # type: ignore[no-untyped-def]
    # Were the login check to run first, no user would be loaded yet: 401.
    client, _, _, seen = pipeline
    resp = await client.get("/user/me", headers={"authorization": TOKEN})
    assert resp.status == 200
    assert seen == [ALICE]


async def test_a_protected_path_without_a_user_never_reaches_its_handler(pipeline) -> None:  # type: ignore[no-untyped-def]
    client, _, _, seen = pipeline
    for headers in ({}, {"authorization": "f" * 32}, {"authorization": "not-a-token"}):
        resp = await client.get("/user/me", headers=headers)
        assert resp.status == 401
        assert (await resp.json())["success"] is False
    assert seen == []


async def test_a_public_path_runs_the_refresh_too(pipeline) -> None:  # type: ignore[no-untyped-def]
    client, store, clock, seen = pipeline
    clock.now += 1700
    assert (await client.get("/shop/1", headers={"authorization": TOKEN})).status == 200
    assert seen == [ALICE]  # the user is known on public pages too
    clock.now += 1700  # 3400 s after login: alive only because /shop refreshed it
    assert await store.load_user(session_id(TOKEN)) == ALICE


@pytest.mark.parametrize("mistakes", [("one-interceptor",)])
async def test_with_one_interceptor_a_public_path_refreshes_nothing_and_the_session_ends(pipeline) -> None:  # type: ignore[no-untyped-def]
    client, store, clock, seen = pipeline
    clock.now += 1700
    assert (await client.get("/shop/1", headers={"authorization": TOKEN})).status == 200
    assert seen == [None]  # not looked at: the seed's first, single interceptor
    clock.now += 1700  # 3400 s after login, active all along: gone
    assert await store.load_user(session_id(TOKEN)) is None
    assert (await client.get("/user/me", headers={"authorization": TOKEN})).status == 401


async def test_a_public_path_needs_no_user(pipeline) -> None:  # type: ignore[no-untyped-def]
    client, _, _, seen = pipeline
    assert (await client.get("/shop/1")).status == 200
    assert seen == [None]


async def test_while_draining_every_answer_says_connection_close(pipeline) -> None:  # type: ignore[no-untyped-def]
    # nginx must be told in the header, or it reuses a connection the node
    # is about to close and sends the next request into it.
    client, _, _, _ = pipeline
    ok = await client.get("/shop/1")
    assert ok.headers.get("Connection", "").lower() != "close"
    client.server.app[LIFECYCLE].draining = True
    for path, headers in (("/shop/1", {}), ("/user/me", {}), ("/no/such/path", {})):
        resp = await client.get(path, headers=headers)
        assert resp.headers.get("Connection", "").lower() == "close", (path, resp.status)


async def test_every_session_read_is_counted_and_its_first_then_one_in_16_timed(pipeline) -> None:  # type: ignore[no-untyped-def]
    client, _, _, _ = pipeline
    for _ in range(33):
        assert (await client.get("/user/me", headers={"authorization": TOKEN})).status == 200
    exposition = client.server.pipeline.metrics.exposition().decode()
    assert 'sessionlab_session_store_calls_total{op="load_user"} 33.0' in exposition
    assert 'sessionlab_session_store_seconds_count{op="load_user"} 3.0' in exposition  # calls 1, 17, 33


async def test_only_a_handler_marked_to_read_the_session_id_is_given_it() -> None:
    policy = Policy()
    store = MemorySessionStore(policy, TTLDict())
    await store.save_user(session_id(TOKEN), ALICE)
    pipeline = Pipeline("unit", policy=policy, tokens=token_rules(policy), lifecycle=Lifecycle())
    pipeline.attach(store)
    seen: dict[str, object] = {}

    async def plain(request: web.Request) -> web.Response:
        seen["plain"] = request.get(SESSION_ID)
        return web.json_response({"success": True})

    @reads_session_id
    async def marked(request: web.Request) -> web.Response:
        seen["marked"] = request.get(SESSION_ID)
        return web.json_response({"success": True})

    app = web.Application()
    app.router.add_get("/plain", pipeline.guard("plain", plain, public=False, method="GET"))
    app.router.add_post("/marked", pipeline.guard("marked", marked, public=False, method="POST"))
    client = TestClient(NodeServer(app, pipeline))
    await client.start_server()
    try:
        assert (await client.get("/plain", headers={"authorization": TOKEN})).status == 200
        assert (await client.post("/marked", headers={"authorization": TOKEN})).status == 200
    finally:
        await client.close()
    assert seen == {"plain": None, "marked": session_id(TOKEN)}


@pytest.mark.parametrize(
    "error",
    [
        redis.exceptions.ConnectionError("refused"),
        redis.exceptions.MaxConnectionsError(),
        redis.exceptions.ReadOnlyError("READONLY You can't write against a read only replica."),
        redis.exceptions.ClusterDownError("CLUSTERDOWN Hash slot not served"),
        redis.exceptions.SlotNotCoveredError("Slot 1234 not covered by the cluster."),
        redis.exceptions.TryAgainError("TRYAGAIN"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_store_in_mid_failover_is_a_503_on_protected_paths_and_anonymous_on_public_ones(
    pipeline, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:  # type: ignore[no-untyped-def]
    # Never a 500 (not our bug), never a 401 (it would log the user out).
    client, store, _, seen = pipeline

    async def failing(session_id: str) -> UserDTO | None:
        raise error

    monkeypatch.setattr(store, "load_user", failing)
    resp = await client.get("/user/me", headers={"authorization": TOKEN})
    body = await resp.json()
    assert (resp.status, body["errorMsg"]) == (503, "session store unavailable")
    resp = await client.get("/shop/1", headers={"authorization": TOKEN})
    assert resp.status == 200 and seen == [None]
