"""MISTAKE=: each of the seed's wrong turns, made by the real app in this
process on the test cluster's Redis and Postgres, fails the way the seed
says it does; and the fix, the same app without it, does not."""

from __future__ import annotations

import json

import pytest

from node.redis_client import RedisClient
from node.routes import PATHS
from node.sessions import LOGIN_USER_KEY
from node.sessions.keys import FIXED_CODE_KEY
from node.tokens import session_id
from scripts.lab.journey import read_sms, send_code, submit_code, walk_login
from tests.conftest import Client, MakeClient
from tests.helpers import random_phone, wait_for


def base(client: Client) -> str:
    return str(client.make_url("")).rstrip("/")


async def log_in(client: Client) -> tuple[str, str]:
    """A new user logged in; (phone, token)."""
    walk = await walk_login(client.session, base(client), random_phone())
    return walk.phone, walk.token


async def me(client: Client, token: str, path: str = PATHS["user.me"]) -> int:
    return (await client.get(path, headers={"authorization": token})).status


async def test_with_one_key_for_every_code_the_next_phones_code_makes_the_first_wrong(
    make_client: MakeClient, redis: RedisClient
) -> None:
    client = await make_client(mistakes=("fixed-code-key",))
    http, url = client.session, base(client)
    first, second = random_phone(), random_phone()
    for phone in (first, second):
        assert (await send_code(http, url, phone)).status == 200
    assert await redis.exists(FIXED_CODE_KEY) == 1
    codes = [str((await read_sms(http, url, phone)).body["data"]["code"]) for phone in (first, second)]
    refused = await submit_code(http, url, first, codes[0])
    assert (refused.status, refused.body["errorMsg"]) == (400, "wrong code")
    assert (await submit_code(http, url, second, codes[1])).status == 200


async def test_with_the_phone_as_token_whoever_knows_the_number_is_that_user(make_client: MakeClient) -> None:
    client = await make_client(mistakes=("phone-token",), send_interval=0)
    phone, token = await log_in(client)
    assert token == phone
    stranger = await client.get(PATHS["user.me"], headers={"authorization": phone})
    assert stranger.status == 200
    # A second login of the same user is the same token, and no 500.
    assert (await log_in_again(client, phone)) == phone


async def log_in_again(client: Client, phone: str) -> str:
    return (await walk_login(client.session, base(client), phone)).token


async def test_without_the_mistake_a_phone_number_is_not_a_token(make_client: MakeClient) -> None:
    client = await make_client()
    phone, token = await log_in(client)
    assert len(token) == 32 and token != phone
    assert await me(client, phone) == 401


def test_the_phone_as_token_is_refused_off_loopback() -> None:
    from node.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="loopback"):
        Settings(host="0.0.0.0", mistakes=("phone-token",))


@pytest.mark.parametrize(
    ("mistakes", "page", "refreshed"),
    [
        ((), "user.me", True),
        ((), "blog.hot", True),  # public: the refresh interceptor runs everywhere
        (("no-refresh",), "user.me", False),
        (("no-refresh",), "blog.hot", False),
        (("one-interceptor",), "user.me", True),  # protected: the one interceptor refreshes
        (("one-interceptor",), "blog.hot", False),
    ],
)
async def test_a_request_pushes_the_ttl_back_but_where_a_mistake_says_not(
    make_client: MakeClient, redis: RedisClient, mistakes: tuple[str, ...], page: str, refreshed: bool
) -> None:
    client = await make_client(mistakes=mistakes, login_user_ttl=60)
    _, token = await log_in(client)
    key = LOGIN_USER_KEY + session_id(token)
    await wait_for(lambda: ttl_below(redis, key, 59_700), what="the TTL to run down a little")
    assert await me(client, token, PATHS[page]) == 200
    assert (await redis.pttl(key) > 59_700) is refreshed


async def ttl_below(redis: RedisClient, key: str, ms: int) -> bool:
    return 0 < await redis.pttl(key) < ms


async def test_as_a_json_string_the_user_is_read_whole_and_a_rename_rewrites_it_whole(
    make_client: MakeClient, redis: RedisClient
) -> None:
    client = await make_client(mistakes=("json-string",))
    _, token = await log_in(client)
    key = LOGIN_USER_KEY + session_id(token)
    assert await redis.type(key) == "string"
    stored = json.loads(await redis.get(key) or "{}")
    assert set(stored) == {"id", "nickName", "icon", "exp"}
    ttl = await redis.pttl(key)
    renamed = await client.patch(
        PATHS["user.me"], json={"nickName": "json_user"}, headers={"authorization": token}
    )
    assert renamed.status == 200
    assert json.loads(await redis.get(key) or "{}") == {**stored, "nickName": "json_user"}
    assert 0 < ttl - 5000 < await redis.pttl(key)  # KEEPTTL: the rewrite kept the TTL
    body = await (await client.get(PATHS["user.me"], headers={"authorization": token})).json()
    assert body["data"]["nickName"] == "json_user"


async def test_a_rename_reaches_every_live_session_of_the_user_as_a_hash_field(
    make_client: MakeClient, redis: RedisClient
) -> None:
    client = await make_client(send_interval=0)
    phone, first = await log_in(client)
    second = await log_in_again(client, phone)
    resp = await client.patch(
        PATHS["user.me"], json={"nickName": "新的昵称"}, headers={"authorization": first}
    )
    assert resp.status == 200
    for token in (first, second):
        key = LOGIN_USER_KEY + session_id(token)
        assert await redis.type(key) == "hash" and await redis.hget(key, "nickName") == "新的昵称"
        body = await (await client.get(PATHS["user.me"], headers={"authorization": token})).json()
        assert body["data"]["nickName"] == "新的昵称"


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"nickName": ""}',
        b'{"nickName": 7}',
        b'{"nickName": "a\\nb"}',
        json.dumps({"nickName": "x" * 33}).encode(),
        b'{"nickName": "ok", "id": 1}',
        b"{",
    ],
    ids=["not-object", "empty", "number", "control", "too-long", "other-field", "broken"],
)
async def test_a_rename_that_is_not_one_printable_nick_name_is_a_400(
    make_client: MakeClient, body: bytes
) -> None:
    client = await make_client()
    _, token = await log_in(client)
    resp = await client.patch(PATHS["user.me"], data=body, headers={"authorization": token})
    assert resp.status == 400
    assert (await resp.json())["success"] is False
    assert (await (await client.get(PATHS["user.me"], headers={"authorization": token})).json())["data"][
        "nickName"
    ].startswith("user_")


async def test_cluster_info_and_the_xray_name_what_the_mistakes_change(
    make_client: MakeClient, redis: RedisClient
) -> None:
    client = await make_client(mistakes=("fixed-code-key", "json-string"))
    info = await (await client.get(PATHS["cluster.info"])).json()
    assert info["data"]["mistakes"] == ["fixed-code-key", "json-string"]
    phone = random_phone()
    assert (await send_code(client.session, base(client), phone)).status == 200
    xray = await (await client.get(PATHS["dev.xray"], params={"phone": phone})).json()
    assert FIXED_CODE_KEY in [entry["key"] for entry in xray["data"]["redis"]]
