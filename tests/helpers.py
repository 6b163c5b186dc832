"""What the tests do as a user would: send a code, read the phone, log in."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiohttp

from node.redis_client import RedisClient, open_redis
from node.routes import PATHS
from scripts.journey import new_phone

if TYPE_CHECKING:
    from scripts.cluster import ClusterConfig


class Clock:
    """A fake clock for the stores, which take their time from one: set
    ``now`` (Unix seconds) by hand."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def me_status(http: aiohttp.ClientSession, cfg: ClusterConfig, index: int, token: str) -> int:
    """The status of /user/me with ``token`` on node ``index`` directly."""
    return (await call(http, "GET", cfg.node_url(index) + PATHS["user.me"], token=token))[0]


def random_phone() -> str:
    """A valid phone no other test of this run uses (138 + 8 digits)."""
    return new_phone("138")


async def call(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    token: str | None = None,
    **kwargs: Any,
) -> tuple[int, dict[str, Any], str]:
    """One request: (status, JSON envelope, X-Node)."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["authorization"] = token
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        body = await resp.json(content_type=None)
        return resp.status, body, resp.headers.get("X-Node", "")


async def send_code(http: aiohttp.ClientSession, base: str, phone: str) -> str:
    """Ask ``base`` for a code; return the node that sent it."""
    status, body, node = await call(http, "POST", base + PATHS["user.code"], params={"phone": phone})
    assert (status, body) == (200, {"success": True}), body
    return node


async def read_sms(http: aiohttp.ClientSession, base: str, phone: str) -> str:
    """The code the phone received (the outbox), asked of ``base``."""
    status, body, _ = await call(http, "GET", base + PATHS["dev.sms.latest"], params={"phone": phone})
    assert status == 200, body
    return str(body["data"]["code"])


async def login(
    http: aiohttp.ClientSession, base: str, phone: str, code: str
) -> tuple[int, dict[str, Any], str]:
    return await call(http, "POST", base + PATHS["user.login"], json={"phone": phone, "code": code})


async def log_in_via(http: aiohttp.ClientSession, base: str, phone: str | None = None) -> tuple[str, str]:
    """Full login through one base URL; returns (token, node that logged in)."""
    phone = phone or random_phone()
    await send_code(http, base, phone)
    code = await read_sms(http, base, phone)
    status, body, node = await login(http, base, phone, code)
    assert status == 200 and body["success"], body
    return str(body["data"]), node


async def wait_for(
    condition: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Poll until ``condition`` holds; fail the test after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(0.02)


@asynccontextmanager
async def redis_of(cfg: ClusterConfig, db: int = 0) -> AsyncIterator[RedisClient]:
    """A client of ``cfg``'s own Redis, reached the way its nodes reach it
    (one server, Sentinel or Cluster); database ``db`` where there are
    databases (a Redis Cluster has only 0)."""
    settings = cfg.node_settings()
    if db and not settings.redis_cluster:
        settings = dataclasses.replace(settings, redis_url=settings.redis_url.rsplit("/", 1)[0] + f"/{db}")
    async with open_redis(settings, client_name="tests") as client:
        yield client
