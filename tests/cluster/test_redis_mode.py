"""Redis mode: the fix.  Every node sees every code and every session, on
every Redis topology (one server, Sentinel, Redis Cluster)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import aiohttp
import asyncpg
import pytest
from redis.asyncio import Redis

from node import db
from node.models import UserDTO
from node.pg import Pool
from node.redis_client import RedisClient
from node.routes import PATHS
from node.sessions import LOGIN_CODE_KEY, LOGIN_USER_KEY, phone_tag
from node.tokens import session_id
from scripts.cluster import ClusterConfig
from tests.helpers import call, log_in_via, login, random_phone, read_sms, send_code, wait_for

API = "/api"

pytestmark = pytest.mark.every_topology


async def test_a_code_sent_via_one_node_logs_in_via_another(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    node_a, node_b = redis_cluster.node_url(1), redis_cluster.node_url(2)
    assert await send_code(http, node_a, phone) == "node1"
    code = await read_sms(http, node_b, phone)
    status, body, node = await login(http, node_b, phone, code)
    assert (status, node) == (200, "node2")
    assert body["success"] is True and len(body["data"]) == 32


async def test_a_token_from_one_node_works_on_every_node(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, redis_cluster.node_url(3))
    for index in range(1, redis_cluster.nodes + 1):
        status, body, node = await call(
            http, "GET", redis_cluster.node_url(index) + PATHS["user.me"], token=token
        )
        assert (status, node) == (200, f"node{index}"), body
        assert set(body["data"]) == {"id", "nickName", "icon"}
        assert body["data"]["nickName"].startswith("user_") and len(body["data"]["nickName"]) == 15


async def test_thirty_round_robin_requests_through_nginx_all_find_the_session(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    base = redis_cluster.url + API
    token, _ = await log_in_via(http, base)
    seen = []
    for _ in range(30):
        status, body, node = await call(http, "GET", base + PATHS["user.me"], token=token)
        assert status == 200 and body["success"], body
        seen.append(node)
    assert set(seen) == set(redis_cluster.node_names())  # really spread over the nodes


async def test_logout_via_one_node_ends_the_session_on_all(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, redis_cluster.node_url(1))
    status, body, _ = await call(http, "POST", redis_cluster.node_url(2) + PATHS["user.logout"], token=token)
    assert (status, body) == (200, {"success": True})
    for index in range(1, redis_cluster.nodes + 1):
        status, body, _ = await call(
            http, "GET", redis_cluster.node_url(index) + PATHS["user.me"], token=token
        )
        assert status == 401 and body["success"] is False


async def test_any_request_on_any_node_pushes_the_ttl_back_public_pages_too(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, redis: RedisClient
) -> None:
    token, _ = await log_in_via(http, redis_cluster.node_url(1))
    key = LOGIN_USER_KEY + session_id(token)
    pages = [PATHS["user.me"], "/shop/1", PATHS["blog.hot"]]
    for index in range(1, redis_cluster.nodes + 1):
        for page in pages:
            await redis.pexpire(key, 5_000)
            status, _, _ = await call(http, "GET", redis_cluster.node_url(index) + page, token=token)
            assert status == 200
            assert await redis.pttl(key) > 1_790_000, (index, page)


async def test_a_request_pushes_back_only_its_own_session(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, redis: RedisClient
) -> None:
    mine, _ = await log_in_via(http, redis_cluster.node_url(1))
    other, _ = await log_in_via(http, redis_cluster.node_url(2))
    await redis.pexpire(LOGIN_USER_KEY + session_id(mine), 5_000)
    for token in (other, None):
        status, _, _ = await call(http, "GET", redis_cluster.url + API + "/shop/1", token=token)
        assert status == 200
    assert await redis.pttl(LOGIN_USER_KEY + session_id(mine)) <= 5_000


async def test_an_expired_token_gets_401(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, redis: RedisClient
) -> None:
    token, _ = await log_in_via(http, redis_cluster.node_url(1))
    key = LOGIN_USER_KEY + session_id(token)
    await redis.pexpire(key, 1)

    async def expired() -> bool:
        return await redis.exists(key) == 0

    await wait_for(expired, what="the session to expire in Redis")
    status, body, _ = await call(http, "GET", redis_cluster.url + API + PATHS["user.me"], token=token)
    assert status == 401
    assert "no session" in body["errorMsg"]


async def test_the_session_in_redis_is_the_seed_hash_with_the_seed_ttls(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, redis: RedisClient
) -> None:
    phone = random_phone()
    await send_code(http, redis_cluster.node_url(1), phone)
    assert 110_000 < await redis.pttl(LOGIN_CODE_KEY + phone_tag(phone)) <= 120_000
    code = await read_sms(http, redis_cluster.node_url(2), phone)
    _, body, _ = await login(http, redis_cluster.node_url(2), phone, code)
    token = body["data"]
    fields = await redis.hgetall(LOGIN_USER_KEY + session_id(token))
    assert set(fields) == {"id", "nickName", "icon", "exp"}
    assert fields["id"].isdigit()
    assert 1_790_000 < await redis.pttl(LOGIN_USER_KEY + session_id(token)) <= 1_800_000


async def test_simultaneous_first_logins_for_one_phone_create_one_user(
    redis_cluster: ClusterConfig, pg: asyncpg.Connection
) -> None:
    # A code logs in once, so the race is driven below the API: the query
    # every login runs, 12 at once on 12 connections, as 12 nodes would.
    phone = random_phone()
    pool = Pool(redis_cluster.effective_database_url(), size=12)
    try:
        # All 12 open before the race starts.
        for conn in [await pool.take() for _ in range(12)]:
            pool.give(conn)

        async def first_login() -> UserDTO:
            return (await db.new_session(pool, phone, secrets.token_hex(16), max_age=60, in_flight=60)).user

        users = await asyncio.gather(*(first_login() for _ in range(12)))
    finally:
        await pool.close()
    assert len({u.id for u in users}) == 1
    assert await pg.fetchval("SELECT count(*) FROM tb_user WHERE phone = $1", phone) == 1
    # Each login, the losers of the race included, recorded its one session.
    assert await pg.fetchval("SELECT count(*) FROM tb_session WHERE user_id = $1", users[0].id) == 12


async def test_nginx_strips_the_api_prefix_and_names_the_upstream(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    async with http.get(redis_cluster.url + API + PATHS["readyz"]) as resp:
        assert resp.status == 200
        node = resp.headers["X-Node"]
        upstream = resp.headers["X-Upstream"]
    index = int(node.removeprefix("node"))
    assert upstream == f"127.0.0.1:{redis_cluster.node_ports[index - 1]}"
    async with http.get(redis_cluster.url + "/") as resp:
        assert resp.status == 200
        assert "text/html" in resp.headers["Content-Type"]


async def test_the_phone_reads_the_same_sms_from_any_node(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    await send_code(http, redis_cluster.node_url(2), phone)
    codes = {await read_sms(http, redis_cluster.node_url(i), phone) for i in (1, 2, 3)}
    assert len(codes) == 1


async def node_commands_during(
    redis_cluster: ClusterConfig, request: Callable[[], Awaitable[object]]
) -> list[str]:
    """The commands the nodes sent Redis while ``request`` ran (MONITOR),
    leaving out those a script ran inside Redis: one per round trip."""
    marker = "end-of-request-" + random_phone()
    watcher = Redis.from_url(redis_cluster.effective_redis_url(), decode_responses=True)
    poker = Redis.from_url(redis_cluster.effective_redis_url(), decode_responses=True)
    seen: list[str] = []
    try:
        await poker.ping()  # connected before MONITOR starts, so its HELLO is not seen
        async with watcher.monitor() as monitor:

            async def run() -> None:
                await request()
                await poker.echo(marker)

            task = asyncio.create_task(run())
            async for entry in monitor.listen():
                if marker in entry["command"]:
                    break
                if entry["client_type"] != "lua":
                    seen.append(entry["command"].split()[0].upper())
            await task
    finally:
        await watcher.aclose()
        await poker.aclose()
    return seen


@pytest.mark.one_server  # MONITOR watches one server
async def test_an_authenticated_request_reads_its_session_and_pushes_its_ttl_back_in_one_round_trip(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    base = redis_cluster.node_url(1)
    token, _ = await log_in_via(http, base)
    await call(http, "GET", base + PATHS["user.me"], token=token)  # connection warm

    async def round_trips() -> int:
        info = await call(http, "GET", base + PATHS["cluster.info"])
        return int(info.body["data"]["stats"]["roundTrips"])

    for page in (PATHS["user.me"], "/shop/1"):
        before = await round_trips()
        commands = await node_commands_during(
            redis_cluster, lambda page=page: call(http, "GET", base + page, token=token)
        )
        assert commands == ["HMGET", "PEXPIRE"], page
        assert await round_trips() == before + 1, page
    # Without a token, a public page asks Redis nothing.
    assert await node_commands_during(redis_cluster, lambda: call(http, "GET", base + "/shop/1")) == []
