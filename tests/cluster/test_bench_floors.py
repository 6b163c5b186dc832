"""`make bench`'s floors do the work they stand for: a floor that read
nothing, or logged nobody in, would be fast for nothing and make the
node look slow (scripts/bench_bare.py, scripts/bench_floors.py)."""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg
from redis.asyncio import Redis

from node.routes import PATHS
from node.sessions import LOGIN_CODE_KEY, LOGIN_USER_KEY
from node.tokens import new_token, session_id
from scripts.bench import bare_server, save_floor_session
from scripts.bench_bare import TOKEN, USER
from scripts.cluster import ClusterConfig
from scripts.lab.journey import log_in_lean, new_phone
from scripts.lab.lean_http import LeanConnection

KEY = LOGIN_USER_KEY + session_id(TOKEN)


async def _me(url: str, token: str) -> object:
    async with aiohttp.ClientSession() as http, http.get(url, headers={"authorization": token}) as resp:
        assert resp.status == 200
        return (await resp.json())["data"]


async def _ttl_ms(cfg: ClusterConfig, key: str, set_to: int | None = None) -> int:
    async with Redis.from_url(cfg.effective_redis_url(), decode_responses=True) as redis:
        if set_to is not None:
            await redis.pexpire(key, set_to)
        return int(await redis.pttl(key))


def test_the_floor_without_redis_py_reads_the_session_and_pushes_its_ttl_back(
    redis_cluster: ClusterConfig,
) -> None:
    # (The other Redis floor reads through the node's own batch, which the
    # store's tests cover.)
    asyncio.run(save_floor_session(redis_cluster))
    with bare_server("raw-redis", redis_cluster.effective_redis_url()) as (url, _):
        asyncio.run(_ttl_ms(redis_cluster, KEY, set_to=60_000))
        assert asyncio.run(_me(url, TOKEN)) == USER.to_json()
        assert asyncio.run(_ttl_ms(redis_cluster, KEY)) > 29 * 60 * 1000
        assert asyncio.run(_me(url, new_token())) is None


async def _log_in_and_look(cfg: ClusterConfig, base: str) -> tuple[dict[str, str], int, int, int]:
    """A login through the floor at ``base``: the session's hash, its
    tb_session rows, whether its code is left, and a wrong code's status."""
    async with LeanConnection(base) as conn:
        token = await log_in_lean(conn)
        wrong, _ = await conn.request("POST", PATHS["user.login"], {"phone": new_phone(), "code": "000000"})
    conn_pg = await asyncpg.connect(cfg.effective_database_url())
    try:
        row = await conn_pg.fetchrow(
            "SELECT count(*) AS n, min(u.phone) AS phone FROM tb_session s JOIN tb_user u ON u.id = s.user_id"
            " WHERE s.sid = $1",
            session_id(token),
        )
    finally:
        await conn_pg.close()
    async with Redis.from_url(cfg.effective_redis_url(), decode_responses=True) as redis:
        stored: dict[str, str] = await redis.hgetall(LOGIN_USER_KEY + session_id(token))  # type: ignore[assignment]
        assert row is not None
        code_left = int(await redis.exists(LOGIN_CODE_KEY + row["phone"]))
    return stored, row["n"], code_left, wrong


def test_the_login_floor_logs_a_new_user_in_as_a_login_does(redis_cluster: ClusterConfig) -> None:
    stores = redis_cluster.effective_redis_url(), redis_cluster.effective_database_url()
    with bare_server("login", *stores) as (me_url, _):
        base = me_url.removesuffix(PATHS["user.me"])
        stored, rows, code_left, wrong_status = asyncio.run(_log_in_and_look(redis_cluster, base))
    assert set(stored) == {"id", "nickName", "icon", "exp"} and stored["nickName"].startswith("user_")
    assert rows == 1  # the session's row, as logout-all needs it
    assert code_left == 0  # a code logs in once
    assert wrong_status == 400  # no code was sent to that phone
