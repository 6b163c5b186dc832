"""What the tests do as a user would: send a code, read the phone, log in
(each a thin call into scripts/lab, with the tests' own checks)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.sync_api import Browser, sync_playwright

from node.pipeline import Pipeline
from node.protocol import JsonErrorRunner
from node.redis_client import RedisClient, open_redis
from node.routes import PATHS
from scripts.lab import journey
from scripts.lab.waiting import until

if TYPE_CHECKING:
    from scripts.cluster import ClusterConfig


class NodeServer(TestServer):
    """aiohttp's TestServer, run as a node runs its app (node/server.py):
    what no route answers, and what aiohttp's parser refuses, answered by
    ``pipeline`` with the envelope."""

    def __init__(self, app: web.Application, pipeline: Pipeline, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.pipeline = pipeline

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        return JsonErrorRunner(self.app, self.pipeline, **kwargs)


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
    return journey.new_phone("138")


async def call(
    http: aiohttp.ClientSession, method: str, url: str, *, token: str | None = None, **kwargs: Any
) -> tuple[int, dict[str, Any], str]:
    """One request: (status, JSON envelope, X-Node)."""
    return await journey.call(http, method, url, token=token, **kwargs)


async def send_code(http: aiohttp.ClientSession, base: str, phone: str) -> str:
    """Ask ``base`` for a code; return the node that sent it."""
    status, body, node = await journey.send_code(http, base, phone)
    assert (status, body) == (200, {"success": True}), body
    return node


async def read_sms(http: aiohttp.ClientSession, base: str, phone: str) -> str:
    """The code the phone received (the outbox), asked of ``base``."""
    status, body, _ = await journey.read_sms(http, base, phone)
    assert status == 200, body
    return str(body["data"]["code"])


async def login(
    http: aiohttp.ClientSession, base: str, phone: str, code: str
) -> tuple[int, dict[str, Any], str]:
    return await journey.submit_code(http, base, phone, code)


async def log_in_via(http: aiohttp.ClientSession, base: str, phone: str | None = None) -> tuple[str, str]:
    """Full login through one base URL; returns (token, node that logged in)."""
    walk = await journey.walk_login(http, base, phone or random_phone())
    sent, sms, done = (walk.steps.get(name) for name in ("code", "sms", "login"))
    assert sent and (sent.status, sent.body) == (200, {"success": True}), sent
    assert sms and sms.status == 200, sms
    assert done and done.status == 200 and done.body["success"], done
    return str(done.body["data"]), done.node


async def wait_for(
    condition: Callable[[], Awaitable[bool]], *, within: float = 10.0, what: str = "condition"
) -> None:
    """Poll until ``condition`` holds; fail the test after ``within`` seconds."""
    await until(
        condition,
        within,
        lambda: f"timed out after {within} s waiting for {what}",
        error=AssertionError,
        every=0.02,
    )


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


CHROMIUM = "/usr/bin/chromium"  # Debian's: Playwright downloads no browser


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright's sync API.  As
    root, and on a machine that may reach no network: no sandbox, no
    background fetches, no first-run work."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
