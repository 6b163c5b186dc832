"""Requests aiohttp's own HTTP parser refuses, sent as raw bytes straight to a
node and through nginx: each answered with the JSON envelope, never an echo
of what was sent, and logged as one line without a header's value; and the
requests that are not errors at all (HEAD, HTTP/1.0 without Host)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from node.pipeline import Pipeline
from node.protocol import JsonErrorRunner
from node.routes import PATHS, ROUTES
from node.sessions import Policy
from node.tokens import token_rules
from node.typedefs import Lifecycle
from scripts.cluster import ClusterConfig
from tests.helpers import wait_for

Raw = tuple[int, dict[str, str], bytes]


def request(
    method: str, path: str, *headers: bytes, body: bytes = b"", version: bytes = b"HTTP/1.1"
) -> bytes:
    """One request as bytes, exactly as given (a Host and Connection: close
    added for HTTP/1.1, a Content-Length for a body)."""
    lines = [f"{method} {path} ".encode() + version]
    if version == b"HTTP/1.1":
        lines += [b"Host: localhost", b"Connection: close"]
    lines += headers
    if body:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


async def exchange(port: int, data: bytes) -> Raw:
    """Send ``data`` on a new connection; (status, headers, body) of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), 10)  # every answer here closes the connection
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)
    }
    return int(status_line.split()[1]), headers, body


def token() -> bytes:
    return secrets.token_hex(16).encode()


# name -> (request for a path prefix and a token, the errorMsg it must get)
MALFORMED: dict[str, tuple[Callable[[str, bytes], bytes], str | None]] = {
    "authorization ending in \\x01": (
        lambda api, t: request("GET", api + PATHS["user.me"], b"authorization: " + t + b"\x01"),
        "invalid character in a header",
    ),
    "authorization ending in \\x7f": (
        lambda api, t: request("GET", api + PATHS["user.me"], b"authorization: " + t + b"\x7f"),
        "invalid character in a header",
    ),
    "authorization ending in \\x0b": (
        lambda api, t: request("GET", api + PATHS["user.me"], b"authorization: Bearer " + t + b"\x0b"),
        "invalid character in a header",
    ),
    "authorization starting with \\x1b": (
        lambda api, t: request("GET", api + PATHS["user.me"], b"authorization: \x1b" + t),
        "invalid character in a header",
    ),
    "content-type with a control character": (
        lambda api, t: request(
            "POST", api + PATHS["user.login"], b"content-type: application/json\x01" + t, body=b"{}"
        ),
        "invalid character in a header",
    ),
    "200 headers": (
        lambda api, t: request("GET", api + PATHS["healthz"], *(b"x-h%d: %s" % (i, t) for i in range(200))),
        "too many headers",
    ),
    "a zstd body": (
        lambda api, t: request(
            "POST",
            api + PATHS["user.login"],
            b"content-type: application/json",
            b"content-encoding: zstd",
            body=b"not zstd " + t,
        ),
        "request body could not be decoded",
    ),
    "a false deflate body": (
        lambda api, t: request(
            "POST",
            api + PATHS["user.login"],
            b"content-type: application/json",
            b"content-encoding: deflate",
            body=b"abcd",  # the start of a raw deflate stream that never ends
        ),
        "request body could not be decoded",
    ),
    "a brotli body": (
        # Refused by the parser or by the view, depending on whether Brotli
        # is installed: the envelope either way.
        lambda api, t: request(
            "POST",
            api + PATHS["user.login"],
            b"content-type: application/json",
            b"content-encoding: br",
            body=b"not brotli " + t,
        ),
        None,
    ),
}


def assert_envelope(answer: Raw, secret: bytes, message: str | None) -> None:
    status, headers, body = answer
    assert status == 400, answer
    assert headers["content-type"].startswith("application/json"), answer
    assert secret not in body, answer  # never an echo of what was sent
    envelope = json.loads(body)
    assert envelope["success"] is False and envelope["errorMsg"], envelope
    if message is not None:
        assert envelope["errorMsg"] == message, envelope
    assert "x-node" in headers  # a node answered, not nginx


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_request_the_parser_refuses_gets_the_envelope_from_a_node(
    redis_cluster: ClusterConfig, case: str
) -> None:
    build, message = MALFORMED[case]
    secret = token()
    answer = await exchange(redis_cluster.node_ports[0], build("", secret))
    assert_envelope(answer, secret, message)


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_request_the_parser_refuses_gets_the_envelope_through_nginx(
    redis_cluster: ClusterConfig, case: str
) -> None:
    build, message = MALFORMED[case]
    secret = token()
    answer = await exchange(redis_cluster.port, build("/api", secret))
    assert_envelope(answer, secret, message)


def _new_lines(cfg: ClusterConfig, sizes: dict[str, int]) -> list[str]:
    lines = []
    for log in sorted(cfg.log_dir.glob("*.log")):
        with log.open("rb") as f:
            f.seek(sizes.get(log.name, 0))
            lines += f.read().decode("utf-8", "replace").splitlines()
    return lines


async def _settled_log_sizes(cfg: ClusterConfig) -> dict[str, int]:
    """The nodes' log sizes once no line has come for a moment: a refusal
    of the test before (through nginx) may still be on its way to a log."""
    sizes: dict[str, int] = {}
    for _ in range(20):  # bounded: 6 s at most
        now = {log.name: log.stat().st_size for log in cfg.log_dir.glob("*.log")}
        if now == sizes:
            break
        sizes = now
        await asyncio.sleep(0.3)
    return sizes


async def test_each_refusal_is_one_log_line_without_the_header(redis_cluster: ClusterConfig) -> None:
    sizes = await _settled_log_sizes(redis_cluster)
    secret = token()
    sent = 0
    for build, _ in MALFORMED.values():
        for port, api in ((redis_cluster.node_ports[0], ""), (redis_cluster.port, "/api")):
            await exchange(port, build(api, secret))
            sent += 1

    def refusals() -> list[str]:
        # (Not INFO: a node just started may still be saying so.)
        return [line for line in _new_lines(redis_cluster, sizes) if " WARNING node" in line]

    async def logged() -> bool:
        return len(refusals()) >= sent

    await wait_for(logged, what="a line per refusal")
    lines = _new_lines(redis_cluster, sizes)
    assert not [line for line in lines if secret.decode() in line]
    assert len(refusals()) == sent
    assert all(" node.protocol: " in line for line in refusals()), refusals()
    assert not [line for line in lines if re.match(r"\S+ \S+ (ERROR|CRITICAL) ", line)]
    assert not [line for line in lines if "Traceback" in line or line.startswith((" ", "aiohttp."))]


async def test_http_1_0_without_host_is_served(redis_cluster: ClusterConfig) -> None:
    for port, api in ((redis_cluster.node_ports[0], ""), (redis_cluster.port, "/api")):
        status, headers, body = await exchange(
            port, request("GET", api + PATHS["healthz"], version=b"HTTP/1.0")
        )
        assert status == 200, body
        assert headers["content-type"].startswith("application/json")
        assert json.loads(body)["success"] is True


GET_ROUTES = [(name, path.replace("{id}", "1")) for name, method, path, _ in ROUTES if method == "GET"]


@pytest.mark.parametrize(("name", "path"), GET_ROUTES)
async def test_head_is_answered_like_get_on_every_get_route(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, name: str, path: str
) -> None:
    for base in (redis_cluster.node_url(1), redis_cluster.url + "/api"):
        async with http.get(base + path) as resp:
            want = resp.status
        async with http.head(base + path) as resp:
            assert resp.status == want != 405, name
            assert await resp.read() == b""


async def _count(http: aiohttp.ClientSession, cfg: ClusterConfig, **labels: str) -> float:
    async with http.get(cfg.node_url(1) + PATHS["metrics"]) as resp:
        text = await resp.text()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "sessionlab_http_requests"
        for sample in family.samples
        if sample.name.endswith("_total") and all(sample.labels.get(k) == v for k, v in labels.items())
    )


async def test_a_client_that_leaves_mid_body_is_no_database_outage(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    sizes = {log.name: log.stat().st_size for log in redis_cluster.log_dir.glob("*.log")}
    route = {"route": "user.login", "method": "POST"}
    outages = await _count(http, redis_cluster, **route, status="503")
    left = await _count(http, redis_cluster, **route, status="499")
    reader, writer = await asyncio.open_connection("127.0.0.1", redis_cluster.node_ports[0])
    head = request("POST", PATHS["user.login"], b"content-type: application/json", b"content-length: 1000")
    writer.write(head + b'{"phone": "138')
    await writer.drain()
    writer.close()  # 14 bytes of 1000: the node is still waiting for the rest
    await writer.wait_closed()
    del reader

    async def counted() -> bool:
        return await _count(http, redis_cluster, **route, status="499") == left + 1

    await wait_for(counted, what="the request counted as a client that left")
    assert await _count(http, redis_cluster, **route, status="503") == outages
    assert not [line for line in _new_lines(redis_cluster, sizes) if "unavailable" in line]


async def test_the_json_error_handler_is_the_one_aiohttp_runs(caplog: pytest.LogCaptureFixture) -> None:
    """node.protocol subclasses aiohttp's RequestHandler and Server: if an
    aiohttp upgrade stops calling them, this fails."""

    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"success": True})

    policy = Policy()
    pipeline = Pipeline("bare", policy=policy, tokens=token_rules(policy), lifecycle=Lifecycle())
    app = web.Application()
    app.router.add_get("/", pipeline.guard("hello", hello, public=True, method="GET"))
    runner = JsonErrorRunner(app, pipeline, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        secret = token()
        with caplog.at_level(logging.INFO, logger="node.protocol"):
            status, headers, body = await exchange(
                port, request("GET", "/", b"authorization: " + secret + b"\x01")
            )
        assert (status, json.loads(body)) == (
            400,
            {"success": False, "errorMsg": "invalid character in a header"},
        )
        assert headers["x-node"] == "bare" and secret not in body
        records: list[Any] = [r for r in caplog.records if r.name.startswith(("node.protocol", "aiohttp"))]
        assert len(records) == 1 and records[0].exc_info is None
        assert secret.decode() not in records[0].getMessage()
        assert (await exchange(port, request("GET", "/")))[0] == 200
    finally:
        await runner.cleanup()
