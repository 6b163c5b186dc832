"""locust runs, bounded and headless, and the table of what they saw."""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

from loadtest.classes import CODE_LOST, CONNECTION_ERROR, OTHER, SERVER_ERROR, SESSION_LOST
from loadtest.report import Run, markdown_table
from scripts.cluster import ROOT, VENV_BIN, ClusterConfig, LaunchError
from scripts.lab.reports import REPORTS

LOCUSTFILE = ROOT / "loadtest" / "locustfile.py"


def local_only(host: str) -> None:
    if urlsplit(host).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"load goes to this machine only (127.0.0.1), not {host}")


@contextlib.contextmanager
def locust(
    host: str, *, users: int, spawn_rate: int, duration: int, prefix: Path
) -> Iterator[Callable[[], Run]]:
    """locust, headless, for ``duration`` seconds, CSV and HTML at ``prefix``;
    the block gets a function that waits for the end and reads the run.
    Leaving the block early stops locust."""
    local_only(host)
    REPORTS.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "locust"),
            "-f", str(LOCUSTFILE),
            "--host", host,
            "--headless", "--only-summary",
            "-u", str(users), "-r", str(spawn_rate),
            "-t", f"{duration}s",
            "--csv", str(prefix),
            # Each route's counts second by second too (failures_between).
            "--csv-full-history",
            "--html", f"{prefix}.html",
            # Failures are what we count, not a reason for locust to fail.
            "--exit-code-on-error", "0",
        ],
        cwd=ROOT,
        env={**os.environ, "LOADTEST_SUMMARY": f"{prefix}-classes.json"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def finished() -> Run:
        if proc.wait(timeout=duration + 60) != 0:
            raise RuntimeError(f"locust exited with {proc.returncode}")
        return Run.read(Path(f"{prefix}-classes.json"))

    try:
        yield finished
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


def login_rate_note(run: Run, host: str, run_dir: Path) -> str | None:
    """When nginx's per-address login limit refused some of the load (its own
    429s, not the node's per-phone rules): the advice to raise LOGIN_RATE,
    to ten times the rate of the cluster on ``host`` if ``run_dir`` holds it."""
    if not run.rate_limited:
        return None
    note = (
        f"note: nginx refused {run.rate_limited:,} code or login requests with its per-address limit "
        "(429, in 'other'); every locust user is 127.0.0.1. For load, raise it"
    )
    try:
        cfg = ClusterConfig.load(run_dir)
    except (LaunchError, OSError, ValueError, TypeError):
        cfg = None
    if cfg is None or urlsplit(host).port != cfg.port:
        return note + ": make up LOGIN_RATE=<ten times that cluster's rate>"
    return note + f" (LOGIN_RATE={cfg.login_rate} now): make up LOGIN_RATE={ten_times(cfg.login_rate)}"


def ten_times(rate: str) -> str:
    """A LOGIN_RATE ten times ``rate``, in its unit (requests a second or a minute)."""
    count, per = re.fullmatch(r"(\d+)(r/[sm])", rate).groups()  # type: ignore[union-attr]
    return f"{int(count) * 10}{per}"


def failures_between(prefix: Path, name: str, start: float, end: float) -> tuple[int, int]:
    """(requests, failures) locust counted for ``name`` (a route) from
    ``start`` to ``end`` (Unix time), widened to the whole seconds of its
    history, which holds running totals."""
    before = after = (0, 0)
    with open(f"{prefix}_stats_history.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] != name:
                continue
            totals = (int(row["Total Request Count"]), int(row["Total Failure Count"]))
            if int(row["Timestamp"]) <= start:
                before = totals
            after = totals
            if int(row["Timestamp"]) >= end:
                break
    return after[0] - before[0], after[1] - before[1]


def parse_fault_run_args(
    parser: argparse.ArgumentParser,
    argv: list[str] | None,
    *,
    users: int,
    duration: int,
    min_duration: int,
    nodes: int,
) -> argparse.Namespace:
    """The arguments of a load run with a node killed under it (make chaos,
    make compare): --users, --duration (at least ``min_duration``), --nodes (at least 2)."""
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument(
        "--duration", type=int, default=duration, help=f"seconds of load per run (at least {min_duration})"
    )
    parser.add_argument("--nodes", type=int, default=nodes)
    args = parser.parse_args(argv)
    if args.duration < min_duration:
        parser.error(
            f"--duration must be at least {min_duration} s: the faults need time before and after them"
        )
    if args.nodes < 2:
        parser.error("--nodes must be at least 2: one is killed while the others serve")
    return args


def table(runs: dict[str, Run]) -> str:
    cells = list(runs.values())
    rows = [
        ["requests", *(f"{r.requests:,}" for r in cells)],
        ["requests/s", *(f"{r.rps:,.0f}" for r in cells)],
        ["p50 / p95 / p99 (ms)", *(f"{r.p50:.0f} / {r.p95:.0f} / {r.p99:.0f}" for r in cells)],
        [f"{CODE_LOST} (of logins tried)", *(r.lost(CODE_LOST) for r in cells)],
        [f"{SESSION_LOST} (of logged-in requests)", *(r.lost(SESSION_LOST) for r in cells)],
        *([kind, *(r.count(kind) for r in cells)] for kind in (SERVER_ERROR, CONNECTION_ERROR, OTHER)),
        [
            "requests by node (X-Node)",
            *(", ".join(f"{node} {n:,}" for node, n in r.nodes.items()) for r in cells),
        ],
    ]
    return markdown_table(["", *runs], rows)
