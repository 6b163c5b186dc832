"""The make targets a user runs, on a cluster of the test's own (it stops,
restarts and reconfigures things): up, up again, switch mode, stop-node,
start-node, status, logs, down."""

from __future__ import annotations

import json
import random
import re
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import AuthenticationError, Redis, ResponseError
from redis.backoff import NoBackoff
from redis.retry import Retry

from scripts.cluster import ROOT, ClusterConfig, LaunchError, down, free_ports, is_running, pid_alive
from scripts.cluster.redis_topology import write_configs
from tests.conftest import RunDirs


def make(target: str, run_dir: Path, **variables: object) -> subprocess.CompletedProcess[str]:
    args = ["make", "--no-print-directory", target, f"RUN_DIR={run_dir}"]
    args += [f"{k}={v}" for k, v in variables.items()]
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=180)


def get(url: str) -> tuple[int, dict[str, object], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read()), resp.headers.get("X-Node", "")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), exc.headers.get("X-Node", "")


def consecutive_free_ports(count: int, besides: set[int]) -> int:
    """The first of ``count`` consecutive free ports (node ports follow
    NODE_BASE_PORT), none of them in ``besides`` (chosen, but not bound
    yet), below the kernel's ephemeral range, where outgoing connections
    would take ports from under a test between check and use."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        base = random.randint(20000, low - count - 1)
        if besides & set(range(base, base + count)):
            continue
        socks = []
        try:
            for offset in range(count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", base + offset))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return base
    raise RuntimeError(f"no {count} consecutive free ports found")


def run_try_it(up_output: str) -> str:
    """Run the three "try it" lines `make up` printed, as a user would paste them."""
    lines = up_output.split("Try it", 1)[1].splitlines()[1:4]
    result = subprocess.run(["bash", "-c", "\n".join(lines)], capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


def supervised_pids(run_dir: Path) -> dict[str, int]:
    out = subprocess.run(
        [str(ROOT / ".venv/bin/supervisorctl"), "-c", str(run_dir / "supervisord.conf"), "status"],
        capture_output=True,
        text=True,
    ).stdout
    pids = {}
    for line in out.splitlines():
        parts = line.split()
        if "RUNNING" in parts:
            pids[parts[0]] = int(parts[parts.index("pid") + 1].rstrip(","))
    return pids


@pytest.fixture
def run_dir(run_dirs: RunDirs) -> Iterator[Path]:
    path = run_dirs("launcher")
    yield path
    make("down", path)  # whatever the test left running


def test_make_up_status_stop_start_node_switch_mode_and_down(
    run_dir: Path, redis_cluster: ClusterConfig
) -> None:
    port, redis_port, pg_port = free_ports(3)
    node_base = consecutive_free_ports(3, besides={port, redis_port, pg_port})
    variables = dict(NODES=2, PORT=port, NODE_BASE_PORT=node_base, REDIS_PORT=redis_port, PG_PORT=pg_port)
    api = f"http://127.0.0.1:{port}/api"

    first_up = result = make("up", run_dir, **variables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Cluster ready: http://127.0.0.1:{port}" in result.stdout.replace("\033[1;32m", "").replace(
        "\033[0m", ""
    )
    assert "Try it" in result.stdout
    first = supervised_pids(run_dir)
    assert set(first) == {"redis", "postgres", "nodes:node1", "nodes:node2", "nginx"}

    # Running it twice is safe, and changes nothing that runs.
    result = make("up", run_dir, **variables)
    assert result.returncode == 0, result.stdout + result.stderr
    assert supervised_pids(run_dir) == first

    status = make("status", run_dir)
    assert status.returncode == 0
    assert "node1" in status.stdout and "node2" in status.stdout and status.stdout.count("ready") == 2

    # The "try it" that `make up` printed works as printed: three nodes, one user.
    out = run_try_it(first_up.stdout)
    assert out.count("HTTP/1.1 200") == 3 and len(set(re.findall(r"X-Node: (node\d)", out))) == 2

    # A stopped node is down; nginx keeps answering from the other one.
    result = make("stop-node", run_dir, NODE=2)
    assert result.returncode == 0
    assert result.stdout.strip().endswith("node2 stopped; nginx sends its requests to the others; "
                                          "its sessions are in Redis: none lost")  # fmt: skip
    assert_status_aligned(make("status", run_dir).stdout, {"node1": "ready", "node2": "down"})
    assert {get(api + "/healthz")[2] for _ in range(4)} == {"node1"}
    # With no node left, nginx's own answer is the envelope.
    assert make("stop-node", run_dir, NODE=1).returncode == 0
    assert get(api + "/healthz")[:2] == (502, {"success": False, "errorMsg": "no node answered"})
    result = make("start-node", run_dir, NODE=2)  # waits for node2 only
    assert result.returncode == 0, result.stderr
    assert "node2 started, ready and answering through nginx" in result.stdout
    assert make("start-node", run_dir, NODE=1).returncode == 0
    assert {get(api + "/healthz")[2] for _ in range(4)} == {"node1", "node2"}

    # Growing onto a port something else holds is refused at once.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", node_base + 2))
        squatter.listen()
        result = make("up", run_dir, **{**variables, "NODES": 3})
    assert result.returncode != 0 and f"node3 {node_base + 2}" in result.stderr

    logs = make("logs", run_dir, NODE=1)
    assert "listening on" in logs.stdout

    # Same cluster, other store, one more node: applied without a `down`.
    result = make("up", run_dir, **{**variables, "NODES": 3, "SESSION_STORE": "memory"})
    assert result.returncode == 0, result.stdout + result.stderr
    stores = {get(api + "/readyz")[1]["data"]["store"] for _ in range(6)}  # type: ignore[index]
    assert stores == {"memory"}
    assert '"errorMsg": "wrong code"' in run_try_it(result.stdout)  # the bug, as printed
    assert {get(api + "/healthz")[2] for _ in range(6)} == {"node1", "node2", "node3"}
    now = supervised_pids(run_dir)
    assert now["postgres"] == first["postgres"] and now["redis"] == first["redis"]

    result = make("restart", run_dir)
    assert result.returncode == 0, result.stderr
    assert "3 nodes restarted at once and ready; the sessions they held in memory are gone" in result.stdout
    now = supervised_pids(run_dir)

    supervisord = int((run_dir / "supervisord.pid").read_text())
    result = make("down", run_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and "cluster stopped; its data is kept in" in result.stdout
    assert not pid_alive(supervisord)
    assert [name for name, pid in now.items() if pid_alive(pid)] == []
    assert make("status", run_dir).returncode != 0
    result = make("clean", run_dir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].endswith("(configs, logs, Postgres and Redis data)")
    assert not run_dir.exists()

    # ... and nothing else: the suite's shared cluster still answers.
    assert get(redis_cluster.url + "/api/readyz")[0] == 200


def assert_status_aligned(out: str, states: dict[str, str]) -> None:
    """`make status`'s node table: each state in its own fixed-width column,
    why a node is down in the last one, every column where the header puts it."""
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("node "))
    rows = {line.split()[0]: line for line in lines if re.match(r"node\d+ +http://", line)}
    assert set(rows) == set(states)
    state_at, requests_end, detail_at = (
        header.index("state"),
        header.index("requests") + 8,
        header.index("detail"),
    )
    for name, row in rows.items():
        assert row[state_at:].split("  ")[0] == states[name], row
        assert row[requests_end - 1] != " " and row[requests_end] == " ", row
        assert (len(row) > detail_at) == (states[name] != "ready"), row


def test_make_up_refuses_a_port_that_is_taken(run_dir: Path, redis_cluster: ClusterConfig) -> None:
    result = make("up", run_dir, PORT=redis_cluster.port, NODES=1)
    assert result.returncode != 0
    assert "port already in use" in result.stderr
    assert not (run_dir / "supervisord.pid").exists()


def test_a_stale_pid_file_never_makes_down_kill_another_process(run_dir: Path) -> None:
    # After a crash the pid in supervisord.pid may belong to anything.
    stranger = subprocess.Popen(["sleep", "60"])
    try:
        cfg = ClusterConfig(run_dir=run_dir, nodes=1)
        cfg.save()
        (run_dir / "supervisord.pid").write_text(f"{stranger.pid}\n")
        assert not is_running(cfg)
        down(cfg, quiet=True)
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()


@pytest.mark.every_topology
def test_every_redis_server_and_sentinel_it_starts_refuses_clients_without_its_password(
    redis_cluster: ClusterConfig,
) -> None:
    for proc in redis_cluster.redis_processes:
        with (
            # No retries: redis-py counts a refused AUTH as a connection
            # error and would ask three more times, with pauses (3.5 s each).
            Redis(port=proc.port, retry=Retry(NoBackoff(), retries=0)) as anonymous,
            pytest.raises((AuthenticationError, ResponseError), match=r"(?i)noauth|authenticat"),
        ):
            anonymous.set("login:token:forged", "1")


def test_a_redis_topology_is_one_of_three_and_only_for_its_own_redis(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="REDIS_TOPOLOGY must be one of single, sentinel, cluster"):
        ClusterConfig(run_dir=tmp_path, redis_topology="replicas")
    with pytest.raises(LaunchError, match="does not go with REDIS_URL"):
        ClusterConfig(run_dir=tmp_path, redis_topology="sentinel", redis_url="redis://127.0.0.1:6379/0")
    cfg = ClusterConfig(run_dir=tmp_path, redis_topology="cluster", redis_port=17000)
    assert [p.port for p in cfg.redis_processes] == list(range(17000, 17006))
    assert [p.bus_port for p in cfg.redis_processes] == list(range(27000, 27006))
    sentinel = ClusterConfig(run_dir=tmp_path, redis_topology="sentinel", redis_port=17000)
    assert [(p.name, p.port) for p in sentinel.redis_processes] == [
        ("redis1", 17000),
        ("redis2", 17001),
        ("sentinel1", 17002),
        ("sentinel2", 17003),
        ("sentinel3", 17004),
    ]


def test_each_sentinel_is_told_of_the_replica_and_of_the_others_by_their_own_ids(tmp_path: Path) -> None:
    # Left to find them out, the sentinels agree on the layout only after
    # the master's next INFO (10 s): every `make up REDIS_TOPOLOGY=sentinel` waited for it.
    cfg = ClusterConfig(run_dir=tmp_path, redis_topology="sentinel", redis_port=17000)
    write_configs("sentinel", cfg.redis_processes, password="pw", layout_file=tmp_path / "redis-layout.json")
    confs = {p.port: p.conf.read_text() for p in cfg.redis_processes if p.sentinel}
    own_id = {}
    for port, text in confs.items():
        [own_id[port]] = re.findall(r"^sentinel myid (\w{40})$", text, re.M)
    assert len(set(own_id.values())) == 3
    for port, text in confs.items():
        assert re.findall(r"^sentinel known-replica sessionlab 127\.0\.0\.1 (\d+)$", text, re.M) == ["17001"]
        told = re.findall(r"^sentinel known-sentinel sessionlab 127\.0\.0\.1 (\d+) (\w+)$", text, re.M)
        assert sorted(told) == sorted((str(p), i) for p, i in own_id.items() if p != port)
    for server in (p for p in cfg.redis_processes if not p.sentinel):
        # A replica's first sync, and a demoted master's, starts at once.
        assert "repl-diskless-sync-delay 0\n" in server.conf.read_text()
