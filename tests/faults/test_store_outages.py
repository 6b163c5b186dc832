"""Redis or Postgres gone: 503 (never 401, never a hang), public pages still
served, and recovery by itself once the store is back."""

from __future__ import annotations

import time

import aiohttp
import asyncpg
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from node.outages import DATABASE_UNAVAILABLE, SESSION_STORE_UNAVAILABLE
from node.routes import PATHS
from node.tokens import session_id
from scripts.cluster import ClusterConfig, process_pid, supervisorctl
from tests.faults.conftest import MakeCluster
from tests.helpers import call, log_in_via, me_status, random_phone, read_sms, wait_for


def node_pids(cfg: ClusterConfig) -> dict[str, int]:
    return {name: process_pid(cfg, f"nodes:{name}") for name in cfg.node_names()}


async def answers_from_every_node(
    http: aiohttp.ClientSession, cfg: ClusterConfig, method: str, path: str, **kwargs: object
) -> list[tuple[int, dict[str, object], float]]:
    """(status, body, seconds) from each node, asked directly."""
    out = []
    for index in range(1, cfg.nodes + 1):
        started = time.monotonic()
        status, body, _ = await call(http, method, cfg.node_url(index) + path, **kwargs)  # type: ignore[arg-type]
        out.append((status, body, time.monotonic() - started))
    return out


async def ready(http: aiohttp.ClientSession, cfg: ClusterConfig) -> bool:
    answers = await answers_from_every_node(http, cfg, "GET", PATHS["readyz"])
    return all(status == 200 for status, _, _ in answers)


async def test_with_redis_stopped_logged_in_users_get_503_not_401_and_all_recover(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=2)
    token, _ = await log_in_via(http, cfg.node_url(1))
    pids = node_pids(cfg)
    supervisorctl(cfg, "stop", "redis")

    for status, body, seconds in await answers_from_every_node(
        http, cfg, "GET", PATHS["user.me"], token=token
    ):
        assert (status, body) == (503, {"success": False, "errorMsg": SESSION_STORE_UNAVAILABLE})
        # Refused at once: a wait on a Redis that is not there would be the
        # 1 s connect timeout at least (the room is for a busy machine).
        assert seconds < 0.9
    for status, body, _ in await answers_from_every_node(http, cfg, "GET", "/shop/1", token=token):
        assert status == 200 and body["data"]["id"] == 1  # public: served as anonymous
    for status, body, _ in await answers_from_every_node(http, cfg, "GET", PATHS["readyz"]):
        assert status == 503 and str(body["data"]["sessionStore"]).startswith("unavailable")  # type: ignore[index]
    phone = random_phone()
    status, body, _ = await call(http, "POST", cfg.node_url(1) + PATHS["user.code"], params={"phone": phone})
    assert (status, body["errorMsg"]) == (503, SESSION_STORE_UNAVAILABLE)
    status, body, _ = await call(
        http, "GET", cfg.node_url(1) + PATHS["dev.sms.latest"], params={"phone": phone}
    )
    assert status == 404  # no code stored, so no SMS sent

    supervisorctl(cfg, "start", "redis")
    await wait_for(lambda: ready(http, cfg), what="every node to find Redis again")
    for status, _, _ in await answers_from_every_node(http, cfg, "GET", PATHS["user.me"], token=token):
        assert status == 200  # the session outlived the outage
    assert node_pids(cfg) == pids  # recovered with no restart


async def test_with_redis_hung_requests_fail_within_about_a_second_not_hang(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=1)
    token, _ = await log_in_via(http, cfg.node_url(1))
    supervisorctl(cfg, "signal", "STOP", "redis")  # connections open, nobody answers
    try:
        for path in (PATHS["user.me"], PATHS["user.me"], "/shop/1"):
            [(status, _, seconds)] = await answers_from_every_node(http, cfg, "GET", path, token=token)
            assert status == (503 if path == PATHS["user.me"] else 200)
            # socket_timeout is 1 s, not retried (a retry would be 2 s); a hang
            # would be the client's 10 s.
            assert seconds < 1.9
    finally:
        supervisorctl(cfg, "signal", "CONT", "redis")
    await wait_for(lambda: ready(http, cfg), what="node1 to find Redis again")
    [(status, _, _)] = await answers_from_every_node(http, cfg, "GET", PATHS["user.me"], token=token)
    assert status == 200


async def test_sessions_written_before_redis_is_killed_survive_its_restart(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=2)
    redis = Redis.from_url(cfg.effective_redis_url(), decode_responses=True)
    try:
        config = await redis.config_get("append*")
        assert (config["appendonly"], config["appendfsync"]) == ("yes", "everysec")
        token, _ = await log_in_via(http, cfg.node_url(1))
        for index in (1, 2):  # each node holds a pooled connection to this Redis
            assert await me_status(http, cfg, index, token) == 200
        aof_dir = cfg.run_dir / "redis" / "appendonlydir"
        sid = session_id(token)

        async def in_the_aof() -> bool:
            return any(sid.encode() in f.read_bytes() for f in aof_dir.glob("*.aof"))

        await wait_for(in_the_aof, what="the session to reach the append-only file")
        pid = process_pid(cfg, "redis")
        supervisorctl(cfg, "signal", "KILL", "redis")  # supervisord starts it again

        async def redis_back() -> bool:
            try:
                return process_pid(cfg, "redis") not in (0, pid) and bool(await redis.ping())
            except (RedisConnectionError, RedisTimeoutError):
                return False

        # Asked directly, not through the nodes: their pooled connections
        # died with the old Redis, and the first request on each must still
        # succeed (redis-py's retry replaces the dead connection).
        await wait_for(redis_back, within=30, what="Redis to restart and load its AOF")
        for status, body, _ in await answers_from_every_node(http, cfg, "GET", PATHS["user.me"], token=token):
            assert status == 200, body
    finally:
        await redis.aclose()


async def test_with_postgres_down_login_is_503_logged_in_users_keep_working_and_it_recovers(
    own_cluster: MakeCluster, http: aiohttp.ClientSession
) -> None:
    cfg = await own_cluster(nodes=2)
    token, _ = await log_in_via(http, cfg.node_url(1))
    phone = random_phone()
    await call(http, "POST", cfg.node_url(1) + PATHS["user.code"], params={"phone": phone})
    code = await read_sms(http, cfg.node_url(1), phone)
    pids = node_pids(cfg)
    supervisorctl(cfg, "stop", "postgres")

    for status, body, _ in await answers_from_every_node(
        http, cfg, "POST", PATHS["user.login"], json={"phone": phone, "code": code}
    ):
        assert (status, body) == (503, {"success": False, "errorMsg": DATABASE_UNAVAILABLE})
    for status, _, _ in await answers_from_every_node(http, cfg, "GET", PATHS["user.me"], token=token):
        assert status == 200  # /user/me needs no database
    for status, body, _ in await answers_from_every_node(http, cfg, "GET", "/shop/1"):
        assert (status, body["errorMsg"]) == (503, DATABASE_UNAVAILABLE)

    supervisorctl(cfg, "start", "postgres")

    async def postgres_back() -> bool:
        try:
            conn = await asyncpg.connect(cfg.effective_database_url(), timeout=1)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    await wait_for(postgres_back, within=30, what="Postgres to accept connections")
    # Every node serves database pages again at once, and the code the outage
    # refused still logs in (a 503 does not use it up).
    for status, _, _ in await answers_from_every_node(http, cfg, "GET", "/shop/1"):
        assert status == 200
    status, body, _ = await call(
        http, "POST", cfg.node_url(2) + PATHS["user.login"], json={"phone": phone, "code": code}
    )
    assert status == 200, body
    assert node_pids(cfg) == pids
