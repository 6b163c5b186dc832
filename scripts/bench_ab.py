"""`make bench-ab BEFORE=<commit>`: one change to the node, measured side by side.

`make bench`'s runs of the same code move by a tenth, more than most single
changes to the request path are worth.  This runs the node of this checkout
and the node of BEFORE (a git worktree in a temporary dir, on this
checkout's .venv) at the same time, beside one throwaway cluster's Redis
and Postgres, in each mode; wrk sends `GET /user/me` with a valid token to
each in turn, in interleaved rounds, and each node's CPU time a request is
read from /proc: the figure that holds on a shared machine.  Traffic goes
to 127.0.0.1 only; every run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from loadtest.report import markdown_table
from node.routes import PATHS
from scripts.bench import (
    LOGIN_SECONDS,
    ROUNDS,
    Served,
    cpu_seconds,
    in_turn,
    login_rate,
    token_at,
    warm_logins,
    wrk,
)
from scripts.cluster import ROOT, VENV_BIN, ClusterConfig, free_ports, process_pid
from scripts.cluster.redis_topology import LAYOUTS
from scripts.lab.reports import save, stamp
from scripts.lab.serving import serving
from scripts.lab.throwaway import throwaway

MODES = ("memory", "redis")
SIDES = ("before", "after")


@contextlib.contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """``commit``'s tree in a temporary dir, removed afterwards."""
    changed = subprocess.run(
        ["git", "diff", "--quiet", commit, "--", "requirements.txt"], cwd=ROOT, check=False
    )
    if changed.returncode != 0:
        raise SystemExit(f"bench-ab: {commit} has other requirements than this checkout's .venv")
    with tempfile.TemporaryDirectory(prefix="sessionlab-ab-") as tmp:
        tree = Path(tmp) / "before"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(tree), commit], cwd=ROOT, check=True
        )
        try:
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


@contextlib.contextmanager
def node(
    tree: Path,
    cfg: ClusterConfig,
    mode: str,
    name: str,
    logs: Path,
    *,
    under: Sequence[str] = (),
    within: float = 30,
) -> Iterator[Served]:
    """The node of ``tree`` on a port of its own, on ``cfg``'s stores, run
    by the command ``under`` if given (e.g. valgrind's): (url, pid)."""
    [port] = free_ports(1)
    env = {
        **os.environ,
        **cfg.node_environment(1),
        "NODE_NAME": name,
        "NODE_PORT": str(port),
        "SESSION_STORE": mode,
    }
    url = f"http://127.0.0.1:{port}"
    command = [*under, str(VENV_BIN / "python"), "-m", "node"]
    log = logs / f"{name}.log"
    with serving(
        command, ready=url + PATHS["readyz"], name=f"node {name}", log=log, within=within, cwd=tree, env=env
    ) as proc:
        yield Served(url, proc.pid)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_ab", description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the commit to compare this checkout with")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="even: each side leads as often")
    parser.add_argument("--seconds", type=int, default=4, help="of wrk per node per round (whole)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--login-seconds", type=float, default=LOGIN_SECONDS, help="of logins per node per round"
    )
    parser.add_argument("--topology", choices=sorted(LAYOUTS), default="single", help="Redis's")
    args = parser.parse_args(argv)

    with (
        worktree(args.before) as before,
        throwaway("redis", nodes=1, name="bench-ab", redis_topology=args.topology) as cfg,
        contextlib.ExitStack() as stack,
    ):
        nodes = {
            (mode, side): stack.enter_context(node(tree, cfg, mode, f"{mode}-{side}", cfg.log_dir))
            for mode in MODES
            for side, tree in zip(SIDES, (before, ROOT), strict=True)
        }
        tokens = {key: asyncio.run(token_at(url)) for key, (url, _) in nodes.items()}
        rates: dict[tuple[str, str], list[float]] = {key: [] for key in nodes}
        cpu: dict[tuple[str, str], list[float]] = {key: [] for key in nodes}
        # Redis's CPU on one server; another topology's is spread over several.
        redis_pid = process_pid(cfg, "redis") if args.topology == "single" else 0
        redis_cpu: dict[str, list[float]] = {side: [] for side in SIDES}
        logins: dict[str, list[float]] = {side: [] for side in SIDES}
        login_cpu: dict[str, list[float]] = {side: [] for side in SIDES}
        warm_logins(nodes["redis", side][0] for side in SIDES)
        for round_ in range(args.rounds):
            print(f"==> round {round_ + 1} of {args.rounds}", flush=True)
            # Each side first in every other round (in_turn says why).
            sides = in_turn(list(SIDES), round_)
            for key in [(mode, side) for mode in MODES for side in sides]:
                url, pid = nodes[key]
                started, redis_started = cpu_seconds(pid), cpu_seconds(redis_pid) if redis_pid else 0.0
                result = wrk(
                    url + PATHS["user.me"], tokens[key], seconds=args.seconds, connections=args.connections
                )
                used = cpu_seconds(pid) - started
                rates[key].append(result.rps)
                cpu[key].append(used * 1e6 / (result.rps * args.seconds))
                if key[0] == "redis" and redis_pid:
                    redis_used = cpu_seconds(redis_pid) - redis_started
                    redis_cpu[key[1]].append(redis_used * 1e6 / (result.rps * args.seconds))
            for side in sides:  # a login is the same code in both modes: redis mode's
                url, pid = nodes["redis", side]
                started = cpu_seconds(pid)
                rate = asyncio.run(login_rate(url, args.login_seconds))
                logins[side].append(rate)
                login_cpu[side].append((cpu_seconds(pid) - started) * 1e3 / (rate * args.login_seconds))

    def median(values: list[float], fmt: str) -> str:
        return format(statistics.median(values), fmt)

    rows = [
        [
            f"{mode} mode",
            median(rates[mode, "before"], ",.0f"),
            median(rates[mode, "after"], ",.0f"),
            median(cpu[mode, "before"], ".1f"),
            median(cpu[mode, "after"], ".1f"),
        ]
        for mode in MODES
    ]
    if redis_pid:
        redis_before, redis_after = (median(redis_cpu[side], ".1f") for side in ("before", "after"))
        rows.append(["redis mode: Redis's own cpu µs a request", "", "", redis_before, redis_after])
    rows.append(
        [
            "whole logins (code, SMS read, login), redis mode: a second, and node cpu ms a login",
            median(logins["before"], ",.0f"),
            median(logins["after"], ",.0f"),
            median(login_cpu["before"], ".2f"),
            median(login_cpu["after"], ".2f"),
        ]
    )
    head = [
        "GET /user/me with a token, one node",
        "requests/s before",
        "after",
        "cpu µs/request before",
        "after",
    ]
    how = (
        f"before: {args.before}; after: this checkout; Redis on {LAYOUTS[args.topology].description}.  "
        f"wrk -t2 -c{args.connections}, {args.seconds} s a node, {args.rounds} interleaved round(s), "
        "each side first in every other one, medians; the node's CPU from /proc; logins from 16 "
        f"users, {args.login_seconds:g} s a node a round."
    )
    text = f"{how}\n\n{markdown_table(head, rows)}"
    save(f"bench-ab-{stamp()}", "make bench-ab", text, show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
