"""The Redis store against a real Redis: the seed's key names, types and
TTLs, and what is (not) kept of a code or a token.  On each topology."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from node.models import UserDTO
from node.outages import SESSION_STORE_DOWN
from node.redis_client import RedisClient
from node.sessions import (
    LOGIN_CODE_KEY,
    LOGIN_USER_KEY,
    Policy,
    RedisLoginGuard,
    RedisSessionStore,
    phone_tag,
)
from node.tokens import code_mac, new_token, session_id
from scripts.cluster import ClusterConfig
from tests.helpers import random_phone, redis_of, wait_for

pytestmark = pytest.mark.every_topology

ALICE = UserDTO(id=42, nick_name="user_abcdefghij", icon="/imgs/a.png")


@pytest.fixture
async def client(redis_cluster: ClusterConfig) -> AsyncIterator[RedisClient]:
    # Database 1 of the test cluster's Redis: apart from the nodes' keys
    # (a Redis Cluster has only database 0: there, beside them).
    async with redis_of(redis_cluster, db=1) as redis:
        yield redis


def store_for(client: RedisClient, **policy: float) -> RedisSessionStore:
    return RedisSessionStore(client, Policy(**policy))  # type: ignore[arg-type]


def guard_for(client: RedisClient, **policy: float) -> RedisLoginGuard:
    return RedisLoginGuard(client, Policy(**policy))  # type: ignore[arg-type]


async def test_a_code_is_a_hash_of_its_hmac_and_tries_with_a_two_minute_ttl(client: RedisClient) -> None:
    phone = random_phone()
    mac = code_mac(b"k", phone, "123456")
    assert await guard_for(client).save_code(phone, mac) is None
    key = LOGIN_CODE_KEY + phone_tag(phone)
    assert await client.hgetall(key) == {"mac": mac, "tries": "0"}
    assert "123456" not in str(await client.hgetall(key))
    assert 110_000 < await client.pttl(key) <= 120_000  # room for a busy machine


async def test_a_session_is_a_hash_of_strings_under_the_tokens_sha256(client: RedisClient) -> None:
    token = new_token()
    await store_for(client).save_user(session_id(token), ALICE)
    assert await client.exists(LOGIN_USER_KEY + token) == 0
    key = LOGIN_USER_KEY + session_id(token)
    assert await client.type(key) == "hash"
    fields = await client.hgetall(key)
    assert {k: fields[k] for k in ("id", "nickName", "icon")} == {
        "id": "42",
        "nickName": "user_abcdefghij",
        "icon": "/imgs/a.png",
    }
    assert fields["exp"].isdigit()  # the absolute expiry, ms since the epoch
    assert 1_790_000 < await client.pttl(key) <= 1_800_000


@pytest.mark.parametrize(
    "mistakes", [(), ("json-string",), ("no-refresh",), ("json-string", "no-refresh")], ids=str
)
async def test_loading_a_session_pushes_its_ttl_back_unless_the_mistake_says_not(
    client: RedisClient, mistakes: tuple[str, ...]
) -> None:
    store, sid = RedisSessionStore(client, Policy(mistakes=mistakes)), session_id(new_token())
    await store.save_user(sid, ALICE)
    await client.pexpire(LOGIN_USER_KEY + sid, 5_000)
    assert await store.load_user(sid) == ALICE
    ttl = await client.pttl(LOGIN_USER_KEY + sid)
    assert 0 < ttl <= 5_000 if "no-refresh" in mistakes else ttl > 1_790_000


async def test_near_its_max_age_a_read_leaves_the_session_no_longer_than_it_has_left(
    client: RedisClient,
) -> None:
    store, sid = store_for(client, login_user_ttl=1800, session_max_age=60), session_id(new_token())
    await store.save_user(sid, ALICE)
    # The refresh pushes the TTL to 30 minutes first, then back to what is left.
    assert await store.load_user(sid) == ALICE
    assert 0 < await client.pttl(LOGIN_USER_KEY + sid) <= 60_000


async def test_a_session_read_past_its_max_age_is_deleted(client: RedisClient) -> None:
    store, sid = store_for(client), session_id(new_token())
    await store.save_user(sid, ALICE)
    await client.hset(LOGIN_USER_KEY + sid, "exp", 1)  # its end, long past
    assert await store.load_user(sid) is None
    assert await client.exists(LOGIN_USER_KEY + sid) == 0


async def test_loading_an_unknown_session_creates_nothing(client: RedisClient) -> None:
    assert await store_for(client).load_user("missing") is None
    assert await client.exists(LOGIN_USER_KEY + "missing") == 0


async def test_an_idle_session_expires_and_then_is_unknown(client: RedisClient) -> None:
    store, sid = store_for(client, login_user_ttl=0.2), session_id(new_token())
    await store.save_user(sid, ALICE)

    async def gone() -> bool:
        return await client.exists(LOGIN_USER_KEY + sid) == 0

    await wait_for(gone, within=5, what="the session key to expire")
    assert await store.load_user(sid) is None


async def test_an_expired_code_is_gone(client: RedisClient) -> None:
    phone = random_phone()
    guard = guard_for(client, login_code_ttl=0.1)
    await guard.save_code(phone, "mac")

    async def gone() -> bool:
        return (await guard.take_attempt(phone)).status == "none"

    await wait_for(gone, within=5, what="the code to expire")


async def test_a_session_is_one_key_and_nothing_per_user(client: RedisClient) -> None:
    # Which sessions a user has is in Postgres (tb_session), not in Redis:
    # a per-user index here cost more memory than the session itself.
    user = UserDTO(id=int(random_phone()), nick_name="u")
    sid = session_id(new_token())
    # SCAN, not KEYS: on a Redis Cluster it asks every master.
    before = {key async for key in client.scan_iter("*")}
    await store_for(client).save_user(sid, user)
    assert {key async for key in client.scan_iter("*")} - before == {LOGIN_USER_KEY + sid}


async def test_reads_batched_in_one_tick_each_get_their_own_answer(client: RedisClient) -> None:
    # Concurrent requests' reads go to Redis as one pipeline (redis_io.TickBatch):
    # each must still get its own session, or none.
    store = store_for(client)
    users = {session_id(new_token()): UserDTO(id=i, nick_name=f"user_{i:010d}") for i in range(150)}
    for sid, user in users.items():
        await store.save_user(sid, user)
    asked = [*users, *(session_id(new_token()) for _ in range(50))]  # 50 unknown ones mixed in
    answers = await asyncio.gather(*(store.load_user(sid) for sid in asked))
    assert answers == [users.get(sid) for sid in asked]


async def test_a_batch_survives_a_redis_that_forgot_its_scripts(client: RedisClient) -> None:
    store = store_for(client)
    sid = session_id(new_token())
    await store.save_user(sid, ALICE)
    await client.script_flush()  # as after a restart: NOSCRIPT, then loaded again
    assert await asyncio.gather(store.load_user(sid), store.load_user(sid)) == [ALICE, ALICE]


async def test_a_connection_closed_under_a_request_is_the_store_out_of_reach_not_a_bug(
    client: RedisClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = store_for(client)
    sid = session_id(new_token())
    await store.save_user(sid, ALICE)  # connected, before anything is closed
    send = AbstractConnection._send_packed_command

    # What redis-py's cluster client does to requests in flight when a
    # master dies: it closes every connection, one a request is writing on
    # included.  Either redis-py finds its writer gone ...
    async def writer_gone(conn: AbstractConnection, command: Any) -> None:
        if conn._writer is not None:
            conn._writer.close()
        conn._reader = conn._writer = None  # as disconnect() leaves them
        await send(conn, command)

    # ... or uvloop refuses to write on the transport closed under it.
    async def transport_closed(conn: AbstractConnection, command: Any) -> None:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed")

    # The batched read writes on a connection of its own (one server,
    # Sentinel: node/sessions/redis_io.py), where the same fault is uvloop
    # refusing the write.
    def refused(*args: object) -> None:
        raise RuntimeError("unable to perform operation on <TCPTransport closed=True>; the handler is closed")

    for closing in (writer_gone, transport_closed):
        monkeypatch.setattr(AbstractConnection, "_send_packed_command", closing)
        monkeypatch.setattr(asyncio.StreamWriter, "write", refused)
        with pytest.raises(RedisConnectionError, match="closed under the request"):
            await store.load_user(sid)  # the batched read
        with pytest.raises(RedisConnectionError, match="closed under the request"):
            await store.save_user(session_id(new_token()), ALICE)
    monkeypatch.undo()
    assert await store.load_user(sid) == ALICE  # the next request connects afresh

    # The same errors raised anywhere but in redis-py's connection code are
    # bugs, and stay bugs (a 500).
    for error in (
        RuntimeError("Event loop is closed"),
        AttributeError("'NoneType' object has no attribute 'x'"),
    ):

        def bug(*args: object, error: Exception = error, **kwargs: object) -> None:
            raise error

        monkeypatch.setattr(client, "pipeline", bug)
        with pytest.raises(type(error), match=str(error)):
            await store.end_sessions([session_id(new_token())])


@pytest.mark.one_server
async def test_at_maxmemory_sessions_go_on_and_new_state_is_an_outage(client: RedisClient) -> None:
    # The Redis `make up` starts has a maxmemory and evicts nothing: past it
    # nobody is logged out, and what needs memory fails as an outage (503).
    assert (await client.config_get("maxmemory-policy"))["maxmemory-policy"] == "noeviction"
    limit = (await client.config_get("maxmemory"))["maxmemory"]
    assert int(limit) > 0
    store, sid = store_for(client), session_id(new_token())
    await store.save_user(sid, ALICE)
    await client.config_set("maxmemory", "1")
    try:
        assert await store.load_user(sid) == ALICE
        with pytest.raises(SESSION_STORE_DOWN):
            await guard_for(client).save_code(random_phone(), "mac")
        with pytest.raises(SESSION_STORE_DOWN):
            await store.save_user(session_id(new_token()), ALICE)
    finally:
        await client.config_set("maxmemory", limit)
