"""What a load run reports: the totals and the spread over the nodes from
one summary, and the LOGIN_RATE advice only when nginx's limit refused some."""

from __future__ import annotations

import json
import re
from pathlib import Path

from loadtest.classes import NGINX_RATE_LIMITED, OTHER
from loadtest.report import Run
from scripts.cluster import ROOT, ClusterConfig
from scripts.lab.loadruns import login_rate_note, ten_times


def run(rate_limited: int = 0) -> Run:
    return Run(
        requests=10, rps=2.0, p50=3, p95=5, p99=9, server_errors={}, nodes={"node1": 6, "node2": 4},
        timeline={OTHER: {1: rate_limited}}, rate_limited=rate_limited,
    )  # fmt: skip


def test_a_run_is_read_whole_from_the_locustfile_summary(tmp_path: Path) -> None:
    summary = tmp_path / "classes.json"
    summary.write_text(
        json.dumps({
            "requests": 10, "rps": 2.5, "percentiles_ms": {"0.5": 3, "0.95": 5, "0.99": 9},
            "rate_limited": 2, "server_errors": {}, "nodes": {"node1": 6, "node2": 4},
            "timeline": {OTHER: {"1700000000": 2}},
        })
    )  # fmt: skip
    read = Run.read(summary)
    assert (read.requests, read.rps, read.p50, read.p95, read.p99) == (10, 2.5, 3, 5, 9)
    assert sum(read.nodes.values()) == read.requests
    assert read.count(OTHER) == "2 (2 × nginx's 429, LOGIN_RATE)"


def test_the_rate_limit_message_is_the_one_nginx_answers_with() -> None:
    template = (ROOT / "nginx" / "nginx.conf.template").read_text()
    assert re.search(rf'^\s*429\s+"{re.escape(NGINX_RATE_LIMITED)}";$', template, re.M)


def test_login_rate_advice_only_for_nginx_429s_and_ten_times_the_rate(tmp_path: Path) -> None:
    ClusterConfig(run_dir=tmp_path, port=18123, login_rate="20r/s").save()
    host = "http://127.0.0.1:18123"
    assert login_rate_note(run(rate_limited=0), host, tmp_path) is None
    note = login_rate_note(run(rate_limited=7), host, tmp_path)
    assert note is not None and "refused 7 " in note
    assert note.endswith("(LOGIN_RATE=20r/s now): make up LOGIN_RATE=200r/s")
    # Another cluster than this run dir's, or none: its rate is not known here.
    other = login_rate_note(run(rate_limited=7), "http://127.0.0.1:18124", tmp_path)
    assert other is not None and other.endswith("make up LOGIN_RATE=<ten times that cluster's rate>")
    assert login_rate_note(run(rate_limited=1), host, tmp_path / "none") is not None
    assert ten_times("600r/m") == "6000r/m"
