"""compose.yaml and node/Dockerfile, checked without Docker (no Docker engine
runs where this project is tested): they parse, name what exists, spell
every variable as node/settings.py does, and run the nginx config that
`make up` renders, which nginx itself accepts."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from node.settings import ENV, Settings, default_of
from scripts.cluster import (
    COMPOSE_NGINX,
    COMPOSE_NODE_PORT,
    ROOT,
    ClusterConfig,
    nginx_bin,
    render_compose_nginx,
)

NODES = ("node1", "node2", "node3")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "compose.yaml").read_text()))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "node" / "Dockerfile").read_text()


def test_compose_runs_the_cluster_of_make_up(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"redis", "postgres", "nginx", *NODES}


def test_every_node_is_built_from_the_one_dockerfile_with_settings_spelled_as_the_node_reads_them(
    compose: dict[str, Any],
) -> None:
    names = set()
    for name in NODES:
        node = compose["services"][name]
        build = node["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).resolve() == ROOT / "node" / "Dockerfile"
        env = node["environment"]
        assert set(env) <= set(ENV), set(env) - set(ENV)  # a typo would be silently ignored
        # The node's own default port, which nginx/compose.conf names.
        assert env.get("NODE_PORT", str(default_of(Settings, "port"))) == str(COMPOSE_NODE_PORT)
        assert env["SESSION_STORE"] == "redis"
        # A declared setting left to the environment has no default of its own here.
        assert all(not re.search(r"\$\{\w+:-[^}]", str(value)) for value in env.values()), env
        names.add(env["NODE_NAME"])
        assert node["depends_on"] == {
            "redis": {"condition": "service_healthy"},
            "postgres": {"condition": "service_healthy"},
        }
        # Nothing secret has a default: compose refuses to start without it.
        assert re.search(r"\$\{SECRET_KEY:\?", env["SECRET_KEY"])
        assert "@redis:6379/" in env["REDIS_URL"] and "@postgres:5432/" in env["DATABASE_URL"]
    assert names == set(NODES)


def test_the_stores_have_health_checks_and_keep_their_data(compose: dict[str, Any]) -> None:
    redis, postgres = compose["services"]["redis"], compose["services"]["postgres"]
    assert "redis-cli" in redis["healthcheck"]["test"] and "pg_isready" in postgres["healthcheck"]["test"]
    assert (
        "--appendonly" in redis["command"]
        and redis["command"][redis["command"].index("--appendonly") + 1] == "yes"
    )
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]  # named, so it outlives the container
    assert "ports" not in redis and "ports" not in postgres  # on the compose network only


def test_nginx_runs_the_config_make_up_renders_and_waits_for_healthy_nodes(compose: dict[str, Any]) -> None:
    nginx = compose["services"]["nginx"]
    # The config has `daemon off;`: the image's default `-g "daemon off;"` would be refused.
    assert "daemon off;" in COMPOSE_NGINX.read_text() and nginx["command"] == ["nginx"]
    mounts = {inside: outside for outside, inside, *_ in (v.split(":") for v in nginx["volumes"])}
    assert (ROOT / mounts["/etc/nginx/nginx.conf"]).resolve() == COMPOSE_NGINX
    assert COMPOSE_NGINX.read_text() == render_compose_nginx(), "run: python -m scripts.cluster compose-nginx"
    assert (ROOT / mounts["/usr/share/nginx/html"]).resolve() == ROOT / "nginx" / "static"
    port = default_of(ClusterConfig, "port")
    assert nginx["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert nginx["depends_on"] == {name: {"condition": "service_healthy"} for name in NODES}
    upstream = re.findall(r"^\s+server (\S+) max_fails", COMPOSE_NGINX.read_text(), re.M)
    assert upstream == [f"{name}:{COMPOSE_NODE_PORT}" for name in NODES]


def test_nginx_accepts_the_compose_config(tmp_path: Path) -> None:
    # The container's names and paths, swapped for this machine's, then `nginx -t`.
    conf = COMPOSE_NGINX.read_text().replace("user nginx;", "")
    conf = re.sub(r"node\d:", "127.0.0.1:", conf)
    for path in ("/var/cache/nginx", "/usr/share/nginx/html", "/tmp/nginx.pid"):
        conf = conf.replace(path, str(tmp_path / Path(path).name))
    conf = conf.replace("/dev/stdout", str(tmp_path / "access.log"))
    conf = conf.replace("/dev/stderr", str(tmp_path / "error.log"))
    (tmp_path / "nginx.conf").write_text(conf)
    (tmp_path / "nginx").mkdir()
    result = subprocess.run(
        [
            nginx_bin(),
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(tmp_path / "nginx.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_the_node_image_is_slim_pinned_unprivileged_and_health_checked(dockerfile: str) -> None:
    assert re.search(r"^FROM python:3\.\d+-slim", dockerfile, re.M)
    assert "pip install -r requirements.txt" in dockerfile  # the pinned set, nothing resolved afresh
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1] not in ("root", "0")
    health = re.search(r"^HEALTHCHECK .*\n(.*\n)*?.*CMD .*$", dockerfile, re.M).group(0)  # type: ignore[union-attr]
    assert f"127.0.0.1:{COMPOSE_NODE_PORT}/healthz" in health
    assert re.search(r'^CMD \["python", "-m", "node"\]$', dockerfile, re.M)
