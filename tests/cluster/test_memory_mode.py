"""Memory mode: the seed's bug, on purpose.  Each node keeps its own
sessions, so whatever one node stored the others do not know."""

from __future__ import annotations

import aiohttp
from redis.asyncio import Redis

from node.routes import PATHS
from node.sessions import LOGIN_CODE_KEY
from scripts.cluster import ClusterConfig
from tests.helpers import call, log_in_via, login, random_phone, read_sms, send_code


async def test_a_code_sent_via_one_node_is_a_wrong_code_on_another(
    memory_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    await send_code(http, memory_cluster.node_url(1), phone)
    code = await read_sms(http, memory_cluster.node_url(2), phone)  # the phone got it
    for other in (2, 3):
        status, body, node = await login(http, memory_cluster.node_url(other), phone, code)
        assert (status, node) == (400, f"node{other}")
        assert body == {"success": False, "errorMsg": "wrong code"}
    # ... while the node that sent it accepts the very same code.
    status, body, _ = await login(http, memory_cluster.node_url(1), phone, code)
    assert status == 200 and body["success"]


async def test_a_token_issued_by_one_node_is_unknown_to_the_others(
    memory_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, node = await log_in_via(http, memory_cluster.node_url(2))
    assert node == "node2"
    for index in range(1, memory_cluster.nodes + 1):
        status, body, _ = await call(
            http, "GET", memory_cluster.node_url(index) + PATHS["user.me"], token=token
        )
        if index == 2:
            assert status == 200, body
        else:
            assert status == 401 and body["success"] is False


async def test_round_robin_through_nginx_finds_the_session_only_on_its_node(
    memory_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    base = memory_cluster.url + "/api"
    token, issuer = await log_in_via(http, memory_cluster.node_url(3))
    answers = [await call(http, "GET", base + PATHS["user.me"], token=token) for _ in range(30)]
    found = [node for status, _, node in answers if status == 200]
    lost = [node for status, _, node in answers if status == 401]
    assert len(found) + len(lost) == 30
    assert set(found) == {issuer}
    assert set(lost) == set(memory_cluster.node_names()) - {issuer}
    assert len(lost) >= 15  # about (N-1)/N of the requests: 20 of 30 with 3 nodes


async def test_logging_in_through_nginx_fails_when_the_next_request_lands_elsewhere(
    memory_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    # The seed's story as a user lives it: send a code, then log in; round
    # robin sends the login to the next node, which has never seen the code.
    base = memory_cluster.url + "/api"
    phone = random_phone()
    sender = await send_code(http, base, phone)
    code = await read_sms(http, memory_cluster.node_url(1), phone)
    status, body, node = await login(http, base, phone, code)
    assert node != sender
    assert (status, body["errorMsg"]) == (400, "wrong code")


async def test_logout_on_one_node_leaves_nothing_for_the_others_to_end(
    memory_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, memory_cluster.node_url(1))
    status, _, _ = await call(http, "POST", memory_cluster.node_url(2) + PATHS["user.logout"], token=token)
    assert status == 401  # node2 does not know this token, so cannot log it out
    status, _, _ = await call(http, "GET", memory_cluster.node_url(1) + PATHS["user.me"], token=token)
    assert status == 200  # and on node1 the session lives on


async def test_memory_mode_writes_nothing_to_redis(
    memory_cluster: ClusterConfig, http: aiohttp.ClientSession, redis: Redis
) -> None:
    phone = random_phone()
    await send_code(http, memory_cluster.node_url(1), phone)
    assert await redis.exists(LOGIN_CODE_KEY + phone) == 0
