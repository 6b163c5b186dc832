"""The app factory in-process, on the test cluster's real Redis and Postgres:
the middleware order, request-scoped users, and the error envelope."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from node.routes import PATHS
from node.typedefs import PIPELINE
from scripts.lab.journey import walk_login
from tests.conftest import Client, MakeClient
from tests.helpers import random_phone


async def log_in(client: Client) -> tuple[str, int]:
    walk = await walk_login(client.session, str(client.make_url("")), random_phone())
    assert walk.steps["code"].status == 200
    token = walk.steps["login"].body["data"]
    me = await (await client.get(PATHS["user.me"], headers={"authorization": token})).json()
    return token, me["data"]["id"]


@pytest.mark.parametrize("store", ["redis", "memory"])
async def test_concurrent_requests_each_see_only_their_own_user(make_client: MakeClient, store: str) -> None:
    client = await make_client(store)
    users = [await log_in(client) for _ in range(20)]

    async def whoami(token: str) -> int:
        resp = await client.get(PATHS["user.me"], headers={"authorization": token})
        return int((await resp.json())["data"]["id"])

    # Interleave 5 rounds of every user's request on one event loop.
    tokens = [token for token, _ in users] * 5
    ids = await asyncio.gather(*(whoami(t) for t in tokens))
    assert ids == [uid for _, uid in users] * 5


async def test_a_public_page_needs_no_login_and_a_protected_one_does(make_client: MakeClient) -> None:
    client = await make_client()
    assert (await client.get("/shop/1")).status == 200
    assert (await client.get(PATHS["blog.hot"])).status == 200
    resp = await client.get(PATHS["user.me"])
    assert resp.status == 401
    assert (await resp.json())["success"] is False


async def test_an_unknown_path_is_404_not_401(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get("/no/such/page")
    assert resp.status == 404
    assert await resp.json() == {"success": False, "errorMsg": "not found"}
    assert resp.headers["X-Node"] == "inproc"


async def test_an_unexpected_error_is_a_500_envelope_without_internals(make_client: MakeClient) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    def add_boom(app: web.Application) -> None:
        app.router.add_get("/shop/boom/x", app[PIPELINE].guard("boom", boom, public=True, method="GET"))

    client = await make_client(setup=add_boom)
    resp = await client.get("/shop/boom/x")
    assert resp.status == 500
    text = await resp.text()
    assert "secret" not in text and "Traceback" not in text
    assert await resp.json() == {"success": False, "errorMsg": "internal server error"}


async def test_with_the_outbox_off_the_phone_endpoint_is_gone(make_client: MakeClient) -> None:
    client = await make_client(sms_outbox=False)
    resp = await client.get(PATHS["dev.sms.latest"], params={"phone": random_phone()})
    assert resp.status == 404


async def test_readyz_reports_each_store(make_client: MakeClient) -> None:
    client = await make_client()
    body = await (await client.get(PATHS["readyz"])).json()
    assert body["data"] == {
        "node": "inproc",
        "store": "redis",
        "postgres": "ok",
        "sessionStore": "ok",
    }
