"""The other answers to the session problem, each with its promise and its
failure: sticky sessions (BALANCE=sticky) and session replication
(SESSION_STORE=replicated), next to the shared store.

Each cluster here is this module's own (nodes and nginx; Redis and Postgres
are the shared test cluster's), since the last tests of each kill a node.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest

from node.routes import PATHS
from node.sessions.replicated import peer_key
from scripts.cluster import ClusterConfig, start_node, stop_node
from tests.conftest import RunDirs, cluster_beside
from tests.helpers import call, log_in_via, login, me_status, random_phone, read_sms, send_code, wait_for

ME = PATHS["user.me"]


@pytest.fixture(scope="module")
def sticky(run_dirs: RunDirs, redis_cluster: ClusterConfig) -> Iterator[ClusterConfig]:
    yield from cluster_beside(redis_cluster, run_dirs("sticky"), session_store="memory", balance="sticky")


@pytest.fixture(scope="module")
def replicated(run_dirs: RunDirs, redis_cluster: ClusterConfig) -> Iterator[ClusterConfig]:
    yield from cluster_beside(redis_cluster, run_dirs("replicated"), session_store="replicated")


@pytest.fixture(scope="module")
def lagging(run_dirs: RunDirs, redis_cluster: ClusterConfig) -> Iterator[ClusterConfig]:
    yield from cluster_beside(
        redis_cluster, run_dirs("lagging"), session_store="replicated", replication_delay_ms=2000
    )


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """A client that keeps cookies, as a browser does (aiohttp's default jar
    ignores cookies from an IP address such as 127.0.0.1)."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def info(http: aiohttp.ClientSession, cfg: ClusterConfig, index: int) -> dict[str, Any]:
    status, body, _ = await call(http, "GET", cfg.node_url(index) + PATHS["cluster.info"])
    assert status == 200, body
    return dict(body["data"])


async def sessions_held(http: aiohttp.ClientSession, cfg: ClusterConfig) -> list[int]:
    return [(await info(http, cfg, i))["stats"]["sessions"] for i in range(1, cfg.nodes + 1)]


def answers_on(
    http: aiohttp.ClientSession, cfg: ClusterConfig, token: str, nodes: tuple[int, ...], expect: int
) -> Callable[[], Awaitable[bool]]:
    """A condition for wait_for: every one of ``nodes`` answers ``expect`` for ``token``."""

    async def holds() -> bool:
        return [await me_status(http, cfg, i, token) for i in nodes] == [expect] * len(nodes)

    return holds


# --- sticky sessions ----------------------------------------------------------------


async def test_sticky_keeps_a_client_on_one_node_so_its_session_works(
    sticky: ClusterConfig, browser: aiohttp.ClientSession
) -> None:
    api = sticky.url + "/api"
    token, login_node = await log_in_via(browser, api)
    answers = [await call(browser, "GET", api + ME, token=token) for _ in range(12)]
    assert {(status, node) for status, _, node in answers} == {(200, login_node)}


async def test_sticky_pins_by_cookie_so_clients_on_one_address_spread(
    sticky: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    # Every client here is 127.0.0.1: pinning by address (ip_hash) would put
    # them all on one node.  Each new client gets its own cookie.
    nodes = set()
    for _ in range(30):
        async with http.get(sticky.url + "/api" + PATHS["cluster.info"]) as resp:
            assert resp.cookies["route"].value
            nodes.add(resp.headers["X-Node"])
    assert len(nodes) >= 2
    async with http.get(sticky.url + "/api" + PATHS["healthz"], headers={"cookie": "route=abc"}) as resp:
        pinned = resp.headers["X-Node"]
        assert "route" not in resp.cookies  # a client that has one keeps it
    for _ in range(6):
        async with http.get(sticky.url + "/api" + PATHS["healthz"], headers={"cookie": "route=abc"}) as resp:
            assert resp.headers["X-Node"] == pinned


async def test_sticky_loses_the_sessions_of_a_node_that_dies(
    sticky: ClusterConfig, browser: aiohttp.ClientSession
) -> None:
    api = sticky.url + "/api"
    token, node = await log_in_via(browser, api)
    index = int(node.removeprefix("node"))
    await asyncio.to_thread(stop_node, sticky, index)
    try:
        # nginx moves the client to another node, which never had its session.
        status, _, elsewhere = await call(browser, "GET", api + ME, token=token)
        assert (status, elsewhere != node) == (401, True)
    finally:
        await asyncio.to_thread(start_node, sticky, index)
    # Back on its own node, which restarted empty: the session is gone there too.
    status, _, back = await call(browser, "GET", api + ME, token=token)
    assert (status, back) == (401, node)


# --- session replication --------------------------------------------------------------


async def test_replication_converges_at_once_without_a_delay(
    replicated: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, replicated.node_url(1))
    started = time.monotonic()

    await wait_for(
        answers_on(http, replicated, token, (2, 3), 200), within=3, what="the session to reach nodes 2 and 3"
    )
    assert time.monotonic() - started < 2.0  # milliseconds, measured by make compare


async def test_replication_has_a_window_in_which_another_node_says_401(
    lagging: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    # REPLICATION_DELAY_MS=2000: a login, then at once a request elsewhere.
    token, _ = await log_in_via(http, lagging.node_url(1))
    assert await me_status(http, lagging, 2, token) == 401
    started = time.monotonic()
    await wait_for(answers_on(http, lagging, token, (2,), 200), within=8, what="the session to reach node 2")
    assert time.monotonic() - started < 4.0


async def test_a_code_sent_by_one_node_is_unknown_elsewhere_until_replicated(
    lagging: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    await send_code(http, lagging.node_url(1), phone)
    code = await read_sms(http, lagging.node_url(1), phone)
    status, body, _ = await login(http, lagging.node_url(2), phone, code)
    assert (status, body["errorMsg"]) == (400, "wrong code")  # the seed's bug, for a moment


async def test_every_replicated_node_holds_every_session_and_redis_nodes_none(
    replicated: ClusterConfig,
    memory_cluster: ClusterConfig,
    redis_cluster: ClusterConfig,
    http: aiohttp.ClientSession,
) -> None:
    before_rep, before_mem = await sessions_held(http, replicated), await sessions_held(http, memory_cluster)
    for i in range(9):  # each node in turn (memory mode cannot log in through round robin)
        await log_in_via(http, replicated.node_url(1 + i % 3))
        await log_in_via(http, memory_cluster.node_url(1 + i % 3))

    async def all_replicated() -> bool:
        held = await sessions_held(http, replicated)
        return all(now - then >= 9 for now, then in zip(held, before_rep, strict=True))

    async def memory_grown() -> list[int]:
        held = await sessions_held(http, memory_cluster)
        return [now - then for now, then in zip(held, before_mem, strict=True)]

    async def all_counted() -> bool:
        return sum(await memory_grown()) >= 9

    # Memory per node grows with every session on every node: 3 nodes, 3 copies.
    await wait_for(all_replicated, within=5, what="every node to hold all 9 new sessions")
    # A node counts its sessions at most once a second (the store's stats()),
    # so a count may still be from before the logins.
    await wait_for(all_counted, within=5, what="the in-process nodes to count the 9 new sessions")
    assert await memory_grown() == [3, 3, 3]  # in-process: each session on its own node only
    assert "sessions" not in (await info(http, redis_cluster, 1))["stats"]  # Redis holds them, not the node


async def test_a_restarted_node_catches_up_from_a_peer(
    replicated: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, replicated.node_url(1))
    await asyncio.to_thread(stop_node, replicated, 3)
    await asyncio.to_thread(start_node, replicated, 3)
    # Asked at once, before any later change could have reached it.
    assert await me_status(http, replicated, 3, token) == 200
    caught_up = (await info(http, replicated, 3))["stats"]["replication"]["caughtUp"]
    assert caught_up["from"] is not None and caught_up["entries"] > 0


async def test_replicated_sessions_survive_the_death_of_a_node(
    replicated: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, replicated.node_url(1))

    await wait_for(
        answers_on(http, replicated, token, (2,), 200), within=2, what="the session to reach node 2"
    )
    await asyncio.to_thread(stop_node, replicated, 1)
    try:
        answers = [await call(http, "GET", replicated.url + "/api" + ME, token=token) for _ in range(6)]
        assert {status for status, _, _ in answers} == {200}
        assert {node for _, _, node in answers} == {"node2", "node3"}
    finally:
        await asyncio.to_thread(start_node, replicated, 1)


async def test_peer_endpoints_refuse_anyone_without_the_peer_key(
    replicated: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    forged = {"from": "x", "changes": [["token:" + "0" * 32, {"session": {}}, 9e12, [9e12, "x"]]]}
    for headers in ({}, {"X-Replication-Key": "0" * 64}):
        status, body, _ = await call(
            http, "POST", replicated.node_url(1) + PATHS["replication.changes"], json=forged, headers=headers
        )
        assert (status, body["success"]) == (403, False)
    status, _, _ = await call(http, "GET", replicated.node_url(1) + PATHS["replication.state"])
    assert status == 403  # the state is every session: not for anyone without the key
    # Through nginx the path does not exist at all.
    status, _, _ = await call(http, "GET", replicated.url + "/api" + PATHS["replication.state"])
    assert status == 404


async def test_a_malformed_batch_from_a_peer_is_a_400_not_a_500(
    replicated: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    key = {"X-Replication-Key": peer_key((replicated.run_dir / "secret-key").read_text().strip())}
    url = replicated.node_url(1) + PATHS["replication.changes"]
    deep = b'{"changes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for body in (b"{", b"[]", b'{"changes": 1}', b'{"changes": [["k", {"v": 1}, "x", null]]}', deep):
        status, answer, _ = await call(http, "POST", url, data=body, headers=key)
        assert (status, answer["success"]) == (400, False), body
    status, answer, _ = await call(http, "POST", url, json={"changes": []}, headers=key)
    assert (status, answer) == (200, {"success": True})


async def test_a_logout_racing_refreshes_on_other_nodes_stays_a_logout(
    replicated: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    # Each refresh elsewhere sends the session's new deadline to every node;
    # arriving after the logout, it must not bring the session back.
    token, _ = await log_in_via(http, replicated.node_url(1))

    await wait_for(
        answers_on(http, replicated, token, (2, 3), 200), within=3, what="the session to reach every node"
    )
    refreshes = [call(http, "GET", replicated.node_url(2 + i % 2) + ME, token=token) for i in range(30)]
    logout = call(http, "POST", replicated.node_url(1) + PATHS["user.logout"], token=token)
    await asyncio.gather(logout, *refreshes)

    gone_everywhere = answers_on(http, replicated, token, (1, 2, 3), 401)
    await wait_for(gone_everywhere, within=3, what="the logout to reach every node")
    await asyncio.sleep(0.5)  # anything still in flight has arrived by now
    assert await gone_everywhere()


async def test_a_peer_key_that_is_not_even_text_is_refused_not_a_500(replicated: ClusterConfig) -> None:
    port = replicated.node_ports[0]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"GET /internal/replication HTTP/1.1\r\nHost: x\r\nX-Replication-Key: \xff\xfe\r\n"
        b"Connection: close\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"403"
