"""The OpenAPI document: it names exactly the node's routes, and schemathesis,
run against a live cluster through nginx, finds no 5xx and no answer that
breaks it."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp

from node.openapi import document
from node.routes import ROUTES
from scripts.cluster import ROOT, VENV_BIN, ClusterConfig
from tests.helpers import call, log_in_via


def test_the_document_names_every_route_and_no_other() -> None:
    documented = {(method.upper(), path) for path, ops in document()["paths"].items() for method in ops}
    assert documented == {(method, path) for _, method, path, _ in ROUTES}


async def test_it_is_served_through_nginx(redis_cluster: ClusterConfig, http: aiohttp.ClientSession) -> None:
    async with http.get(redis_cluster.url + "/api/openapi.json") as resp:
        assert resp.status == 200
        assert (await resp.json())["openapi"].startswith("3.")


async def test_schemathesis_finds_no_server_error_and_no_answer_off_the_schema(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, redis_cluster.url + "/api")
    assert (await call(http, "GET", redis_cluster.url + "/api/user/me", token=token))[0] == 200
    result = await asyncio.to_thread(
        subprocess.run,
        [
            str(VENV_BIN / "schemathesis"),
            "run",
            redis_cluster.url + "/api/openapi.json",
            "--header", f"authorization: {token}",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance,response_headers_conformance",
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", "30",
            "--seed", "20261122",  # the same cases every run: a failure is reproducible
            "--workers", "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    # Its exit status is the verdict: non-zero on any failed check.
    assert result.returncode == 0, result.stdout[-4000:]
    assert "generated" in result.stdout  # it did run cases
