"""Load runs with locust (loadtest/locustfile.py), bounded.

    python -m scripts.loadrun loadtest   `make loadtest`: against the running cluster
    python -m scripts.loadrun ui         `make loadtest-ui`: locust's web UI against it
    python -m scripts.loadrun compare    `make loadtest-compare`: redis and memory mode,
                                          each on a throwaway cluster, side by side

The running cluster is the one on PORT (a launcher setting).  Every run is
bounded by its user count and duration, sends traffic only to 127.0.0.1,
and leaves an HTML and a CSV report under reports/.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from loadtest.report import Run
from scripts.cluster import ROOT, VENV_BIN, launcher_setting
from scripts.lab.loadruns import LOCUSTFILE, local_only, locust, login_rate_note, table
from scripts.lab.reports import REPORTS, save, stamp
from scripts.lab.throwaway import throwaway


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
    note = login_rate_note(run, args.host, Path(launcher_setting("run_dir", os.environ)))
    if note:
        print(note)
    return 0


def ui(args: argparse.Namespace) -> int:
    local_only(args.host)
    locust_bin = str(VENV_BIN / "locust")
    os.execv(locust_bin, [locust_bin, "-f", str(LOCUSTFILE), "--host", args.host, "--web-host", "127.0.0.1"])


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
    env = os.environ
    parser = argparse.ArgumentParser(prog="python -m scripts.loadrun", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    running = f"http://127.0.0.1:{launcher_setting('port', env)}"
    p_load = sub.add_parser("loadtest", help="load the running cluster")
    p_load.add_argument("--spawn-rate", type=int, default=10)  # compare starts every user at once
    p_ui = sub.add_parser("ui", help="locust's web UI against the running cluster")
    p_cmp = sub.add_parser("compare", help="redis mode and memory mode, side by side")
    p_cmp.add_argument("--nodes", type=int, default=launcher_setting("nodes", env))
    for p in (p_load, p_ui):
        p.add_argument("--host", default=running)
    for p in (p_load, p_cmp):
        p.add_argument("--users", type=int, default=20)
        p.add_argument("--duration", type=int, default=30, help="seconds")
    args = parser.parse_args(argv)
    return {"loadtest": loadtest, "ui": ui, "compare": compare}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
