"""nginx's access log names each request by its own method and path, also
when nginx answers it itself (429, 413, 502: an internal redirect to its
error page), and never with its query string (no phone number)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import aiohttp
import pytest

from node.routes import PATHS
from scripts.cluster import ClusterConfig, stop_node
from tests.conftest import RunDirs, cluster_beside
from tests.helpers import call, random_phone, wait_for


@pytest.fixture
def limited_cluster(run_dirs: RunDirs, redis_cluster: ClusterConfig) -> Iterator[ClusterConfig]:
    """One node behind an nginx that lets a code or login through a minute (and one more at once)."""
    yield from cluster_beside(redis_cluster, run_dirs("accesslog"), nodes=1, login_rate="1r/m", login_burst=1)


async def test_nginx_logs_its_own_answers_by_the_request_method_and_path(
    limited_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    cfg, api = limited_cluster, limited_cluster.url + "/api"
    access = cfg.log_dir / "nginx-access.log"
    phone = random_phone()
    codes = [await call(http, "POST", f"{api}{PATHS['user.code']}?phone={phone}") for _ in range(4)]
    assert 429 in [status for status, _, _ in codes]
    status, _, _ = await call(http, "POST", api + PATHS["user.logout"], data=b"x" * 20_000)
    assert status == 413
    await asyncio.to_thread(stop_node, cfg, 1)
    status, _, _ = await call(http, "PUT", api + PATHS["user.me"] + "?phone=" + phone)
    assert status == 502

    def logged(method: str, path: str, status: int) -> bool:
        return f'"{method} /api{path}" {status} ' in access.read_text()

    async def all_logged() -> bool:
        return (
            logged("POST", PATHS["user.code"], 429)
            and logged("POST", PATHS["user.logout"], 413)
            and logged("PUT", PATHS["user.me"], 502)
        )

    await wait_for(all_logged, what="nginx's three own answers in its access log")
    text = access.read_text()
    assert "__error.json" not in text
    assert phone not in text and not re.search(r'"[A-Z]+ [^"]*\?', text)
