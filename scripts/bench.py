"""`make bench`: what a shared session costs an authenticated request.

It starts its own clusters (one in redis mode, one in memory mode: free
ports, temporary dirs), a bare aiohttp + uvloop handler returning fixed
JSON and the floors beside it (scripts/bench_bare.py), then measures with
wrk (Debian's package) `GET /user/me` with a valid token, which reads the
session and pushes its TTL back:

- bare and the floors; memory mode and redis mode, each on one node
  directly and through nginx over all the nodes; redis mode on one node
  again for each other Redis topology (Sentinel: a master and a replica;
  Redis Cluster: three masters with a replica each), each on a cluster of
  its own; in interleaved rounds, every other one in reverse order, each
  target's ratio to bare (and to web.json_response's answer) taken within
  its round (the machine is shared: ratios, not absolute rates, are the
  figures that hold), medians over the rounds; beside each rate, the CPU
  a request of the process that serves it (user and system, /proc), which
  says where a rate went;
- Redis memory per session: MEMORY USAGE of one session, and the growth of
  used_memory over many sessions written the way logins write them;
- login throughput: code + SMS + login a second, Postgres included, per
  Redis topology, and the least a login does (scripts/bench_floors.py) on
  the same Redis and Postgres, in rounds as above.

Prints a markdown table and saves it under reports/.  No figure here is a
pass or a fail.  Traffic goes to 127.0.0.1 only; every run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import aiohttp
from redis.asyncio import Redis

from loadtest.report import markdown_table
from node.models import UserDTO
from node.routes import PATHS
from node.sessions import LOGIN_USER_KEY, Policy, RedisSessionStore
from node.tokens import new_token, session_id
from scripts.bench_bare import TOKEN as FLOOR_TOKEN
from scripts.bench_bare import USER as FLOOR_USER
from scripts.cluster import ROOT, VENV_BIN, ClusterConfig, free_ports, launcher_setting, process_pid
from scripts.cluster.redis_topology import LAYOUTS, REPLICATED, replicated_list
from scripts.lab.journey import log_in, log_in_lean
from scripts.lab.lean_http import LeanConnection
from scripts.lab.reports import save, stamp
from scripts.lab.serving import serving
from scripts.lab.throwaway import throwaway


@dataclass
class Wrk:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int  # answered in the run


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
_COLUMNS = (
    "GET /user/me with a token",
    "requests/s",
    "p50 ms",
    "p99 ms",
    "server CPU µs/request",
    "× bare",
    "× json_response",
)
BARE = "bare aiohttp handler (fixed JSON)"
# The yardstick issue 18 set its goals against: the same answer encoded on
# every request, as handlers are usually written.  "× bare" is the stricter.
JSON_BARE = "the same by web.json_response of a fixed dict, encoded each time"
FLOOR_LOGIN = "the least a login does"
# Even, so that each order runs as often (in_turn); make bench-ab's too.
ROUNDS = 4
LOGIN_SECONDS = 4.0


def wrk(url: str, token: str | None, *, seconds: float, connections: int) -> Wrk:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    if token:
        args[1:1] = ["-H", f"authorization: {token}"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 30, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"wrk saw errors from {url}:\n{out}")

    def latency(pct: str) -> float:
        value, unit = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()  # type: ignore[union-attr]
        return float(value) * _UNITS[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"^\s*(\d+) requests in", out, re.M).group(1))  # type: ignore[union-attr]
    return Wrk(rps, latency("50"), latency("99"), requests)


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has used, user and system."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


class Served(NamedTuple):
    url: str
    pid: int


@contextlib.contextmanager
def bare_server(kind: str = "bare", *args: str) -> Iterator[Served]:
    [port] = free_ports(1)
    url = f"http://127.0.0.1:{port}/user/me"
    command = [str(VENV_BIN / "python"), "-m", "scripts.bench_bare", str(port), kind, *args]
    with serving(command, ready=url, name=f"the {kind} server", cwd=ROOT) as proc:
        yield Served(url, proc.pid)


async def token_at(url: str) -> str:
    """A token from a login on the node at ``url``."""
    async with aiohttp.ClientSession() as http:
        return await log_in(http, url)


async def token_for(cfg: ClusterConfig) -> str:
    """One token every node of ``cfg`` knows: in memory mode, one login per
    node would give one token per node, so log in on node1 and bench it;
    through nginx only redis mode shares one token."""
    return await token_at(cfg.node_url(1))


async def _tokens(*cfgs: ClusterConfig) -> list[str]:
    return list(await asyncio.gather(*(token_for(cfg) for cfg in cfgs)))


async def save_floor_session(cfg: ClusterConfig) -> None:
    """The session scripts/bench_bare.py's ``redis`` kind reads, written
    as a login writes it."""
    redis = Redis.from_url(cfg.effective_redis_url(), decode_responses=True)
    try:
        await RedisSessionStore(redis, Policy()).save_user(session_id(FLOOR_TOKEN), FLOOR_USER)
    finally:
        await redis.aclose()


async def login_rate(url: str, seconds: float, concurrency: int = 16) -> float:
    """Whole logins (code, SMS read, login) a second through ``url`` (a
    node), from ``concurrency`` users on a keep-alive connection each."""
    done, elapsed = await logins_in(url, seconds, concurrency)
    return done / elapsed


async def logins_in(url: str, seconds: float, concurrency: int = 16) -> tuple[int, float]:
    """The whole logins done through ``url`` in about ``seconds``, and the
    seconds they took, as :func:`login_rate` counts them."""
    done = 0
    deadline = time.monotonic() + seconds

    async def user() -> None:
        nonlocal done
        async with LeanConnection(url) as conn:
            while time.monotonic() < deadline:
                await log_in_lean(conn)
                done += 1

    started = time.monotonic()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    return done, time.monotonic() - started


def within_rounds(runs: list[Wrk], yardstick: list[Wrk]) -> float:
    """The median over the rounds of a target's rate over ``yardstick``'s
    in the same round."""
    return statistics.median(run.rps / base.rps for run, base in zip(runs, yardstick, strict=True))


def in_turn(names: list[str], round_: int) -> list[str]:
    """``names`` in round ``round_``'s order: reversed in every other round,
    so that no target always runs first (in `make bench-ab`, the second of
    two login runs of the same code did 6 % more than the first)."""
    return names if round_ % 2 == 0 else names[::-1]


def warm_logins(urls: Iterable[str]) -> None:
    """A second of logins on each of ``urls`` before any is measured: a
    node's Postgres pool opens its connections then."""
    for url in urls:
        asyncio.run(login_rate(url, 1.0))


def login_rounds(targets: dict[str, str], rounds: int, seconds: float) -> dict[str, float]:
    """Each target's median logins a second (:func:`login_rate`) over
    ``rounds`` interleaved rounds, each warmed first."""
    warm_logins(targets.values())
    rates: dict[str, list[float]] = {name: [] for name in targets}
    for round_ in range(rounds):
        for name in in_turn(list(targets), round_):
            rates[name].append(asyncio.run(login_rate(targets[name], seconds)))
    return {name: statistics.median(values) for name, values in rates.items()}


async def memory_per_session(cfg: ClusterConfig, token: str, sessions: int) -> tuple[int, float]:
    """MEMORY USAGE of the session of ``token`` (a real login), and
    used_memory growth a session over ``sessions`` written by the store's own
    save_user (one user each: the store keeps nothing per user, so that
    costs nothing extra)."""
    redis = Redis.from_url(cfg.effective_redis_url(), decode_responses=True)
    try:
        one = int(await redis.memory_usage(LOGIN_USER_KEY + session_id(token)) or 0)
        store = RedisSessionStore(redis, Policy())
        before = int((await redis.info("memory"))["used_memory"])
        batch = 50  # the client's pool holds 100 connections
        base = 10**9
        for start in range(0, sessions, batch):
            await asyncio.gather(
                *(
                    store.save_user(session_id(new_token()), UserDTO(id=base + i, nick_name=f"user_{i:010d}"))
                    for i in range(start, min(start + batch, sessions))
                )
            )
        after = int((await redis.info("memory"))["used_memory"])
        return one, (after - before) / sessions
    finally:
        await redis.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="even: each order as often")
    parser.add_argument("--seconds", type=int, default=5, help="of wrk per target per round (whole)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--nodes", type=int, default=launcher_setting("nodes", os.environ))
    parser.add_argument("--sessions", type=int, default=100_000, help="written to measure Redis memory")
    parser.add_argument(
        "--login-seconds", type=float, default=LOGIN_SECONDS, help="of logins per target per round"
    )
    parser.add_argument(
        "--topologies",
        type=replicated_list,
        default=list(REPLICATED),
        help="Redis topologies measured besides one server",
    )
    args = parser.parse_args(argv)
    topologies = args.topologies

    with (
        throwaway("redis", nodes=args.nodes, name="bench-redis") as redis_cfg,
        throwaway("memory", nodes=args.nodes, name="bench-memory") as memory_cfg,
        contextlib.ExitStack() as stack,
        bare_server() as bare,
        bare_server("json") as json_bare,
        bare_server("middleware") as middleware,
        bare_server("handler") as handler_floor,
        bare_server("redis", redis_cfg.effective_redis_url()) as redis_floor,
        bare_server("raw-redis", redis_cfg.effective_redis_url()) as raw_floor,
        bare_server(
            "login", redis_cfg.effective_redis_url(), redis_cfg.effective_database_url()
        ) as login_floor,
    ):
        asyncio.run(save_floor_session(redis_cfg))
        others = {
            topology: stack.enter_context(
                throwaway("redis", nodes=args.nodes, name=f"bench-{topology}", redis_topology=topology)
            )
            for topology in topologies
        }
        redis_token, memory_token, *other_tokens = asyncio.run(
            _tokens(redis_cfg, memory_cfg, *others.values())
        )
        me = PATHS["user.me"]

        def node1(cfg: ClusterConfig) -> int:
            return process_pid(cfg, "nodes:node1")

        # name: (url, token, the pid of the one process serving it, if one does)
        targets: dict[str, tuple[str, str | None, int | None]] = {
            BARE: (bare.url, None, bare.pid),
            JSON_BARE: (json_bare.url, None, json_bare.pid),
            "the same behind one middleware that does nothing": (middleware.url, None, middleware.pid),
            "the least a session read does, in the handler (scripts/bench_bare.py: handler)": (
                handler_floor.url,
                FLOOR_TOKEN,
                handler_floor.pid,
            ),
            "the least a Redis session read does, in the handler (scripts/bench_bare.py: redis)": (
                redis_floor.url,
                FLOOR_TOKEN,
                redis_floor.pid,
            ),
            "the same without redis-py: one connection, hiredis (scripts/bench_floors.py: RawRedis)": (
                raw_floor.url,
                FLOOR_TOKEN,
                raw_floor.pid,
            ),
            "memory mode, one node": (memory_cfg.node_url(1) + me, memory_token, node1(memory_cfg)),
            "redis mode, one node": (redis_cfg.node_url(1) + me, redis_token, node1(redis_cfg)),
            f"redis mode, nginx over {args.nodes} nodes": (redis_cfg.url + "/api" + me, redis_token, None),
        }
        # Through nginx a memory-mode token is known to one node only (the
        # bug): the nginx hop is measured on a page that needs no session
        # and no database.
        hop = f"memory mode, nginx over {args.nodes} nodes (/cluster/info: no session)"
        targets[hop] = (memory_cfg.url + "/api" + PATHS["cluster.info"], None, None)
        for (topology, cfg), token in zip(others.items(), other_tokens, strict=True):
            name = f"redis mode on {LAYOUTS[topology].description}, one node"
            targets[name] = (cfg.node_url(1) + me, token, node1(cfg))
        results: dict[str, list[Wrk]] = {name: [] for name in targets}
        cpu_us: dict[str, list[float]] = {name: [] for name in targets}
        for round_ in range(args.rounds):
            print(f"==> round {round_ + 1} of {args.rounds}", flush=True)
            for name in in_turn(list(targets), round_):
                url, tok, pid = targets[name]
                used = cpu_seconds(pid) if pid else 0.0
                result = wrk(url, tok, seconds=args.seconds, connections=args.connections)
                if pid:
                    cpu_us[name].append((cpu_seconds(pid) - used) * 1e6 / max(1, result.requests))
                results[name].append(result)
        # Before the logins, which leave keys behind (each login three): the
        # sessions' growth is measured from a near-empty Redis, as the dicts
        # grow from there, not across a doubling the logins brought closer.
        print(f"==> Redis memory over {args.sessions:,} sessions", flush=True)
        one, grown = asyncio.run(memory_per_session(redis_cfg, redis_token, args.sessions))
        print("==> login throughput", flush=True)
        by_topology = {LAYOUTS[t].description: c for t, c in {"single": redis_cfg, **others}.items()}
        # The floor and the nodes on the same Redis and Postgres, in rounds.
        login_targets = {FLOOR_LOGIN: login_floor.url.removesuffix(me)} | {
            name: c.node_url(1) for name, c in by_topology.items()
        }
        login_rates = login_rounds(login_targets, args.rounds, args.login_seconds)
        login_floor_rate = login_rates.pop(FLOOR_LOGIN)

    rows = [
        [
            name,
            f"{statistics.median([r.rps for r in runs]):,.0f}",
            f"{statistics.median([r.p50_ms for r in runs]):.2f}",
            f"{statistics.median([r.p99_ms for r in runs]):.2f}",
            f"{statistics.median(cpu_us[name]):.1f}" if cpu_us[name] else "-",
            f"{within_rounds(runs, results[BARE]):.2f}",
            f"{within_rounds(runs, results[JSON_BARE]):.2f}",
        ]
        for name, runs in results.items()
    ]
    table = markdown_table(list(_COLUMNS), rows)
    login_rows = (
        "| logins a second, the least a login does on one Redis server "
        f"(scripts/bench_floors.py: login_routes; 16 clients, one process) | {login_floor_rate:,.0f} |\n"
    ) + "".join(
        f"| logins a second, Redis on {name} (code, SMS read, login; Postgres included; "
        f"16 clients, one node) | {rate:,.0f} |\n"
        for name, rate in login_rates.items()
    )
    text = (
        f"wrk -t2 -c{args.connections}, {args.seconds:g} s a target, {args.rounds} interleaved round(s) "
        "(every other one in reverse order), medians; × bare is each target's rate over the bare "
        "handler's in the same round, × json_response over web.json_response's (issue 18's "
        "yardstick); server CPU is the serving process's, user and system, from "
        "/proc, over the requests wrk saw answered (- where nginx and several nodes serve).  Logins: "
        f"medians of {args.rounds} interleaved rounds of {args.login_seconds:g} s a target, after a "
        "second of logins each.\n\n"
        f"{table}\n\n"
        f"| other figures | |\n|---|---:|\n"
        f"{login_rows}"
        f"| Redis MEMORY USAGE of one session | {one} bytes |\n"
        f"| Redis used_memory growth a session, over {args.sessions:,} sessions "
        "(one user each) "
        f"| {grown:,.0f} bytes |"
    )
    save(f"bench-{stamp()}", "make bench", text, show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
