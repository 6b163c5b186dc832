"""Load runs with locust (loadtest/locustfile.py), bounded and headless.

    python -m scripts.loadrun loadtest --host URL   `make loadtest`: against a running cluster
    python -m scripts.loadrun compare               `make loadtest-compare`: redis and memory mode,
                                                     each on a throwaway cluster, side by side

Every run is bounded by its user count and duration, sends traffic only to
127.0.0.1, and leaves an HTML and a CSV report under reports/.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from loadtest.classes import CODE_LOST, CONNECTION_ERROR, OTHER, SERVER_ERROR, SESSION_LOST
from loadtest.report import Run, markdown_table
from scripts.cluster import ROOT, VENV_BIN, ClusterConfig, clean, down, new_run_dir, up

REPORTS = ROOT / "reports"


def stamp() -> str:
    return datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


@contextlib.contextmanager
def locust(
    host: str, *, users: int, spawn_rate: int, duration: int, prefix: Path
) -> Iterator[Callable[[], Run]]:
    """locust, headless, for ``duration`` seconds, CSV and HTML at ``prefix``;
    the block gets a function that waits for the end and reads the run.
    Leaving the block early stops locust."""
    if urlsplit(host).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"load goes to this machine only (127.0.0.1), not {host}")
    REPORTS.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "locust"),
            "-f", str(ROOT / "loadtest" / "locustfile.py"),
            "--host", host,
            "--headless", "--only-summary",
            "-u", str(users), "-r", str(spawn_rate),
            "-t", f"{duration}s",
            "--csv", str(prefix),
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
        return Run.read(prefix, Path(f"{prefix}-classes.json"))

    try:
        yield finished
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)


@contextlib.contextmanager
def throwaway(store: str, *, nodes: int, name: str, **kwargs: Any) -> Iterator[ClusterConfig]:
    """A cluster of its own on free ports, removed afterwards.  Every locust
    user is 127.0.0.1: nginx's per-address login limit is lifted."""
    run_dir = new_run_dir(name)
    cfg = ClusterConfig.on_free_ports(
        run_dir, nodes=nodes, session_store=store, login_rate="10000r/s", **kwargs
    )
    try:
        up(cfg, quiet=True)
        yield cfg
    finally:
        down(cfg, quiet=True)
        clean(run_dir)


def parse_fault_run_args(
    parser: argparse.ArgumentParser, argv: list[str] | None, *, users: int, duration: int, min_duration: int
) -> argparse.Namespace:
    """The arguments of a load run with a node killed under it (make chaos,
    make compare): --users, --duration (at least ``min_duration``), --nodes (at least 2)."""
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument(
        "--duration", type=int, default=duration, help=f"seconds of load per run (at least {min_duration})"
    )
    parser.add_argument("--nodes", type=int, default=3)
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


def save(name: str, title: str, text: str, *, show: bool = False) -> Path:
    """The report under reports/, headed with its date and machine; with
    ``show``, printed as saved."""
    REPORTS.mkdir(exist_ok=True)
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    out = REPORTS / f"{name}.md"
    report = f"## {title}, {when}, {os.uname().nodename}, {os.cpu_count()} cores\n\n{text}\n"
    out.write_text(report)
    if show:
        print(f"\n{report}\nsaved {out.relative_to(ROOT)}")
    return out


def loadtest(args: argparse.Namespace) -> int:
    name = f"loadtest-{stamp()}"
    prefix = REPORTS / name
    print(
        f"==> {args.users} users (spawn rate {args.spawn_rate}/s) for {args.duration} s against {args.host}"
    )
    with locust(
        args.host, users=args.users, spawn_rate=args.spawn_rate, duration=args.duration, prefix=prefix
    ) as finished:
        run = finished()
    text = table({args.host: run})
    out = save(name, "make loadtest", text)
    print(
        "\n" + text + f"\n\nsaved {out.relative_to(ROOT)}, {prefix.relative_to(ROOT)}.html and the CSV files"
    )
    if run.total(OTHER):
        print("note: 'other' may be nginx's 429 (LOGIN_RATE); for load, raise it: make up LOGIN_RATE=1000r/s")
    return 0


def compare(args: argparse.Namespace) -> int:
    name = f"loadtest-compare-{stamp()}"
    runs: dict[str, Run] = {}
    for store in ("redis", "memory"):
        with throwaway(store, nodes=args.nodes, name=f"compare-{store}") as cfg:
            print(
                f"==> {store}: {args.users} users, {args.duration} s, {args.nodes} nodes, through {cfg.url}"
            )
            prefix = REPORTS / f"{name}-{store}"
            with locust(
                cfg.url, users=args.users, spawn_rate=args.users, duration=args.duration, prefix=prefix
            ) as finished:
                runs[f"SESSION_STORE={store}"] = finished()
    expected = (args.nodes - 1) / args.nodes
    text = (
        table(runs) + f"\n\nWith {args.nodes} nodes round robin sends a request to the node that holds its "
        f"state 1 time in {args.nodes}: memory mode should lose about {100 * expected:.0f} % of codes and "
        "sessions, redis mode none."
    )
    out = save(
        name, f"make loadtest-compare ({args.users} users, {args.duration} s, {args.nodes} nodes)", text
    )
    print("\n" + text + f"\n\nsaved {out.relative_to(ROOT)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.loadrun", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_load = sub.add_parser("loadtest", help="load a running cluster")
    p_load.add_argument("--host", default="http://127.0.0.1:8080")
    p_load.add_argument("--spawn-rate", type=int, default=10)  # compare starts every user at once
    p_cmp = sub.add_parser("compare", help="redis mode and memory mode, side by side")
    p_cmp.add_argument("--nodes", type=int, default=3)
    for p in (p_load, p_cmp):
        p.add_argument("--users", type=int, default=20)
        p.add_argument("--duration", type=int, default=30, help="seconds")
    args = parser.parse_args(argv)
    return loadtest(args) if args.command == "loadtest" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
