"""Bad input, through nginx: always a clear envelope and a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from node.routes import PATHS
from scripts.cluster import ClusterConfig
from tests.helpers import call, login, random_phone, read_sms, send_code


@pytest.fixture
def api(redis_cluster: ClusterConfig) -> str:
    return redis_cluster.url + "/api"


async def raw(
    http: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[int, dict[str, Any]]:
    async with http.request(method, url, **kwargs) as resp:
        assert resp.content_type == "application/json", await resp.text()
        return resp.status, await resp.json()


def assert_refused(status: int, body: dict[str, Any], want_status: int, message: str) -> None:
    assert status == want_status, body
    assert body["success"] is False
    assert message in body["errorMsg"]


@pytest.mark.parametrize(
    "phone", ["15,12345678", "1380000000", "abc", "", "13800000001\n", "１３８００００００００１", "1" * 5000]
)
async def test_an_invalid_phone_is_refused_when_asking_for_a_code(
    http: aiohttp.ClientSession, api: str, phone: str
) -> None:
    status, body = await raw(http, "POST", api + PATHS["user.code"], params={"phone": phone})
    assert_refused(status, body, 400, "invalid phone number")


async def test_asking_for_a_code_without_a_phone_is_refused(http: aiohttp.ClientSession, api: str) -> None:
    status, body = await raw(http, "POST", api + PATHS["user.code"])
    assert_refused(status, body, 400, "invalid phone number")


async def test_a_phone_may_also_come_as_a_form_field(http: aiohttp.ClientSession, api: str) -> None:
    status, body = await raw(http, "POST", api + PATHS["user.code"], data={"phone": random_phone()})
    assert (status, body) == (200, {"success": True})


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"phone": "12345", "code": "123456"}, "invalid phone number"),
        ({"phone": 13800000001, "code": "123456"}, "invalid phone number"),
        ({"code": "123456"}, "invalid phone number"),
        ({"phone": "13800000001"}, "code is required"),
        ({"phone": "13800000001", "password": "hunter2"}, "password login is not supported"),
        ({"phone": "13800000001", "code": 123456}, "wrong code"),
        ({"phone": "13800000001", "code": ["1"]}, "wrong code"),
        ({"phone": "13800000001", "code": "１２３４５６"}, "wrong code"),
        ([1, 2, 3], "must be a JSON object"),
        ("a string", "must be a JSON object"),
        (None, "must be a JSON object"),
    ],
)
async def test_a_malformed_login_form_is_refused(
    http: aiohttp.ClientSession, api: str, payload: object, message: str
) -> None:
    status, body = await raw(http, "POST", api + PATHS["user.login"], json=payload)
    assert_refused(status, body, 400, message)


@pytest.mark.parametrize("data", [b"", b"{", b"{'phone': 1}", b"\xff\xfe", b"phone=13800000001&code=1"])
async def test_a_login_body_that_is_not_json_is_refused(
    http: aiohttp.ClientSession, api: str, data: bytes
) -> None:
    status, body = await raw(
        http, "POST", api + PATHS["user.login"], data=data, headers={"content-type": "application/json"}
    )
    assert_refused(status, body, 400, "must be a JSON object")


async def test_a_wrong_code_is_refused_and_the_right_one_still_works(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, api: str
) -> None:
    phone = random_phone()
    await send_code(http, api, phone)
    status, body = await raw(http, "POST", api + PATHS["user.login"], json={"phone": phone, "code": "000000"})
    if status == 200:  # one chance in a million that 000000 was the code
        return
    assert_refused(status, body, 400, "wrong code")
    status, body, _ = await login(http, api, phone, await read_sms(http, api, phone))
    assert status == 200 and len(body["data"]) == 32


async def test_a_code_for_a_phone_that_asked_for_none_is_wrong(http: aiohttp.ClientSession, api: str) -> None:
    status, body = await raw(
        http, "POST", api + PATHS["user.login"], json={"phone": random_phone(), "code": "123456"}
    )
    assert_refused(status, body, 400, "wrong code")


@pytest.mark.parametrize(
    "authorization",
    ["", "   ", "nope", "0" * 32, "Bearer " + "0" * 32, "x" * 4000, "login:token:*"],
)
async def test_an_empty_unknown_or_malformed_authorization_gets_401(
    http: aiohttp.ClientSession, api: str, authorization: str
) -> None:
    status, body, _ = await call(http, "GET", api + PATHS["user.me"], token=authorization)
    assert_refused(status, body, 401, "not logged in")


async def test_no_authorization_header_gets_401(http: aiohttp.ClientSession, api: str) -> None:
    status, body = await raw(http, "GET", api + PATHS["user.me"])
    assert_refused(status, body, 401, "not logged in")


async def test_logout_without_a_session_gets_401(http: aiohttp.ClientSession, api: str) -> None:
    status, body = await raw(http, "POST", api + PATHS["user.logout"])
    assert_refused(status, body, 401, "not logged in")


@pytest.mark.parametrize(
    ("path", "want", "message"),
    [
        ("/shop/abc", 400, "shop id must be"),
        ("/shop/0", 400, "shop id must be"),
        ("/shop/-1", 400, "shop id must be"),
        ("/shop/" + "9" * 40, 400, "shop id must be"),
        ("/shop/999999", 404, "shop not found"),
        (PATHS["blog.hot"] + "?current=0", 400, "current must be"),
        (PATHS["blog.hot"] + "?current=x", 400, "current must be"),
        (PATHS["dev.sms.latest"] + "?phone=1", 400, "invalid phone number"),
        (PATHS["dev.sms.latest"] + "?phone=13900000000", 404, "no SMS"),
        ("/no/such/path", 404, "not found"),
    ],
)
async def test_bad_paths_and_parameters_get_a_clear_4xx(
    http: aiohttp.ClientSession, api: str, path: str, want: int, message: str
) -> None:
    status, body = await raw(http, "GET", api + path)
    assert_refused(status, body, want, message)


async def test_the_wrong_method_gets_405(http: aiohttp.ClientSession, api: str) -> None:
    status, body = await raw(http, "GET", api + PATHS["user.login"])
    assert_refused(status, body, 405, "method not allowed")


async def test_an_oversized_body_gets_413(http: aiohttp.ClientSession, api: str) -> None:
    payload = {"phone": "13800000001", "code": "1" * 20_000}
    status, body = await raw(http, "POST", api + PATHS["user.login"], json=payload)
    assert_refused(status, body, 413, "too large")


async def test_public_pages_answer_with_data(http: aiohttp.ClientSession, api: str) -> None:
    status, body = await raw(http, "GET", api + "/shop/1")
    assert status == 200 and body["data"]["id"] == 1 and body["data"]["name"]
    status, body = await raw(http, "GET", api + PATHS["blog.hot"])
    assert status == 200
    liked = [blog["liked"] for blog in body["data"]]
    assert liked == sorted(liked, reverse=True) and len(liked) >= 1
    status, body = await raw(http, "GET", api + PATHS["blog.hot"] + "?current=999")
    assert (status, body) == (200, {"success": True, "data": []})


@pytest.mark.parametrize(
    ("data", "headers", "message"),
    [
        (b"[" * 15_000, {"content-type": "application/json"}, "must be a JSON object"),
        (b'{"a":' * 3_000, {"content-type": "application/json"}, "must be a JSON object"),
        (
            b"not gzip at all",
            {"content-type": "application/json", "content-encoding": "gzip"},
            "could not be decoded",
        ),
        (
            b"not deflate",
            {"content-type": "application/json", "content-encoding": "deflate"},
            "could not be decoded",
        ),
    ],
)
async def test_a_login_body_that_cannot_be_read_is_refused(
    http: aiohttp.ClientSession, api: str, data: bytes, headers: dict[str, str], message: str
) -> None:
    status, body = await raw(http, "POST", api + PATHS["user.login"], data=data, headers=headers)
    assert_refused(status, body, 400, message)


@pytest.mark.parametrize(
    "content_type",
    ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=no-such-charset"],
)
async def test_a_code_form_that_cannot_be_decoded_is_refused(
    http: aiohttp.ClientSession, api: str, content_type: str
) -> None:
    status, body = await raw(
        http,
        "POST",
        api + PATHS["user.code"],
        data=b"phone=\xff\xfe\xfd",
        headers={"content-type": content_type},
    )
    assert_refused(status, body, 400, "not a valid form")


async def test_nginx_refuses_an_oversized_body_with_the_envelope(
    http: aiohttp.ClientSession, api: str
) -> None:
    # Over nginx's 16 KiB the node is never asked; nginx's answer is the envelope too.
    async with http.post(api + PATHS["user.login"], data=b"x" * 40_000) as resp:
        assert resp.status == 413
        assert "X-Node" not in resp.headers
        assert await resp.json() == {"success": False, "errorMsg": "request body too large"}


async def test_nginx_refuses_an_overlong_url_or_header_with_the_envelope(
    http: aiohttp.ClientSession, api: str
) -> None:
    async with http.get(api + "/shop/" + "1" * 9_000) as resp:
        assert resp.status == 414
        assert (await resp.json())["success"] is False
    async with http.get(api + PATHS["user.me"], headers={"x-big": "a" * 9_000}) as resp:
        assert resp.status == 400
        assert (await resp.json())["success"] is False
