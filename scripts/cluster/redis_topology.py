"""The cluster's own Redis, in each of the layouts the nodes can use.

single     one server (the default).  AOF keeps the sessions over a restart;
           while it is down, nobody can log in or be recognised.
sentinel   a master, a replica and three sentinels.  When two sentinels agree
           that the master is gone, they promote the replica, and the nodes
           (which ask them where the master is) follow by themselves.
cluster    three masters that share the 16,384 hash slots, each with a
           replica that takes over its slots when it dies.

``make up REDIS_TOPOLOGY=...`` picks one.  The launcher (scripts/cluster/)
writes the configs with :func:`write_configs`, runs each process under
supervisord, and waits in :func:`wait_whole` until the layout is complete.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from scripts.cluster.common import LaunchError
from scripts.lab.waiting import until


@dataclasses.dataclass(frozen=True)
class Layout:
    servers: int
    sentinels: int
    buses: int  # cluster bus ports: one a server
    description: str
    replicated: bool  # a replica to promote when a master dies


LAYOUTS = {
    "single": Layout(1, 0, 0, "one server", replicated=False),
    "sentinel": Layout(2, 3, 0, "Sentinel (a master and a replica, three sentinels)", replicated=True),
    "cluster": Layout(6, 0, 6, "Redis Cluster (three masters, a replica each)", replicated=True),
}
TOPOLOGIES = tuple(LAYOUTS)
REPLICATED = tuple(name for name, layout in LAYOUTS.items() if layout.replicated)


def replicated_list(raw: str) -> list[str]:
    """An argparse type: ``sentinel,cluster``, some of REPLICATED (or none)."""
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    if set(chosen) - set(REPLICATED):
        raise argparse.ArgumentTypeError(f"some of {', '.join(REPLICATED)}, comma-separated, not {raw!r}")
    return chosen


# The name the sentinels know the master by (the nodes' REDIS_SENTINEL_MASTER).
SENTINEL_MASTER = "sessionlab"
SLOTS = 16384

# Sentinel: the master is "down" for a sentinel after a second without an
# answer; a quorum of two sentinels makes it so for all, and one of them
# promotes the replica.  A failover that has not finished in 10 s is tried again.
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 10000
# Cluster: a master that has not answered its peers for 2 s is failed, and
# its replica takes over (Redis's default is 15 s).
CLUSTER_NODE_TIMEOUT_MS = 2000


@dataclasses.dataclass(frozen=True)
class RedisProcess:
    """One redis-server or sentinel: its supervisord program, port and dir."""

    name: str
    port: int
    dir: Path
    sentinel: bool = False
    bus_port: int = 0  # cluster only: the port the servers talk to each other on

    @property
    def conf(self) -> Path:
        return self.dir / ("sentinel.conf" if self.sentinel else "redis.conf")

    def command(self, redis_bin: str) -> str:
        # The port on the command line, not in the conf, so that a new port
        # changes the command and supervisord's `update` restarts the process.
        return f"{redis_bin} {self.conf}{' --sentinel' if self.sentinel else ''} --port {self.port}"


def processes(
    topology: str, run_dir: Path, servers: list[int], sentinels: list[int], buses: list[int]
) -> list[RedisProcess]:
    if topology == "single":
        # Named "redis": the fault tests and `make chaos` stop it by that name.
        return [RedisProcess("redis", servers[0], run_dir / "redis")]
    found = [
        RedisProcess(f"redis{i}", port, run_dir / f"redis{i}", bus_port=buses[i - 1] if buses else 0)
        for i, port in enumerate(servers, start=1)
    ]
    found += [
        RedisProcess(f"sentinel{i}", port, run_dir / f"sentinel{i}", sentinel=True)
        for i, port in enumerate(sentinels, start=1)
    ]
    return found


MAXMEMORY = "256mb"  # about a million sessions (236 bytes each) with room for codes


def render_server(topology: str, proc: RedisProcess, *, password: str, master_port: int) -> str:
    lines = [
        "# Rendered by scripts/cluster/redis_topology.py.",
        "bind 127.0.0.1",
        # Any local user could otherwise write a session hash and be anyone.
        f"requirepass {password}",
        # A replica logs in to its master with it: every server has the same.
        f"masterauth {password}",
        "protected-mode yes",
        "daemonize no",
        f"dir {proc.dir}",
        'logfile ""',
        # Sessions survive a restart: append-only file, fsync each second,
        # no RDB snapshots.
        "appendonly yes",
        "appendfsync everysec",
        'save ""',
        # A bound on what anyone can make Redis hold.  Past it nothing is
        # evicted: new codes and logins fail (503), sessions go on.
        f"maxmemory {MAXMEMORY}",
        "maxmemory-policy noeviction",
    ]
    if topology != "single":
        # A replica's first sync (and an old master's, back as a replica)
        # starts at once: Redis would wait 5 s for more replicas to share it.
        lines.append("repl-diskless-sync-delay 0")
    if topology == "sentinel" and proc.port != master_port:
        lines.append(f"replicaof 127.0.0.1 {master_port}")
    if topology == "cluster":
        lines += [
            "cluster-enabled yes",
            "cluster-config-file nodes.conf",
            f"cluster-port {proc.bus_port}",
            f"cluster-node-timeout {CLUSTER_NODE_TIMEOUT_MS}",
            # While a dead master's replica is not yet promoted, only that
            # master's slots fail, not every key (the nodes' client agrees:
            # node/redis_client.py).
            "cluster-require-full-coverage no",
        ]
    return "\n".join(lines) + "\n"


def sentinel_id(proc: RedisProcess) -> str:
    """The sentinel's run id (``sentinel myid``), fixed by its dir so that
    every sentinel's config can name the others before any has started."""
    return hashlib.sha1(str(proc.dir).encode()).hexdigest()


def render_sentinel(proc: RedisProcess, procs: list[RedisProcess], *, password: str) -> str:
    """``proc``'s config, in the layout ``procs`` (the first one the master)."""
    name = SENTINEL_MASTER
    master_port = procs[0].port
    # What a sentinel would otherwise find out by itself, in seconds: the
    # replica (from the master's INFO, every 10 s) and the other sentinels
    # (from their hellos, every 2 s).  Told, they agree at once.
    known = [f"sentinel known-replica {name} 127.0.0.1 {p.port}" for p in procs[1:] if not p.sentinel]
    known += [
        f"sentinel known-sentinel {name} 127.0.0.1 {p.port} {sentinel_id(p)}"
        for p in procs
        if p.sentinel and p != proc
    ]
    return "\n".join(
        [
            "# Rendered by scripts/cluster/redis_topology.py; the sentinel rewrites it as it learns.",
            "bind 127.0.0.1",
            "daemonize no",
            f"dir {proc.dir}",
            'logfile ""',
            # The sentinels take the servers' password: clients, the other
            # sentinels and the servers all use that one.
            f"requirepass {password}",
            f"sentinel sentinel-pass {password}",
            f"sentinel monitor {name} 127.0.0.1 {master_port} 2",
            f"sentinel auth-pass {name} {password}",
            f"sentinel down-after-milliseconds {name} {DOWN_AFTER_MS}",
            f"sentinel failover-timeout {name} {FAILOVER_TIMEOUT_MS}",
            f"sentinel parallel-syncs {name} 1",
            f"sentinel myid {sentinel_id(proc)}",
            *known,
            "",
        ]
    )


def write_configs(topology: str, procs: list[RedisProcess], *, password: str, layout_file: Path) -> None:
    """Each process's config.  A single server's is written every time; the
    others only once, as Redis rewrites them itself: a sentinel records
    which server is master now, a demoted master its new master, a cluster
    server its peers (nodes.conf).  So a run dir keeps the Sentinel or
    Cluster layout it was first given (``layout_file``): another one needs
    a clean run dir."""
    if topology != "single":
        layout = {"topology": topology, "processes": [[p.name, p.port, p.bus_port] for p in procs]}
        if layout_file.exists() and json.loads(layout_file.read_text()) != layout:
            raise LaunchError(
                f"this run dir's Redis was laid out as {layout_file.read_text().strip()}; "
                "another REDIS_TOPOLOGY or REDIS_PORT needs `make clean` first (its data goes too)"
            )
        layout_file.write_text(json.dumps(layout) + "\n")
    master_port = procs[0].port
    for proc in procs:
        proc.dir.mkdir(parents=True, exist_ok=True)
        if topology != "single" and proc.conf.exists():
            continue
        if proc.sentinel:
            text = render_sentinel(proc, procs, password=password)
        else:
            text = render_server(topology, proc, password=password, master_port=master_port)
        proc.conf.write_text(text)
        proc.conf.chmod(0o600)  # it holds the password


def client(port: int, password: str) -> Redis:
    return Redis(
        host="127.0.0.1",
        port=port,
        password=password,
        decode_responses=True,
        socket_connect_timeout=1,
        socket_timeout=1,
        # The launcher polls: a process that does not answer is asked again
        # by the poll, not by redis-py's own retries (with pauses).  Once at
        # once on a connection error: a connection a server closed (a
        # sentinel kills a promoted replica's clients) is opened again.
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )


async def answer(redis: Redis, *command: Any) -> Any:
    """The reply, or None while the process does not answer."""
    try:
        return await redis.execute_command(*command)  # type: ignore[no-untyped-call]
    except (RedisError, OSError):
        return None


async def wait_whole(
    topology: str, procs: list[RedisProcess], *, password: str, wait: float, log_dir: Path
) -> None:
    """Return once every process answers and the layout is complete: the
    sentinels know the master, its replica and each other; the cluster's
    slots are all served and every master has its replica."""
    clients = {proc.name: client(proc.port, password) for proc in procs}
    try:

        async def answers(proc: RedisProcess) -> None:
            async def pong() -> bool:
                return await answer(clients[proc.name], "PING") is not None

            await until(
                pong,
                wait,
                lambda: f"{proc.name} did not answer (see {log_dir}/{proc.name}.log)",
                error=LaunchError,
            )

        await asyncio.gather(*(answers(proc) for proc in procs))
        servers = [clients[p.name] for p in procs if not p.sentinel]
        if topology == "sentinel":
            sentinels = [clients[p.name] for p in procs if p.sentinel]
            await until(
                lambda: _sentinels_agree(sentinels, servers),
                wait,
                lambda: (
                    f"the sentinels did not agree on a master with a replica (see {log_dir}/sentinel1.log)"
                ),
                error=LaunchError,
            )
        elif topology == "cluster":
            await _form_cluster(procs, servers, password=password)
            await until(
                lambda: _cluster_whole(servers),
                wait,
                lambda: f"the Redis Cluster did not come together (see {log_dir}/redis1.log)",
                error=LaunchError,
            )
    finally:
        for redis in clients.values():
            await redis.aclose()


async def _sentinels_agree(sentinels: list[Redis], servers: list[Redis]) -> bool:
    for sentinel in sentinels:
        # redis-py parses the reply into a dict (of strings: decode_responses).
        state = await answer(sentinel, "SENTINEL", "MASTER", SENTINEL_MASTER)
        if (
            not state
            or state["flags"] != "master"
            or int(state["num-other-sentinels"]) < len(sentinels) - 1
            or int(state["num-slaves"]) < len(servers) - 1
        ):
            return False
    # The master's own view: every replica connected and in sync.
    for server in servers:
        role = await answer(server, "ROLE")
        if role and role[0] == "master":
            return len(role[2]) == len(servers) - 1
    return False


async def _form_cluster(procs: list[RedisProcess], servers: list[Redis], *, password: str) -> None:
    """``redis-cli --cluster create`` on servers that have no slots yet;
    nothing on a cluster that has them all (a second `make up`)."""
    assigned = []
    for server in servers:
        info = await answer(server, "CLUSTER", "INFO")
        assigned.append(int(_info(info).get("cluster_slots_assigned", 0)))
    if all(n == SLOTS for n in assigned):
        return
    if any(assigned):
        raise LaunchError(
            f"a half-formed Redis Cluster (slots seen: {assigned}): `make clean`, then `make up` again"
        )
    redis_cli = shutil.which("redis-cli")
    if not redis_cli:
        raise LaunchError("redis-cli not found: run scripts/setup.sh (make setup)")
    addresses = [f"127.0.0.1:{p.port}" for p in procs if not p.sentinel]
    result = await asyncio.to_thread(
        subprocess.run,
        [redis_cli, "--cluster", "create", *addresses, "--cluster-replicas", "1", "--cluster-yes"],
        # The password in the environment, not on the command line (ps shows that).
        env={**os.environ, "REDISCLI_AUTH": password},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise LaunchError(f"redis-cli --cluster create failed:\n{result.stdout}{result.stderr}")


async def _cluster_whole(servers: list[Redis]) -> bool:
    replicas = 0
    for server in servers:
        info = _info(await answer(server, "CLUSTER", "INFO"))
        if info.get("cluster_state") != "ok" or info.get("cluster_known_nodes") != str(len(servers)):
            return False
        if is_linked_replica(await answer(server, "ROLE")):
            replicas += 1
    return replicas == len(servers) // 2


def is_linked_replica(role: list[Any] | None) -> bool:
    """A ROLE reply: a replica whose link to its master is up."""
    return bool(role and role[0] == "slave" and role[3] == "connected")


def _info(text: str | None) -> dict[str, str]:
    """CLUSTER INFO's ``key:value`` lines."""
    return dict(line.split(":", 1) for line in (text or "").split() if ":" in line)


def node_env(topology: str, procs: list[RedisProcess]) -> dict[str, str]:
    """What tells a node the layout (node/settings.py); REDIS_URL, set by
    the launcher for every layout, gives the password."""
    if topology == "sentinel":
        sentinels = ",".join(f"127.0.0.1:{p.port}" for p in procs if p.sentinel)
        return {"REDIS_SENTINELS": sentinels, "REDIS_SENTINEL_MASTER": SENTINEL_MASTER}
    if topology == "cluster":
        servers = ",".join(f"127.0.0.1:{p.port}" for p in procs if not p.sentinel)
        return {"REDIS_CLUSTER": "on", "REDIS_CLUSTER_SEEDS": servers}
    return {}
