"""The load targets run, bounded, and print what they measured (short runs:
their figures are for docs/benchmark.md, not for a pass or a fail)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from scripts.cluster import ROOT, ClusterConfig


def make(*args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def count(out: str, row: str, column: int = 0) -> int:
    cells = re.search(rf"^\| {re.escape(row)} \|(.*)\|$", out, re.M).group(1).split("|")  # type: ignore[union-attr]
    return int(cells[column].strip().split()[0].replace(",", ""))


def test_make_loadtest_prints_requests_latency_failure_classes_and_the_spread(
    redis_cluster: ClusterConfig,
) -> None:
    out = make("loadtest", f"PORT={redis_cluster.port}", "USERS=5", "SPAWN_RATE=5", "DURATION=5")
    assert count(out, "requests") > 50
    assert count(out, "session lost (of logged-in requests)") == 0
    assert count(out, "code lost (of logins tried)") == 0
    spread = re.search(r"^\| requests by node \(X-Node\) \| (.*) \|$", out, re.M).group(1)  # type: ignore[union-attr]
    assert {"node1", "node2", "node3"} <= set(re.findall(r"node\d", spread))
    # Counted from the same requests as locust's total, to the last second.
    assert sum(int(item.rsplit(" ", 1)[1].replace(",", "")) for item in spread.split(", ")) == count(
        out, "requests"
    )
    assert re.search(r"saved reports/loadtest-[\d-]+\.md, reports/loadtest-[\d-]+\.html", out)


def test_make_loadtest_compare_shows_memory_mode_losing_and_redis_mode_not() -> None:
    out = make("loadtest-compare", "USERS=8", "DURATION=5", "NODES=2")
    assert count(out, "session lost (of logged-in requests)", 0) == 0
    assert count(out, "code lost (of logins tried)", 0) == 0
    memory_lost = count(out, "session lost (of logged-in requests)", 1) + count(
        out, "code lost (of logins tried)", 1
    )
    assert memory_lost > 0


def test_make_compare_runs_every_strategy_through_the_fault_and_prints_one_table() -> None:
    out = make("compare", "USERS=6", "DURATION=10", "STRATEGIES=sticky,replicated,redis", timeout=400)
    header = re.search(r"^\|  \| (.*) \|$", out, re.M).group(1)  # type: ignore[union-attr]
    assert header.split(" | ") == ["sticky sessions", "session replication", "shared store (Redis)"]
    for when in ("before", "after"):
        assert count(out, f"sessions lost {when} the fault", 2) == 0  # Redis
    window = re.search(r"^\| consistency window .*\|$", out, re.M).group(0)  # type: ignore[union-attr]
    assert window.split(" | ")[1].startswith("never") and "ms" in window.split(" | ")[2]
    assert re.search(
        r"^\| node memory per 10,000 sessions, per node \(share held\) \|.*\((0\.9\d|1\.\d\d) of them\)",
        out,
        re.M,
    )
    assert re.search(r"saved reports/compare-[\d-]+\.md", out)


def test_make_bench_runs_and_prints_its_table() -> None:
    out = make(
        "bench",
        "BENCH_ARGS=--rounds 1 --seconds 1 --nodes 2 --sessions 2000 --login-seconds 1",
    )
    rows = (
        "bare aiohttp handler (fixed JSON)",
        "the same by web.json_response of a fixed dict, encoded each time",
        "the same behind one middleware that does nothing",
        "the least a session read does, in the handler (scripts/bench_bare.py: handler)",
        "the least a Redis session read does, in the handler (scripts/bench_bare.py: redis)",
        "the same without redis-py: one connection, hiredis (scripts/bench_floors.py: RawRedis)",
        "memory mode, one node",
        "redis mode, one node",
        "redis mode on Sentinel (a master and a replica, three sentinels), one node",
        "redis mode on Redis Cluster (three masters, a replica each), one node",
    )
    for row in rows:
        # requests/s, p50, p99, the CPU a request of the one process serving it, × bare, × json_response
        cells = r"[\d,]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+"
        assert re.search(rf"^\| {re.escape(row)} \| {cells} \|$", out, re.M), row
    assert re.search(r"^\| Redis MEMORY USAGE of one session \| \d+ bytes \|$", out, re.M)
    for topology in ("one server", "Sentinel", "Redis Cluster"):
        assert re.search(rf"^\| logins a second, Redis on {topology}\b.* \| [\d,]+ \|$", out, re.M), topology
    assert re.search(r"^\| logins a second, the least a login does .* \| [\d,]+ \|$", out, re.M)
    assert re.search(r"saved reports/bench-[\d-]+\.md", out)


def test_make_bench_instr_counts_the_instructions_of_a_request(tmp_path: Path) -> None:
    # The bare handler alone (no cluster, no node, no logins): each process
    # under callgrind costs seconds, and make test has a budget.
    args = f"--seconds 1 --login-seconds 0 --floors bare --modes= --keep {tmp_path}"
    out = make("bench-instr", f"BENCH_INSTR_ARGS={args}", timeout=600)
    counts = re.findall(r"^\| (.+?) \| ([\d,.]+) \| ([\d.]+) \|$", out, re.M)
    assert [(name, ratio) for name, _, ratio in counts] == [("bare aiohttp handler (fixed JSON)", "1.00")]
    # aiohttp answers a request in about 150,000 instructions.
    assert 50 < float(counts[0][1]) < 1000, counts
    assert re.search(r"saved reports/bench-instr-[\d-]+\.md", out)
    # --keep: callgrind's dump of the counted window, for callgrind_annotate.
    assert "totals:" in (tmp_path / "bare.callgrind.1").read_text()


def test_make_bench_ab_measures_the_node_of_a_commit_beside_this_one() -> None:
    out = make("bench-ab", "BEFORE=HEAD", "BENCH_AB_ARGS=--rounds 1 --seconds 1 --login-seconds 1")
    for mode in ("memory", "redis"):
        # requests/s and CPU µs a request, before and after, all measured
        assert re.search(rf"^\| {mode} mode \| [\d,]+ \| [\d,]+ \| [\d.]+ \| [\d.]+ \|$", out, re.M), mode
    redis_cpu = r"^\| redis mode: Redis's own cpu µs a request \|  \|  \| [\d.]+ \| [\d.]+ \|$"
    assert re.search(redis_cpu, out, re.M)
    assert re.search(r"^\| whole logins .* \| [\d,]+ \| [\d,]+ \| [\d.]+ \| [\d.]+ \|$", out, re.M)
    assert re.search(r"saved reports/bench-ab-[\d-]+\.md", out)
    # Its worktree is gone with it.
    worktrees = subprocess.run(
        ["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "sessionlab-ab-" not in worktrees.stdout
