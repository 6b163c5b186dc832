"""The Redis master stopped under users, measured: what `make failover` and
tests/faults/test_redis_failover.py run (scripts/failover.py explains the run)."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import time
from typing import Any

import aiohttp
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from node.redis_client import open_redis
from node.routes import PATHS
from node.sessions import LOGIN_USER_KEY
from node.tokens import session_id
from scripts.cluster import ClusterConfig, process_pid, supervisorctl
from scripts.cluster.redis_topology import (
    RedisProcess,
    answer,
    client,
    is_linked_replica,
)
from scripts.lab.journey import log_in
from scripts.lab.waiting import until


@dataclasses.dataclass
class Failover:
    topology: str
    stopped: str  # the master's supervisord program
    promoted: str  # the replica that took its place ("": none did)
    window: float  # seconds from the stop to the last failed request (0: none failed)
    failed: int
    served: int
    statuses: dict[int, int]  # of the failed requests; 0: no HTTP answer
    # Failed requests of users whose session was on another master (a
    # cluster; on Sentinel every session is on the one master).
    failed_elsewhere: int
    sessions: int
    kept: int  # sessions that answer 200 on every node afterwards
    nodes_restarted: int
    login_after: bool  # a new user could log in once it was over
    rejoined: float  # seconds from starting the old master again until it was a linked replica


@dataclasses.dataclass(frozen=True)
class Answer:
    when: float
    status: int  # 0: no HTTP answer
    worker: int
    token: str


async def _role(redis: Redis) -> list[Any] | None:
    role = await answer(redis, "ROLE")
    return list(role) if role else None


async def _caught_up(servers: dict[RedisProcess, Redis]) -> bool:
    """Every master has its replica, which has acknowledged all the master
    wrote: what the stop loses is then only what comes after
    (docs/scaling-out.md)."""
    for redis in servers.values():
        role = await _role(redis)
        if role and role[0] == "master" and (not role[2] or any(int(r[2]) < int(role[1]) for r in role[2])):
            return False
    return True


async def _masters_of(
    cfg: ClusterConfig, servers: dict[RedisProcess, Redis], keys: list[str]
) -> list[RedisProcess]:
    """The server that is master for each of ``keys`` now, as the nodes' own
    client sees it."""
    by_port = {proc.port: proc for proc in servers}
    async with open_redis(cfg.node_settings(), client_name="failover") as redis:
        if isinstance(redis, RedisCluster):
            await redis.initialize()  # the slot map: each key's master, without asking
            holders = [redis.get_node_from_key(key) for key in keys]
            return [by_port[int(node.port)] for node in holders if node is not None]
        port = (await redis.connection_pool.get_master_address())[1]  # type: ignore[attr-defined]
        return [by_port[int(port)]] * len(keys)


async def _replica_of(servers: dict[RedisProcess, Redis], master: RedisProcess) -> RedisProcess:
    for proc, redis in servers.items():
        role = await _role(redis)
        if role and role[0] == "slave" and int(role[2]) == master.port:
            return proc
    raise RuntimeError(f"{master.name} has no replica")


async def _user(
    http: aiohttp.ClientSession, base: str, worker: int, tokens: list[str], seen: list[Answer]
) -> None:
    """Asks who each of ``tokens`` is, over and over, until cancelled."""
    while True:
        for token in tokens:
            try:
                async with http.get(base + PATHS["user.me"], headers={"authorization": token}) as resp:
                    await resp.read()
                    status = resp.status
            except (TimeoutError, aiohttp.ClientError):
                status = 0
            seen.append(Answer(time.monotonic(), status, worker, token))


def _over(seen: list[Answer], workers: int, stopped_at: float, settle: float) -> bool:
    """No failure for ``settle`` seconds, and every worker has been served
    since the last one (none is stuck in a slow failure)."""
    last = max((a.when for a in seen if a.status != 200), default=stopped_at)
    served = {a.worker for a in seen if a.when > last and a.status == 200}
    return time.monotonic() - last >= settle and len(served) == workers


async def measure(
    cfg: ClusterConfig, *, users: int = 20, workers: int = 8, settle: float = 3.0, limit: float = 30.0
) -> Failover:
    """Stop the master under load on ``cfg`` (a sentinel or cluster
    topology, running) and measure what the users saw."""
    if users < 1:
        raise ValueError("at least one user")
    workers = min(workers, users)
    password = cfg.redis_password()
    # One client a server for the whole run (the polls below ask them often).
    servers = {proc: client(proc.port, password) for proc in cfg.redis_processes if not proc.sentinel}
    try:
        return await _measure(cfg, servers, users=users, workers=workers, settle=settle, limit=limit)
    finally:
        for redis in servers.values():
            await redis.aclose()


async def _measure(
    cfg: ClusterConfig,
    servers: dict[RedisProcess, Redis],
    *,
    users: int,
    workers: int,
    settle: float,
    limit: float,
) -> Failover:
    base = cfg.url + "/api"
    nodes = [f"nodes:{name}" for name in cfg.node_names()]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        tokens = [await log_in(http, base) for _ in range(users)]
        await until(lambda: _caught_up(servers), 10, lambda: "the replicas did not catch up")
        masters = await _masters_of(cfg, servers, [LOGIN_USER_KEY + session_id(token) for token in tokens])
        master = masters[0]
        on_master = {token for token, holder in zip(tokens, masters, strict=True) if holder == master}
        replica = await _replica_of(servers, master)
        pids = {name: process_pid(cfg, name) for name in nodes}

        seen: list[Answer] = []
        tasks = [asyncio.create_task(_user(http, base, i, tokens[i::workers], seen)) for i in range(workers)]
        try:
            await asyncio.sleep(1)  # served before the fault
            stopped_at = time.monotonic()
            await asyncio.to_thread(supervisorctl, cfg, "stop", master.name)
            while True:  # until it is over, or `limit` is up
                await asyncio.sleep(0.2)
                if _over(seen, workers, stopped_at, settle) or time.monotonic() - stopped_at > limit:
                    break
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        after = [a for a in seen if a.when >= stopped_at]
        failed = [a for a in after if a.status != 200]
        kept = 0
        for token in tokens:
            answers = []
            for index in range(1, cfg.nodes + 1):
                me = cfg.node_url(index) + PATHS["user.me"]
                async with http.get(me, headers={"authorization": token}) as resp:
                    answers.append(resp.status)
            kept += answers == [200] * cfg.nodes
        try:
            await log_in(http, base)
            login_after = True
        except (TimeoutError, aiohttp.ClientError):
            login_after = False

    restarted = sum(process_pid(cfg, name) != pid for name, pid in pids.items())
    role = await _role(servers[replica])
    promoted = replica.name if role and role[0] == "master" else ""

    async def replica_again() -> bool:
        return is_linked_replica(await _role(servers[master]))

    # From the start command: supervisorctl returns only once the process
    # has run for its startsecs, by when a replica may be linked already.
    started = time.monotonic()
    await asyncio.to_thread(supervisorctl, cfg, "start", master.name)
    await until(replica_again, limit, lambda: f"{master.name} did not come back as a replica")
    rejoined = time.monotonic() - started
    return Failover(
        topology=cfg.redis_topology,
        stopped=master.name,
        promoted=promoted,
        window=max((a.when for a in failed), default=stopped_at) - stopped_at,
        failed=len(failed),
        served=len(after) - len(failed),
        statuses=dict(collections.Counter(a.status for a in failed)),
        failed_elsewhere=sum(a.token not in on_master for a in failed),
        sessions=len(tokens),
        kept=kept,
        nodes_restarted=restarted,
        login_after=login_after,
        rejoined=rejoined,
    )


def _statuses(statuses: dict[int, int]) -> str:
    return ", ".join(f"{status or 'no answer'} ×{n:,}" for status, n in sorted(statuses.items())) or "-"


def table(results: list[Failover]) -> str:
    rows = [
        ("master stopped → replica promoted", [f"{r.stopped} → {r.promoted or 'none'}" for r in results]),
        ("users saw errors for (s)", [f"{r.window:.1f}" for r in results]),
        ("requests failed / served after the stop", [f"{r.failed:,} / {r.served:,}" for r in results]),
        ("failed with", [_statuses(r.statuses) for r in results]),
        (
            "of them, users whose session was on another master",
            [f"{r.failed_elsewhere:,}" if r.topology == "cluster" else "-" for r in results],
        ),
        ("sessions kept (on every node)", [f"{r.kept} of {r.sessions}" for r in results]),
        ("node processes restarted", [str(r.nodes_restarted) for r in results]),
        ("a new login afterwards", ["yes" if r.login_after else "no" for r in results]),
        ("old master back as a replica in (s)", [f"{r.rejoined:.1f}" for r in results]),
    ]
    lines = [
        "| | " + " | ".join(r.topology for r in results) + " |",
        "|---|" + "---|" * len(results),
        *(f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows),
    ]
    return "\n".join(lines)
