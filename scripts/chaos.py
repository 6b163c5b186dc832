"""`make chaos`: users keep using the cluster while it is broken on purpose.

For each session store asked for (redis, then memory, by default), on a
throwaway cluster of its own (temporary dir, free ports on 127.0.0.1):

    t = 0            locust starts USERS users (loadtest/locustfile.py)
    t = 10% of run   Postgres is frozen (SIGSTOP) for 20% of the run, then resumed
    t = 33%          a node is killed with SIGKILL (supervisord starts it again)
    t = 47%          a rolling restart of every node
    t = 80%          Redis is killed with SIGKILL (supervisord starts it again)
    t = 100%         locust stops

then prints one table: requests, failures by class, for each fault the
time until the cluster was whole again, and what the routes that need no
database (/user/me) saw while Postgres was frozen: a hung database must
cost only its own routes.  The table is saved under reports/.
Traffic goes only to 127.0.0.1, and the run stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable

import aiohttp

from loadtest.classes import CODE_LOST, CONNECTION_ERROR, OTHER, SERVER_ERROR, SESSION_LOST
from loadtest.report import Run, markdown_table
from node.routes import PATHS
from scripts.cluster import ClusterConfig, kill_process, launcher_setting, process_pid, rolling_restart, say
from scripts.lab.freeze import postgres_frozen
from scripts.lab.loadruns import failures_between, locust, parse_fault_run_args
from scripts.lab.reports import REPORTS, save, stamp
from scripts.lab.throwaway import throwaway
from scripts.lab.waiting import until

Probe = Callable[[aiohttp.ClientSession], Awaitable[bool]]
# The routes of the locustfile's users that need no database.
NO_DATABASE = (PATHS["user.me"],)
FROZEN_SHARE = 0.20  # of the run: 12 s of 60, past nginx's 10 s read timeout


async def _recovery(probe: Probe, limit: float = 60.0) -> float:
    """Seconds until ``probe`` holds (a request failing counts as "not yet")."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:

        async def holds() -> bool:
            try:
                return await probe(http)
            except (aiohttp.ClientError, TimeoutError):
                return False

        return await until(holds, limit, lambda: f"not recovered after {limit:.0f} s")


def _node_back_through_nginx(cfg: ClusterConfig, name: str) -> Probe:
    async def probe(http: aiohttp.ClientSession) -> bool:
        async with http.get(cfg.url + "/api/healthz") as resp:
            return resp.status == 200 and resp.headers.get("X-Node") == name

    return probe


def _every_node_ready(cfg: ClusterConfig) -> Probe:
    async def probe(http: aiohttp.ClientSession) -> bool:
        for index in range(1, cfg.nodes + 1):
            async with http.get(cfg.node_url(index) + "/readyz") as resp:
                if resp.status != 200:
                    return False
        return True

    return probe


def kill_node(cfg: ClusterConfig, name: str) -> float:
    kill_process(cfg, f"nodes:{name}")
    return asyncio.run(_recovery(_node_back_through_nginx(cfg, name)))


def timed_rolling_restart(cfg: ClusterConfig) -> float:
    started = time.monotonic()
    rolling_restart(cfg, quiet=True)
    return time.monotonic() - started


def kill_redis(cfg: ClusterConfig) -> float:
    pid = kill_process(cfg, "redis")

    async def back(http: aiohttp.ClientSession) -> bool:
        return process_pid(cfg, "redis") not in (0, pid) and await _every_node_ready(cfg)(http)

    return asyncio.run(_recovery(back))


class Freeze:
    """Postgres frozen for ``seconds``, then resumed; when, in Unix time."""

    def __init__(self, cfg: ClusterConfig, seconds: float) -> None:
        self.cfg, self.seconds = cfg, seconds
        self.start = self.end = 0.0

    def __call__(self) -> float:
        """The fault: seconds from the resume until every node is ready."""
        with postgres_frozen(self.cfg):
            self.start = time.time()
            threading.Event().wait(self.seconds)  # a fault of a set length
        self.end = time.time()
        return asyncio.run(_recovery(_every_node_ready(self.cfg)))


def run_one(
    store: str, *, users: int, duration: int, nodes: int, when: str
) -> tuple[Run, dict[str, float], dict[str, tuple[int, int]]]:
    recovery: dict[str, float] = {}
    say(f"{store}: starting a throwaway cluster ({nodes} nodes)")
    with throwaway(store, nodes=nodes, name=f"chaos-{store}") as cfg:
        say(f"{store}: {users} users for {duration} s, through {cfg.url}")
        prefix = REPORTS / f"chaos-{when}-{store}"
        freeze = Freeze(cfg, FROZEN_SHARE * duration)
        with locust(cfg.url, users=users, spawn_rate=users, duration=duration, prefix=prefix) as finished:
            started = time.monotonic()
            schedule: list[tuple[float, str, Callable[[], float]]] = [
                (
                    0.10,
                    f"Postgres frozen (SIGSTOP) for {freeze.seconds:.0f} s: every node ready after",
                    freeze,
                ),
                (0.33, "node2 killed (SIGKILL): back in rotation after", lambda: kill_node(cfg, "node2")),
                (0.47, "rolling restart of every node: took", lambda: timed_rolling_restart(cfg)),
                (0.80, "Redis killed (SIGKILL): every node ready after", lambda: kill_redis(cfg)),
            ]
            for at, what, fault in schedule:
                delay = started + at * duration - time.monotonic()
                if delay > 0:
                    # A schedule, not a wait for a condition: faults at set times.
                    threading.Event().wait(delay)
                say(f"{store}: {what.split(':')[0]}")
                recovery[what] = fault()
            if time.monotonic() - started > duration - 1:
                # Else a fault's aftermath would fall outside the load, and "no
                # session lost" would prove nothing.
                raise RuntimeError(
                    f"the faults took longer than the load ({duration} s): run longer (DURATION)"
                )
            run = finished()
            spared = {name: failures_between(prefix, name, freeze.start, freeze.end) for name in NO_DATABASE}
            return run, recovery, spared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", default="redis,memory", help="comma-separated: redis, memory")
    args = parse_fault_run_args(
        parser, argv, users=30, duration=60, min_duration=20, nodes=launcher_setting("nodes", os.environ)
    )
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    when = stamp()
    results = {
        store: run_one(store, users=args.users, duration=args.duration, nodes=args.nodes, when=when)
        for store in stores
    }

    rows = [
        ["requests", *(f"{r.requests:,}" for r, _, _ in results.values())],
        ["requests/s", *(f"{r.rps:,.0f}" for r, _, _ in results.values())],
        *(
            [kind, *(r.count(kind) for r, _, _ in results.values())]
            for kind in (SESSION_LOST, CODE_LOST, SERVER_ERROR, CONNECTION_ERROR, OTHER)
        ),
    ]
    faults = next(iter(results.values()))[1]
    rows += [[what, *(f"{rec[what]:.1f} s" for _, rec, _ in results.values())] for what in faults]
    rows += [
        [
            f"Postgres frozen: {name} (no database) failed",
            *(f"{spared[name][1]:,} of {spared[name][0]:,}" for _, _, spared in results.values()),
        ]
        for name in NO_DATABASE
    ]
    table = markdown_table(["", *(f"SESSION_STORE={s}" for s in results)], rows)
    save(
        f"chaos-{when}",
        "make chaos",
        f"{args.users} users for {args.duration} s per store, {args.nodes} nodes, "
        f"through nginx on 127.0.0.1.\n\n{table}",
        show=True,
    )
    lost = results["redis"][0].total(SESSION_LOST) if "redis" in results else 0
    if lost:
        print(f"\033[1;31mredis mode lost {lost} session(s): that is a bug\033[0m", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
