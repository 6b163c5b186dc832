"""The load targets run, bounded, and print what they measured (short runs:
their figures are for the README, not for a pass or a fail)."""

from __future__ import annotations

import re
import subprocess

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
    assert re.search(r"saved reports/loadtest-[\d-]+\.md, reports/loadtest-[\d-]+\.html", out)


def test_make_loadtest_compare_shows_memory_mode_losing_and_redis_mode_not() -> None:
    out = make("loadtest-compare", "USERS=8", "DURATION=8", "NODES=2")
    assert count(out, "session lost (of logged-in requests)", 0) == 0
    assert count(out, "code lost (of logins tried)", 0) == 0
    memory_lost = count(out, "session lost (of logged-in requests)", 1) + count(
        out, "code lost (of logins tried)", 1
    )
    assert memory_lost > 0


def test_make_bench_runs_and_prints_its_table() -> None:
    out = make(
        "bench",
        "BENCH_ARGS=--rounds 1 --seconds 1 --nodes 2 --sessions 2000 --login-seconds 1",
    )
    for row in ("bare aiohttp handler (fixed JSON)", "memory mode, one node", "redis mode, one node"):
        assert re.search(rf"^\| {re.escape(row)} \| [\d,]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$", out, re.M), row
    assert re.search(r"^\| Redis MEMORY USAGE of one session \| \d+ bytes \|$", out, re.M)
    assert re.search(r"saved reports/bench-[\d-]+\.md", out)
