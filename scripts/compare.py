"""`make compare`: every answer to the session problem, through the same load
and the same fault, in one table.

For each strategy, on a throwaway cluster of its own (free ports on
127.0.0.1, removed afterwards):

    t = 0            locust starts USERS users (loadtest/locustfile.py)
    t = 40% of run   node2 is killed with SIGKILL; supervisord starts it again
    t = 100%         locust stops

then, with the load stopped, what each node holds (/cluster/info) and how
long a login on node1 takes to be known on node2 (the consistency window).
The table is printed and saved under reports/.  Traffic goes only to
127.0.0.1, and every run stops by itself.

The strategies, chosen by flags only (the handlers are the same code):

    memory       in-process, round robin   SESSION_STORE=memory (the bug)
    sticky       sticky sessions           SESSION_STORE=memory BALANCE=sticky
    replicated   session replication       SESSION_STORE=replicated
    redis        shared store (Redis)      SESSION_STORE=redis (the seeds' fix)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
import tracemalloc
from typing import Any

import aiohttp

from loadtest.classes import CODE_LOST, SERVER_ERROR, SESSION_LOST
from loadtest.report import Run, markdown_table
from node.models import UserDTO
from node.routes import PATHS
from node.sessions import MemorySessionStore, Policy, TTLDict
from scripts.cluster import ClusterConfig, kill_process, launcher_setting, say
from scripts.lab.journey import log_in
from scripts.lab.loadruns import locust, parse_fault_run_args
from scripts.lab.reports import REPORTS, save, stamp
from scripts.lab.throwaway import throwaway

# --strategies name -> (column title, SESSION_STORE, BALANCE)
STRATEGIES: dict[str, tuple[str, str, str]] = {
    "memory": ("in-process, round robin", "memory", "round_robin"),
    "sticky": ("sticky sessions", "memory", "sticky"),
    "replicated": ("session replication", "replicated", "round_robin"),
    "redis": ("shared store (Redis)", "redis", "round_robin"),
}
FAULT_AT = 0.4
KILLED = 2  # node2


def bytes_per_session(count: int = 10_000) -> float:
    """Python heap a session costs a node's in-process store (tracemalloc)."""

    async def fill() -> TTLDict:
        data = TTLDict()
        store = MemorySessionStore(Policy(), data)
        for i in range(count):
            await store.save_user(f"{i:032x}", UserDTO(id=10**9 + i, nick_name=f"user_{i:010d}"))
        return data

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    data = asyncio.run(fill())
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(data) == count
    return (after - before) / count


async def node_stats(cfg: ClusterConfig) -> dict[int, dict[str, Any]]:
    """Each node's /cluster/info stats; a node that does not answer is left out."""
    out: dict[int, dict[str, Any]] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
        for index in range(1, cfg.nodes + 1):
            try:
                async with http.get(cfg.node_url(index) + PATHS["cluster.info"]) as resp:
                    out[index] = (await resp.json())["data"]["stats"]
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError):
                pass
    return out


async def consistency_window(cfg: ClusterConfig, trials: int, cap: float = 3.0) -> list[float | None]:
    """For each trial: log in on node1, then ask node2 at once and again every
    5 ms until it knows the session; seconds, or None if not within ``cap``."""
    out: list[float | None] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        for _ in range(trials):
            token = await log_in(http, cfg.node_url(1))
            started = time.monotonic()
            seen: float | None = None
            while time.monotonic() - started < cap:
                async with http.get(
                    cfg.node_url(2) + PATHS["user.me"], headers={"authorization": token}
                ) as resp:
                    if resp.status == 200:
                        seen = time.monotonic() - started
                        break
                await asyncio.sleep(0.005)
            out.append(seen)
    return out


def run_one(
    title: str,
    store: str,
    balance: str,
    *,
    users: int,
    duration: int,
    nodes: int,
    when: str,
    per_session: float,
) -> dict[str, str]:
    say(f"{title}: starting a throwaway cluster ({nodes} nodes)")
    with throwaway(store, nodes=nodes, name="compare", balance=balance) as cfg:
        say(f"{title}: {users} users for {duration} s through {cfg.url}; node{KILLED} killed at "
            f"{FAULT_AT * duration:.0f} s")  # fmt: skip
        prefix = REPORTS / f"compare-{when}-{store}-{balance}"
        with locust(cfg.url, users=users, spawn_rate=users, duration=duration, prefix=prefix) as finished:
            began = time.time()
            # A schedule, not a wait for a condition: the fault at a set time.
            threading.Event().wait(FAULT_AT * duration)
            before_kill = asyncio.run(node_stats(cfg)).get(KILLED, {})
            fault = time.time()
            kill_process(cfg, f"nodes:node{KILLED}")
            run = finished()
        end = time.time() + 1
        stats, window = asyncio.run(_after(cfg, shared=store in ("redis", "replicated")))
    return _row(run, store, began, fault, end, stats, before_kill, window, per_session)


async def _after(cfg: ClusterConfig, *, shared: bool) -> tuple[dict[int, dict[str, Any]], list[float | None]]:
    """With the load stopped: what each node holds, then the consistency
    window (10 trials where another node may learn a session, 2 where it never does)."""
    stats = await node_stats(cfg)
    return stats, await consistency_window(cfg, 10 if shared else 2, cap=3.0 if shared else 1.0)


def _row(
    run: Run,
    store: str,
    began: float,
    fault: float,
    end: float,
    stats: dict[int, dict[str, Any]],
    before_kill: dict[str, Any],
    window: list[float | None],
    per_session: float,
) -> dict[str, str]:
    # Sessions per node, the killed node left out (it restarted empty or
    # caught up, either way not a steady state), over the sessions the
    # cluster holds: each held once by one node in-process, by every node
    # when replicated.
    held = {index: s.get("sessions", 0) for index, s in stats.items()}
    steady = [n for index, n in held.items() if index != KILLED]
    distinct = max(held.values(), default=0) if store == "replicated" else sum(held.values())
    if store == "redis":
        memory = "0 (in Redis: see make bench)"
    else:
        share = statistics.mean(steady) / distinct if steady and distinct else 0.0
        memory = f"{share * 10_000 * per_session / 1e6:.1f} MB ({share:.2f} of them)"
    seen = [w for w in window if w is not None]
    if not seen:
        consistency = "never (another node never learns it)"
    elif len(seen) < len(window):
        consistency = f"{len(window) - len(seen)} of {len(window)} never; others {1000 * max(seen):.0f} ms"
    elif max(seen) == 0 or store == "redis":
        consistency = f"none: known at the first request ({1000 * max(seen):.1f} ms)"
    else:
        consistency = f"median {1000 * statistics.median(seen):.1f} ms, max {1000 * max(seen):.1f} ms"
    if len(stats) < len(run.nodes) - ("(none)" in run.nodes):
        print(
            "warning: a node did not answer /cluster/info: its round trips are not counted", file=sys.stderr
        )
    trips = sum(s.get("roundTrips", 0) for s in stats.values()) + before_kill.get("roundTrips", 0)
    served = sum(n for node, n in run.nodes.items() if node.startswith("node"))
    return {
        "requests/s": f"{run.rps:,.0f}",
        # By whole seconds (the locustfile counts per second): the second the
        # fault falls in counts as after it.
        "sessions lost before the fault": run.lost(SESSION_LOST, began - 1, int(fault)),
        "sessions lost after the fault": run.lost(SESSION_LOST, int(fault), end),
        "codes lost": run.lost(CODE_LOST),
        "server errors": run.count(SERVER_ERROR),
        "node memory per 10,000 sessions, per node (share held)": memory,
        "consistency window (login on node1, then node2)": consistency,
        "Redis round trips per request": f"{trips / served:.2f}" if store == "redis" and served else "0",
        "requests by node": ", ".join(f"{node} {n:,}" for node, n in run.nodes.items()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--strategies", default=",".join(STRATEGIES), help="comma-separated: " + ", ".join(STRATEGIES)
    )
    args = parse_fault_run_args(
        parser, argv, users=20, duration=30, min_duration=10, nodes=launcher_setting("nodes", os.environ)
    )
    chosen = [s.strip() for s in args.strategies.split(",") if s.strip()]
    if unknown := [s for s in chosen if s not in STRATEGIES]:
        parser.error(f"unknown strategies: {', '.join(unknown)}")
    when = stamp()
    per_session = bytes_per_session()
    say(f"an in-process session costs a node {per_session:.0f} bytes of Python heap (tracemalloc)")

    results = {
        STRATEGIES[key][0]: run_one(
            *STRATEGIES[key],
            users=args.users,
            duration=args.duration,
            nodes=args.nodes,
            when=when,
            per_session=per_session,
        )
        for key in chosen
    }
    measures = list(next(iter(results.values())))
    table = markdown_table(["", *results], [[m, *(r[m] for r in results.values())] for m in measures])
    text = (
        f"{args.users} users for {args.duration} s per strategy, {args.nodes} nodes, through nginx on "
        f"127.0.0.1; node{KILLED} killed with SIGKILL at {FAULT_AT * args.duration:.0f} s and restarted by "
        f"supervisord.  An in-process session costs {per_session:.0f} bytes of a node's heap.\n\n{table}"
    )
    save(f"compare-{when}", "make compare", text, show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
