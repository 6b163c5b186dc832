"""`make bench-instr`: the instructions a request costs, counted, not timed.

`make bench`'s rates move with the machine: on one shared VM, bare aiohttp
ran at 11,000 to 35,000 requests a second within an hour, and a floor read
above bare.  Valgrind's callgrind counts the instructions a process runs,
and the same code under the same load counts the same within a few per
cent whatever else the machine does.  Each target runs under callgrind:
the bare handler, the floors (scripts/bench_bare.py) and the node in each
mode, beside one throwaway cluster's Redis and Postgres; wrk loads it (the
first seconds uncounted), and its instructions over the counted window
are divided by the requests it answered.  Then whole logins (code, SMS
read, login), on the login floor and on the node.  With ``--before``, the
node of that commit is counted too, for one change side by side.

What this leaves out: time spent waiting (a system call costs few
instructions and may take long) and the work of Redis, Postgres and wrk,
which run outside.  So it is the node's own CPU path, the part a change to
its code moves; `make bench` is still the one that says how fast.  Traffic
goes to 127.0.0.1 only; every run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from loadtest.report import markdown_table
from node.routes import PATHS
from scripts.bench import logins_in, save_floor_session, token_at, wrk
from scripts.bench_ab import node, worktree
from scripts.bench_bare import TOKEN as FLOOR_TOKEN
from scripts.cluster import ROOT, VENV_BIN, ClusterConfig, free_ports
from scripts.lab.reports import save, stamp
from scripts.lab.serving import serving
from scripts.lab.throwaway import throwaway

# A Python process under valgrind takes seconds to start, a node more
# (it connects to its stores); a bound to be generous with.
STARTUP = 240.0
# What `make bench` runs on the floors, by target: its kind in bench_bare.
FLOORS = {
    "bare aiohttp handler (fixed JSON)": "bare",
    "the least a session read does, in the handler": "handler",
    "the least a Redis session read does, through the node's batch": "redis",
    "the same without redis-py (RawRedis)": "raw-redis",
}
MODES = ("memory", "redis")
# How many of Redis and Postgres a floor takes (the others take none).
STORES = {"redis": 1, "raw-redis": 1, "login": 2}


class Counted:
    """A process under callgrind whose count is zeroed and read on demand."""

    def __init__(self, pid: int, out: Path) -> None:
        self.pid, self._out = pid, out

    def start(self) -> None:
        """Instrument from now on (started without: it starts several times faster)."""
        subprocess.run(["callgrind_control", "-i", "on", str(self.pid)], capture_output=True, check=True)

    def zero(self) -> None:
        subprocess.run(["callgrind_control", "-z", str(self.pid)], capture_output=True, check=True)

    def read(self) -> int:
        """The instructions since the last zero (callgrind writes a dump file)."""
        subprocess.run(["callgrind_control", "-d", str(self.pid)], capture_output=True, check=True)
        dumps = sorted(self._out.parent.glob(self._out.name + ".*"), key=lambda p: int(p.suffix[1:]))
        match = re.search(r"^totals: (\d+)$", dumps[-1].read_text(), re.M)
        if match is None:
            raise RuntimeError(f"no totals in {dumps[-1]}")
        return int(match.group(1))


def callgrind(out: Path) -> list[str]:
    return ["valgrind", "--tool=callgrind", "--quiet", "--instr-atstart=no", f"--callgrind-out-file={out}"]


@contextlib.contextmanager
def floor(kind: str, cfg: ClusterConfig | None, dumps: Path) -> Iterator[tuple[str, Counted]]:
    """scripts/bench_bare.py's ``kind`` under callgrind, on ``cfg``'s Redis
    (and Postgres) if it needs them: (its /user/me URL, counter)."""
    [port] = free_ports(1)
    url = f"http://127.0.0.1:{port}{PATHS['user.me']}"
    stores = STORES.get(kind, 0)
    assert cfg is not None or not stores, kind
    args = [cfg.effective_redis_url(), cfg.effective_database_url()][:stores] if cfg else []
    out = dumps / f"{kind}.callgrind"
    command = [*callgrind(out), str(VENV_BIN / "python"), "-m", "scripts.bench_bare", str(port), kind, *args]
    with serving(
        command, ready=url, name=f"the {kind} floor under callgrind", within=STARTUP, cwd=ROOT
    ) as proc:
        yield url, Counted(proc.pid, out)


@contextlib.contextmanager
def counted_node(
    tree: Path, cfg: ClusterConfig, mode: str, name: str, dumps: Path
) -> Iterator[tuple[str, Counted]]:
    """The node of ``tree`` under callgrind (scripts/bench_ab.py: node): (its URL, counter)."""
    out = dumps / f"{name}.callgrind"  # beside the node's log, name.log
    with node(tree, cfg, mode, name, dumps, under=callgrind(out), within=STARTUP) as (url, pid):
        yield url, Counted(pid, out)


def per_request(url: str, token: str | None, counter: Counted, args: argparse.Namespace) -> float:
    # Warmed first, counted or not: imports, caches, the pools' connections.
    counter.start()
    wrk(url, token, seconds=min(3, args.seconds), connections=args.connections)
    counter.zero()
    result = wrk(url, token, seconds=args.seconds, connections=args.connections)
    return counter.read() / result.requests


def per_login(base: str, counter: Counted, seconds: float) -> float:
    counter.start()
    asyncio.run(logins_in(base, min(3, seconds)))
    counter.zero()
    done, _ = asyncio.run(logins_in(base, seconds))
    return counter.read() / done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench_instr", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--seconds", type=int, default=10, help="of wrk counted per target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--login-seconds", type=float, default=20.0, help="of logins counted per target (0: none)"
    )
    parser.add_argument("--before", help="a commit whose node is counted beside this checkout's")
    parser.add_argument(
        "--floors", default=",".join(FLOORS.values()), help="which, by kind (comma-separated)"
    )
    parser.add_argument(
        "--modes", default=",".join(MODES), help="the node's, on /user/me (comma-separated; empty: none)"
    )
    parser.add_argument(
        "--keep", type=Path, help="a directory to keep callgrind's dumps in, for callgrind_annotate"
    )
    args = parser.parse_args(argv)
    kinds = [kind for kind in args.floors.split(",") if kind]
    modes = [mode for mode in args.modes.split(",") if mode in MODES]
    if "bare" not in kinds:
        parser.error("--floors must include bare: every ratio is to it")

    # Redis and Postgres (a cluster of its own) only if a target needs them.
    stores = bool(modes) or args.login_seconds > 0 or any(STORES.get(kind) for kind in kinds)
    with (
        contextlib.ExitStack() as stack,
        tempfile.TemporaryDirectory(prefix="sessionlab-instr-") as tmp,
    ):
        dumps = args.keep or Path(tmp)
        dumps.mkdir(parents=True, exist_ok=True)
        trees = {"this checkout": ROOT}
        if args.before:
            trees[args.before] = stack.enter_context(worktree(args.before))
        cfg = stack.enter_context(throwaway("redis", nodes=1, name="bench-instr")) if stores else None
        if cfg is not None:
            asyncio.run(save_floor_session(cfg))
        counts: dict[str, float] = {}
        for name, kind in FLOORS.items():
            if kind in kinds:
                print(f"==> {name}", flush=True)
                with floor(kind, cfg, dumps) as (url, counter):
                    counts[name] = per_request(url, None if kind == "bare" else FLOOR_TOKEN, counter, args)
        with contextlib.ExitStack() as running:
            nodes: dict[tuple[str, str], tuple[str, Counted]] = {}

            def node_of(side: str, mode: str) -> tuple[str, Counted]:
                """The node of ``side`` in ``mode``, started once: redis mode's counts logins too."""
                assert cfg is not None  # a node needs the stores
                if (side, mode) not in nodes:
                    started = counted_node(trees[side], cfg, mode, f"{mode}-{len(nodes)}", dumps)
                    nodes[side, mode] = running.enter_context(started)
                return nodes[side, mode]

            for side in trees:
                for mode in modes:
                    name = f"{mode} mode, one node ({side})"
                    print(f"==> {name}", flush=True)
                    url, counter = node_of(side, mode)
                    token = asyncio.run(token_at(url))
                    counts[name] = per_request(url + PATHS["user.me"], token, counter, args)
            bare = counts["bare aiohttp handler (fixed JSON)"]
            rows = [[name, f"{count / 1000:,.1f}", f"{bare / count:.2f}"] for name, count in counts.items()]
            logins: dict[str, float] = {}
            if args.login_seconds > 0:
                print("==> logins", flush=True)
                with floor("login", cfg, dumps) as (url, counter):
                    logins["the least a login does (scripts/bench_floors.py)"] = per_login(
                        url.removesuffix(PATHS["user.me"]), counter, args.login_seconds
                    )
                for side in trees:
                    url, counter = node_of(side, "redis")
                    logins[f"the node, redis mode ({side})"] = per_login(url, counter, args.login_seconds)

    text = (
        f"Instructions counted by callgrind over {args.seconds} s of wrk -t1 -c{args.connections} "
        f"a target (requests) and {args.login_seconds:g} s of 16 users' logins; × bare is bare's "
        "count a request over the target's.\n\n"
        f"{markdown_table(['GET /user/me', 'k instructions a request', '× bare'], rows)}"
    )
    if logins:
        least = next(iter(logins.values()))
        login_rows = [[name, f"{count / 1e6:,.2f}", f"{count / least:.2f}"] for name, count in logins.items()]
        login_head = ["a whole login (code, SMS read, login)", "M instructions a login", "× the least"]
        text += f"\n\n{markdown_table(login_head, login_rows)}"
    save(f"bench-instr-{stamp()}", "make bench-instr", text, show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
