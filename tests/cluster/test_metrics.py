"""Each node's /metrics (Prometheus text), nginx's stub_status, and the
per-node lines of `make status` built from them."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from node.routes import PATHS
from scripts.cluster import ClusterConfig, status
from tests.helpers import call, log_in_via


async def scrape(
    http: aiohttp.ClientSession, base: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http.get(base + PATHS["metrics"]) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_node_counts_requests_by_route_store_calls_logins_and_missed_sessions(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    node = redis_cluster.node_url(1)
    before = await scrape(http, node)
    token, _ = await log_in_via(http, node)
    for _ in range(3):
        await call(http, "GET", node + PATHS["user.me"], token=token)
    await call(http, "GET", node + PATHS["user.me"], token="0" * 32)  # no such session
    async with http.head(node + PATHS["user.me"], headers={"authorization": token}) as resp:
        assert resp.status == 200  # a GET route's HEAD: counted as what it is
    for method in ("PROPFIND", "MKCOL"):  # methods a client picks are not label values
        async with http.request(method, node + "/no/such/page") as resp:
            assert resp.status in (404, 405)
    after = await scrape(http, node)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("sessionlab_http_requests_total", route="user.me", method="GET", status="200") == 3
    assert grew("sessionlab_http_requests_total", route="user.me", method="GET", status="401") == 1
    assert grew("sessionlab_http_requests_total", route="user.me", method="HEAD", status="200") == 1
    assert grew("sessionlab_session_store_calls_total", op="load_user") == 5
    assert grew("sessionlab_session_store_seconds_count", op="load_user") <= 1  # one in 16 is timed
    assert grew("sessionlab_session_store_calls_total", op="save_user") == 1
    assert grew("sessionlab_session_store_seconds_count", op="save_user") == 1  # every one
    assert grew("sessionlab_logins_total", result="ok") == 1
    assert grew("sessionlab_codes_sent_total") == 1
    assert grew("sessionlab_sessions_missed_total") == 1
    assert grew("sessionlab_http_requests_total", route="unmatched", method="other", status="404") == 2
    assert not [key for key in after if ("method", "PROPFIND") in key[1]]


async def test_metrics_are_for_this_machine_not_through_nginx(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    async with http.get(redis_cluster.url + "/api" + PATHS["metrics"]) as resp:
        assert resp.status == 404
    async with http.get(redis_cluster.url + "/nginx_status") as resp:  # from 127.0.0.1: allowed
        assert resp.status == 200
        assert "Active connections" in await resp.text()


async def test_make_status_shows_each_node_up_with_its_requests_and_store_errors(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {}
    for index in range(1, redis_cluster.nodes + 1):
        samples = await scrape(http, redis_cluster.node_url(index))
        before[index] = [
            sum(v for (name, _), v in samples.items() if name == f"sessionlab_{family}_total")
            for family in ("http_requests", "session_store_errors")
        ]
    assert await asyncio.to_thread(status, redis_cluster) == 0
    out = capsys.readouterr().out
    for index, (requests, errors) in before.items():
        line = next(line for line in out.splitlines() if line.startswith(f"node{index} "))
        # What the node counted: everything before, plus that scrape and status's own /readyz.
        assert line.split()[2:5] == ["ready", f"{requests + 2:,.0f}", f"{errors:,.0f}"]
    assert "Active connections" in out
