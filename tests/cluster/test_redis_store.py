"""The Redis store against a real Redis: the seed's keys, types and TTLs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from node.models import UserDTO
from node.sessions import LOGIN_CODE_KEY, LOGIN_USER_KEY, RedisSessionStore
from scripts.cluster import ClusterConfig
from tests.helpers import random_phone, wait_for

ALICE = UserDTO(id=42, nick_name="user_abcdefghij", icon="/imgs/a.png")


@pytest.fixture
async def client(redis_cluster: ClusterConfig) -> AsyncIterator[Redis]:
    # Database 1 of the test cluster's Redis: apart from the nodes' keys.
    url = redis_cluster.effective_redis_url().rsplit("/", 1)[0] + "/1"
    redis = Redis.from_url(url, decode_responses=True)
    try:
        yield redis
    finally:
        await redis.aclose()


def store_for(client: Redis, *, code_ttl: float = 120, user_ttl: float = 1800) -> RedisSessionStore:
    return RedisSessionStore(client, code_ttl=code_ttl, user_ttl=user_ttl)


async def test_a_code_is_a_string_at_login_code_phone_with_a_two_minute_ttl(client: Redis) -> None:
    phone = random_phone()
    await store_for(client).save_code(phone, "123456")
    assert await client.get(LOGIN_CODE_KEY + phone) == "123456"
    assert 119_000 < await client.pttl(LOGIN_CODE_KEY + phone) <= 120_000
    assert await store_for(client).get_code(phone) == "123456"


async def test_a_session_is_a_hash_of_strings_at_login_token_with_a_thirty_minute_ttl(client: Redis) -> None:
    await store_for(client).save_user("tok1", ALICE)
    key = LOGIN_USER_KEY + "tok1"
    assert await client.type(key) == "hash"
    assert await client.hgetall(key) == {"id": "42", "nickName": "user_abcdefghij", "icon": "/imgs/a.png"}
    assert 1_799_000 < await client.pttl(key) <= 1_800_000


async def test_loading_a_session_pushes_its_ttl_back(client: Redis) -> None:
    store = store_for(client)
    await store.save_user("tok2", ALICE)
    await client.pexpire(LOGIN_USER_KEY + "tok2", 5_000)
    assert await store.load_user("tok2") == ALICE
    assert await client.pttl(LOGIN_USER_KEY + "tok2") > 1_799_000


async def test_loading_an_unknown_session_creates_nothing(client: Redis) -> None:
    assert await store_for(client).load_user("missing") is None
    assert await client.exists(LOGIN_USER_KEY + "missing") == 0


async def test_an_idle_session_expires_and_then_is_unknown(client: Redis) -> None:
    store = store_for(client, user_ttl=0.2)
    await store.save_user("tok3", ALICE)

    async def gone() -> bool:
        return await client.exists(LOGIN_USER_KEY + "tok3") == 0

    await wait_for(gone, within=5, what="the session key to expire")
    assert await store.load_user("tok3") is None


async def test_an_expired_code_is_none(client: Redis) -> None:
    phone = random_phone()
    store = store_for(client, code_ttl=0.1)
    await store.save_code(phone, "123456")

    async def gone() -> bool:
        return await store.get_code(phone) is None

    await wait_for(gone, within=5, what="the code to expire")


async def test_deleting_a_session_removes_its_key(client: Redis) -> None:
    store = store_for(client)
    await store.save_user("tok4", ALICE)
    await store.delete_user("tok4")
    assert await client.exists(LOGIN_USER_KEY + "tok4") == 0
    assert await store.load_user("tok4") is None
