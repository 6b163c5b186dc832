"""The launcher: one machine, no Docker, the whole cluster under supervisord.

    python -m scripts.cluster up [options]     start (or reconcile) and wait until ready
    python -m scripts.cluster down             stop everything it started
    python -m scripts.cluster status           what runs, and whether each node is ready
    python -m scripts.cluster logs [--node N] [--follow]
    python -m scripts.cluster stop-node N | start-node N

``make up`` and the test fixtures both call :func:`up` with a
:class:`ClusterConfig`, so the tests run exactly what a user runs.  Every
file lives in the run dir (``.run/`` for ``make up``, a temporary dir for a
test): configs, data, logs, sockets.  supervisord owns the processes, so
``down`` is one ``shutdown`` and leaves nothing behind.

Why supervisord: it is a pip package (no system service manager needed, works
in a container and as a normal user), it restarts a node that dies, and
``supervisorctl`` gives status and per-process start/stop for free.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from node.settings import SESSION_STORES, Settings
from scripts import redis_topology
from scripts.launching import LaunchError, until
from scripts.redis_topology import TOPOLOGIES, RedisProcess

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
DB_NAME = "sessionlab"
# Unix socket paths are limited to ~107 bytes; supervisorctl talks to
# supervisord over one in the run dir.
_MAX_SOCKET_PATH = 100


BALANCES = ("round_robin", "sticky")
STRATEGIES = {
    ("memory", "round_robin"): "in-process sessions, round robin (the bug)",
    ("memory", "sticky"): "sticky sessions (in-process, pinned by cookie)",
    ("replicated", "round_robin"): "session replication (every node holds every session)",
    ("redis", "round_robin"): "shared session store (Redis)",
}


@dataclasses.dataclass
class ClusterConfig:
    run_dir: Path
    nodes: int = 3
    port: int = 8080
    node_ports: list[int] = dataclasses.field(default_factory=list)
    redis_port: int = 16379
    pg_port: int = 15432
    session_store: str = "redis"
    # How nginx spreads requests: round_robin, or sticky (a cookie pins each
    # client to one node; see nginx/nginx.conf.template).
    balance: str = "round_robin"
    # SESSION_STORE=replicated: lag added to every change a node sends.
    replication_delay_ms: int = 0
    # Given: the nodes use that server and the launcher starts none.
    redis_url: str | None = None
    # The launcher's own Redis: single, sentinel or cluster
    # (scripts/redis_topology.py).  The servers' ports (the first is
    # redis_port), the sentinels' and the cluster bus's follow redis_port
    # unless given.
    redis_topology: str = "single"
    redis_ports: list[int] = dataclasses.field(default_factory=list)
    sentinel_ports: list[int] = dataclasses.field(default_factory=list)
    bus_ports: list[int] = dataclasses.field(default_factory=list)
    database_url: str | None = None
    sms_outbox: bool = True
    # nginx's limit per client address on /api/user/code and /api/user/login
    # (every local client is 127.0.0.1: load tests raise it).
    login_rate: str = "20r/s"
    login_burst: int = 40
    # Extra environment for every node (e.g. LOGIN_USER_TTL in a test).
    node_env: dict[str, str] = dataclasses.field(default_factory=dict)
    # Tests trade crash safety for speed: no fsync in the throwaway Postgres.
    pg_durable: bool = True

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir).resolve()
        if self.nodes < 1:
            raise LaunchError(f"NODES must be at least 1, not {self.nodes}")
        if not self.node_ports:
            self.node_ports = [8081 + i for i in range(self.nodes)]
        if len(self.node_ports) != self.nodes:
            raise LaunchError(f"{self.nodes} nodes but {len(self.node_ports)} node ports")
        if not re.fullmatch(r"[1-9][0-9]*r/[sm]", self.login_rate):
            raise LaunchError(f"LOGIN_RATE must look like 20r/s or 600r/m, not {self.login_rate!r}")
        if self.session_store not in SESSION_STORES:
            raise LaunchError(
                f"SESSION_STORE must be one of {', '.join(SESSION_STORES)}, not {self.session_store!r}"
            )
        if self.balance not in BALANCES:
            raise LaunchError(f"BALANCE must be one of {', '.join(BALANCES)}, not {self.balance!r}")
        if self.replication_delay_ms < 0:
            raise LaunchError("REPLICATION_DELAY_MS must not be negative")
        topology = self.redis_topology
        if topology not in TOPOLOGIES:
            raise LaunchError(f"REDIS_TOPOLOGY must be one of {', '.join(TOPOLOGIES)}, not {topology!r}")
        if topology != "single" and self.redis_url:
            raise LaunchError(
                "REDIS_TOPOLOGY lays out the launcher's own Redis: it does not go with REDIS_URL"
            )
        layout = redis_topology.LAYOUTS[topology]
        servers, sentinels = layout.servers, layout.sentinels
        if not self.redis_ports:
            self.redis_ports = [self.redis_port + i for i in range(servers)]
        if not self.sentinel_ports:
            self.sentinel_ports = [self.redis_port + servers + i for i in range(sentinels)]
        if layout.buses and not self.bus_ports:
            self.bus_ports = [port + 10000 for port in self.redis_ports]
        ports = list(_ports(self).values())
        if len(set(ports)) < len(ports) or not all(0 < port < 65536 for port in ports):
            raise LaunchError(f"these ports overlap or are out of range: {_ports(self)}; pick others")
        shape = (len(self.redis_ports), len(self.sentinel_ports), len(self.bus_ports), self.redis_ports[0])
        if shape != (servers, sentinels, layout.buses, self.redis_port):
            raise LaunchError(
                f"REDIS_TOPOLOGY={topology} takes {servers} server and {sentinels} sentinel ports"
            )

    @property
    def strategy(self) -> str:
        """The answer to the session problem this cluster runs, in words."""
        strategy = STRATEGIES.get((self.session_store, self.balance), f"{self.session_store}, {self.balance}")
        if self.session_store == "redis" and self.redis_topology != "single":
            strategy += f" on {redis_topology.LAYOUTS[self.redis_topology].description}"
        return strategy

    @classmethod
    def on_free_ports(cls, run_dir: Path, *, nodes: int = 3, **kwargs: Any) -> ClusterConfig:
        """A throwaway cluster's config: every port a free one."""
        layout = redis_topology.LAYOUTS[kwargs.get("redis_topology", "single")]
        servers, sentinels = layout.servers, layout.sentinels
        ports = free_ports(nodes + 2 + servers + sentinels + layout.buses)
        port, pg_port, *ports = ports
        node_ports, ports = ports[:nodes], ports[nodes:]
        redis_ports, ports = ports[:servers], ports[servers:]
        sentinel_ports, bus_ports = ports[:sentinels], ports[sentinels:]
        return cls(
            run_dir=run_dir,
            nodes=nodes,
            port=port,
            redis_port=redis_ports[0],
            pg_port=pg_port,
            node_ports=node_ports,
            redis_ports=redis_ports,
            sentinel_ports=sentinel_ports,
            bus_ports=bus_ports,
            **kwargs,
        )

    # --- where things are -------------------------------------------------
    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def supervisor_conf(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "supervisor.sock"

    @property
    def pgdata(self) -> Path:
        return self.run_dir / "pgdata"

    @property
    def own_redis(self) -> bool:
        return self.redis_url is None

    @property
    def redis_processes(self) -> list[RedisProcess]:
        """The launcher's own Redis servers and sentinels (none if REDIS_URL is given)."""
        if not self.own_redis:
            return []
        return redis_topology.processes(
            self.redis_topology, self.run_dir, self.redis_ports, self.sentinel_ports, self.bus_ports
        )

    @property
    def own_postgres(self) -> bool:
        return self.database_url is None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def node_names(self) -> list[str]:
        return [f"node{i}" for i in range(1, self.nodes + 1)]

    def node_url(self, index: int) -> str:
        """Base URL of node ``index`` (1-based), bypassing nginx."""
        return f"http://127.0.0.1:{self.node_ports[index - 1]}"

    def effective_redis_url(self) -> str:
        """The nodes' REDIS_URL.  With Sentinel or Cluster, only its password
        counts: redis_env says where the sentinels or the seeds are."""
        if self.redis_url:
            return self.redis_url
        return f"redis://:{self.redis_password()}@127.0.0.1:{self.redis_port}/0"

    def redis_password(self) -> str:
        return (self.run_dir / "redis-password").read_text().strip()

    def redis_env(self) -> dict[str, str]:
        """How a node reaches this cluster's Redis: its environment's REDIS_* part."""
        return {
            "REDIS_URL": self.effective_redis_url(),
            **redis_topology.node_env(self.redis_topology, self.redis_processes),
        }

    def node_settings(self, index: int = 1) -> Settings:
        """Node ``index``'s settings, as its process reads them: what the
        scripts and tests give node.redis_client.open_redis to reach Redis
        the way the nodes do."""
        return Settings.from_env(_node_env(self, index))

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        password = (self.run_dir / "pg-password").read_text().strip()
        return f"postgresql://postgres:{password}@127.0.0.1:{self.pg_port}/{DB_NAME}"

    # --- persisted between commands --------------------------------------
    def save(self) -> None:
        state = dataclasses.asdict(self)
        state["run_dir"] = str(self.run_dir)
        path = self.run_dir / "cluster.json"
        path.write_text(json.dumps(state, indent=2) + "\n")
        path.chmod(0o600)

    @classmethod
    def load(cls, run_dir: Path) -> ClusterConfig:
        path = Path(run_dir) / "cluster.json"
        if not path.exists():
            raise LaunchError(f"no cluster was started in {run_dir} (no {path.name})")
        return cls(**json.loads(path.read_text()))


# --- small helpers ----------------------------------------------------------


def colour(code: str, text: str) -> str:
    return f"\033[{code}m{text}\033[0m" if sys.stdout.isatty() and "NO_COLOR" not in os.environ else text


def say(message: str) -> None:
    print(f"{colour('1', '==>')} {message}", flush=True)


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports, each held open until all are
    chosen, and taken below the kernel's ephemeral range: a port from that
    range, once released, may go to an outgoing connection before the
    service that was meant to listen on it starts."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError):
        low = 32768
    socks: list[socket.socket] = []
    try:
        while len(socks) < count:
            sock = socket.socket()
            try:
                sock.bind(("127.0.0.1", random.randint(20000, low - 1)))
            except OSError:
                sock.close()
                continue
            socks.append(sock)
        return [int(sock.getsockname()[1]) for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def new_run_dir(name: str) -> Path:
    """A fresh temporary run dir for a throwaway cluster.

    0755, not mkdtemp's 0700: as root, Postgres runs as the postgres user,
    which must be able to enter it (else the data goes outside, see
    _init_postgres).
    """
    path = Path(tempfile.mkdtemp(prefix=f"sessionlab-{name}-"))
    path.chmod(0o755)
    return path


def _port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _is_root() -> bool:
    return os.geteuid() == 0


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; as root they run as the
    # postgres user that Debian's package creates.
    return ["runuser", "-u", "postgres", "--", *cmd] if _is_root() else cmd


def _pg_bin() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("postgres")
    if found:
        return Path(found).parent
    raise LaunchError("PostgreSQL server binaries not found: run scripts/setup.sh (make setup)")


def _nginx_bin() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise LaunchError("nginx not found: run scripts/setup.sh (make setup)")
    return found


def _redis_bin() -> str:
    found = shutil.which("redis-server")
    if not found:
        raise LaunchError("redis-server not found: run scripts/setup.sh (make setup)")
    return found


def supervisorctl(cfg: ClusterConfig, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(VENV_BIN / "supervisorctl"), "-c", str(cfg.supervisor_conf), *args],
        capture_output=True,
        text=True,
    )
    if check and result.returncode not in (0, 3):  # 3: some process not running
        raise LaunchError(f"supervisorctl {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result


def kill_process(cfg: ClusterConfig, name: str) -> int:
    """SIGKILL one of supervisord's programs (supervisord starts it again); its pid."""
    pid = process_pid(cfg, name)
    if pid <= 0:  # kill(0) would hit our own process group
        raise LaunchError(f"{name} is not running: cannot kill it")
    os.kill(pid, signal.SIGKILL)
    return pid


def process_pid(cfg: ClusterConfig, name: str) -> int:
    """The pid supervisord reports for ``name`` (e.g. "nodes:node2", "redis"); 0 if not running."""
    out = supervisorctl(cfg, "pid", name, check=False).stdout.strip()
    return int(out) if out.isdigit() else 0


def pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs.  A zombie does not: a daemon that exited stays
    one until init reaps it, and kill(pid, 0) still succeeds on it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _supervisord_pid(cfg: ClusterConfig) -> int | None:
    """The pid of this run dir's supervisord if it runs, else None.

    The pid file alone is not proof: after a crash or a reboot it can name
    a pid that now belongs to another process, which `down` must not kill.
    """
    try:
        pid = int((cfg.run_dir / "supervisord.pid").read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    ours = any(b"supervisord" in arg for arg in cmdline) and str(cfg.supervisor_conf).encode() in cmdline
    return pid if ours and pid_alive(pid) else None


def is_running(cfg: ClusterConfig) -> bool:
    return _supervisord_pid(cfg) is not None


def _deadline_loop(timeout: float, what: str, interval: float = 0.1) -> Iterator[None]:
    deadline = time.monotonic() + timeout
    while True:
        yield
        if time.monotonic() > deadline:
            raise LaunchError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- Postgres data dir --------------------------------------------------------


def _postgres_can_reach(path: Path) -> bool:
    if not _is_root():
        return True
    return subprocess.run(_as_postgres(["test", "-x", str(path)]), capture_output=True).returncode == 0


def _secret_file(path: Path) -> str:
    """A random password kept in ``path`` (made once, readable by us only)."""
    if not path.exists():
        path.write_text(secrets.token_hex(16) + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def _init_postgres(cfg: ClusterConfig, *, quiet: bool = False) -> None:
    """initdb once per run dir, with a random superuser password."""
    password_file = cfg.run_dir / "pg-password"
    if (cfg.pgdata / "PG_VERSION").exists() and password_file.exists():
        return
    if not cfg.pgdata.exists() and not cfg.pgdata.is_symlink():
        if _postgres_can_reach(cfg.run_dir):
            cfg.pgdata.mkdir(mode=0o700)
        else:
            # The postgres user cannot enter the run dir (say, a checkout
            # under root's private home): keep the data where it can, and
            # link it from the run dir so `make clean` finds it.
            # mkdtemp: a fresh dir of ours, never one someone planted.
            outside = Path(tempfile.mkdtemp(prefix="sessionlab-pg-", dir="/var/tmp"))
            cfg.pgdata.symlink_to(outside)
    if _is_root():
        shutil.chown(cfg.pgdata.resolve(), "postgres", "postgres")
    password = secrets.token_hex(16)
    with tempfile.NamedTemporaryFile("w", delete=False, prefix="pgpw-") as handle:
        handle.write(password + "\n")
    try:
        if _is_root():
            shutil.chown(handle.name, "postgres", "postgres")
        if not quiet:
            say("initialising Postgres data dir")
        result = subprocess.run(
            _as_postgres(
                [
                    str(_pg_bin() / "initdb"),
                    "-D",
                    str(cfg.pgdata.resolve()),
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-locale",
                    "--auth-local=peer",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={handle.name}",
                ]
            ),
            capture_output=True,
            text=True,
        )
    finally:
        os.unlink(handle.name)
    if result.returncode != 0:
        raise LaunchError(f"initdb failed:\n{result.stdout}{result.stderr}")
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)


async def _ensure_database(cfg: ClusterConfig, wait: float) -> None:
    """Wait for Postgres, then create the project database if it is missing."""
    if not cfg.own_postgres:
        return
    admin_url = cfg.effective_database_url().rsplit("/", 1)[0] + "/postgres"
    conns: list[asyncpg.Connection] = []
    last_error = ["no answer"]

    async def connected() -> bool:
        try:
            conns.append(await asyncpg.connect(admin_url, timeout=2))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            last_error[0] = repr(exc)
            return False
        return True

    await until(
        connected, wait, lambda: f"Postgres did not start: {last_error[0]} (see {cfg.log_dir}/postgres.log)"
    )
    conn = conns[0]
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DB_NAME):
            await conn.execute(f"CREATE DATABASE {DB_NAME}")
    finally:
        await conn.close()


# --- rendering -----------------------------------------------------------------


def _render(template: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        template = template.replace("{{ " + key + " }}", value)
    if "{{ " in template:
        raise LaunchError("template has a placeholder the launcher does not fill")
    return template


def render_nginx(cfg: ClusterConfig) -> str:
    """nginx.conf for `make up`: every path in the run dir, nodes on 127.0.0.1."""
    # Workers read the page from the checkout and write temp files in the
    # run dir, both the launching user's; as root that user is root.
    user = "user root;" if _is_root() else "# no user directive: nginx runs as whoever starts it"
    return _render_nginx(
        cfg,
        servers=[f"127.0.0.1:{port}" for port in cfg.node_ports],
        user=user,
        listen=f"127.0.0.1:{cfg.port}",
        pid_file=f"{cfg.run_dir}/nginx/nginx.pid",
        error_log=f"{cfg.log_dir}/nginx-error.log",
        access_log=f"{cfg.log_dir}/nginx-access.log",
        temp_dir=f"{cfg.run_dir}/nginx/tmp",
        static_dir=str(ROOT / "nginx" / "static"),
    )


COMPOSE_NGINX = ROOT / "nginx" / "compose.conf"
COMPOSE_NODE_PORT = 8081


def render_compose_nginx() -> str:
    """nginx.conf for compose.yaml (the official nginx image), from the same
    template and the same defaults as `make up`: nodes by service name,
    logs to the container's output, listening on every interface of the
    container (compose publishes the port on 127.0.0.1 only)."""
    cfg = ClusterConfig(run_dir=Path("/tmp"))
    header = (
        "# Rendered from nginx/nginx.conf.template by `python -m scripts.cluster compose-nginx`\n"
        "# for compose.yaml; tests/unit/test_compose.py checks it is up to date.\n"
    )
    return header + _render_nginx(
        cfg,
        servers=[f"{name}:{COMPOSE_NODE_PORT}" for name in cfg.node_names()],
        user="user nginx;",
        listen=f"{cfg.port}",
        pid_file="/tmp/nginx.pid",
        error_log="/dev/stderr",
        access_log="/dev/stdout",
        temp_dir="/var/cache/nginx",
        static_dir="/usr/share/nginx/html",
    )


def _render_nginx(cfg: ClusterConfig, *, servers: list[str], **paths: str) -> str:
    upstream = "\n".join(f"        server {addr} max_fails=1 fail_timeout=3s;" for addr in servers)
    return _render(
        (ROOT / "nginx" / "nginx.conf.template").read_text(),
        {
            **paths,
            "servers": upstream,
            # consistent: a node that leaves moves only its own clients.
            "balance": "hash $sticky_route consistent;" if cfg.balance == "sticky" else "# round robin",
            "sticky_cookie": (
                "add_header Set-Cookie $sticky_cookie always;" if cfg.balance == "sticky" else ""
            ),
            "strategy": cfg.strategy,
            "login_rate": cfg.login_rate,
            "login_burst": str(cfg.login_burst),
        },
    )


def _node_env(cfg: ClusterConfig, index: int) -> dict[str, str]:
    return {
        "NODE_NAME": f"node{index}",
        "NODE_HOST": "127.0.0.1",
        "NODE_PORT": str(cfg.node_ports[index - 1]),
        "SESSION_STORE": cfg.session_store,
        **cfg.redis_env(),
        "DATABASE_URL": cfg.effective_database_url(),
        "SMS_OUTBOX": "on" if cfg.sms_outbox else "off",
        # One key for all nodes: a code signed by one is checked by another.
        "SECRET_KEY": _secret_file(cfg.run_dir / "secret-key"),
        "PYTHONUNBUFFERED": "1",
        **(
            {
                "REPLICATION_PEERS": ",".join(cfg.node_url(i) for i in range(1, cfg.nodes + 1) if i != index),
                "REPLICATION_DELAY_MS": str(cfg.replication_delay_ms),
            }
            if cfg.session_store == "replicated"
            else {}
        ),
        **cfg.node_env,
    }


def _env_line(env: dict[str, str]) -> str:
    # supervisord expands %(...)s in values: escape % itself.
    return ",".join(f'{k}="{v.replace("%", "%%")}"' for k, v in env.items())


def render_supervisor(cfg: ClusterConfig) -> str:
    logs = cfg.log_dir
    common = [
        "redirect_stderr=true",
        "stdout_logfile_maxbytes=20MB",
        "stdout_logfile_backups=2",
    ]
    sections = [
        "; Rendered by scripts/cluster.py; edit the launcher, not this file.",
        "[supervisord]",
        f"logfile={logs / 'supervisord.log'}",
        f"pidfile={cfg.run_dir / 'supervisord.pid'}",
        f"childlogdir={logs}",
        f"identifier=sessionlab:{cfg.run_dir}",
        *([f"user={getpass.getuser()}"] if _is_root() else []),
        "",
        "[unix_http_server]",
        f"file={cfg.socket_path}",
        "chmod=0700",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{cfg.socket_path}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
    ]
    for proc in cfg.redis_processes:
        sections += [
            f"[program:{proc.name}]",
            f"command={proc.command(_redis_bin())}",
            "priority=10",
            "autorestart=true",
            f"stdout_logfile={logs / (proc.name + '.log')}",
            *common,
            "",
        ]
    if cfg.own_postgres:
        durability = [] if cfg.pg_durable else ["-c fsync=off", "-c synchronous_commit=off"]
        postgres = " ".join(
            [
                str(_pg_bin() / "postgres"),
                f"-D {cfg.pgdata.resolve()}",
                f"-p {cfg.pg_port}",
                "-c listen_addresses=127.0.0.1",
                # TCP only: no socket file to place where both users can write.
                "-c unix_socket_directories=''",
                *durability,
            ]
        )
        sections += [
            "[program:postgres]",
            f"command={postgres}",
            *(["user=postgres"] if _is_root() else []),
            "priority=10",
            "autorestart=true",
            # SIGINT is Postgres's fast shutdown: roll back, then exit cleanly.
            "stopsignal=INT",
            "stopwaitsecs=30",
            f"stdout_logfile={logs / 'postgres.log'}",
            *common,
            "",
        ]
    for index, name in enumerate(cfg.node_names(), start=1):
        sections += [
            f"[program:{name}]",
            f"command={VENV_BIN / 'python'} -m node",
            f"directory={ROOT}",
            f"environment={_env_line(_node_env(cfg, index))}",
            # Started by the launcher once the stores answer, not before.
            "autostart=false",
            "autorestart=true",
            "startsecs=1",
            "stopsignal=TERM",
            "stopwaitsecs=20",
            "stopasgroup=true",
            "killasgroup=true",
            f"stdout_logfile={logs / (name + '.log')}",
            *common,
            "",
        ]
    sections += [
        f"[group:nodes]\nprograms={','.join(cfg.node_names())}",
        "",
        "[program:nginx]",
        f"command={_nginx_bin()} -e {logs / 'nginx-error.log'} "
        f"-p {cfg.run_dir / 'nginx'} -c {cfg.run_dir / 'nginx' / 'nginx.conf'}",
        "autostart=false",
        "autorestart=true",
        # SIGQUIT: finish the requests in flight, then stop.
        "stopsignal=QUIT",
        "stopasgroup=true",
        "killasgroup=true",
        f"stdout_logfile={logs / 'nginx.log'}",
        *common,
        "",
    ]
    return "\n".join(sections)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text)
    path.chmod(mode)


# --- readiness ------------------------------------------------------------------


async def _wait_nodes_ready(cfg: ClusterConfig, names: list[str], wait: float) -> None:
    """Each named node answers /readyz 200 on its own port."""
    pending = set(names)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:

        async def all_ready() -> bool:
            for name in sorted(pending):
                try:
                    async with http.get(cfg.node_url(int(name.removeprefix("node"))) + "/readyz") as resp:
                        if resp.status == 200:
                            pending.discard(name)
                except (aiohttp.ClientError, TimeoutError):
                    pass
            return not pending

        await until(
            all_ready,
            wait,
            lambda: (
                f"not ready after {wait:.0f} s: {', '.join(sorted(pending))} (see {cfg.log_dir}/<node>.log)"
            ),
        )


async def _wait_back(cfg: ClusterConfig, names: list[str], wait: float) -> None:
    """Each named node is ready, and then answering through nginx (which
    tries a node it marked failed again only after fail_timeout)."""
    await _wait_nodes_ready(cfg, names, wait)
    await _wait_behind_nginx(cfg, names, wait)


async def _wait_behind_nginx(cfg: ClusterConfig, names: list[str], wait: float) -> None:
    """Each named node has answered at least once through nginx."""
    want = set(names)
    seen: set[str] = set()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:

        async def all_seen() -> bool:
            try:
                async with http.get(cfg.url + "/api/readyz") as resp:
                    if resp.status == 200:
                        seen.add(resp.headers.get("X-Node", ""))
            except (aiohttp.ClientError, TimeoutError):
                pass
            return want <= seen

        await until(
            all_seen,
            wait,
            lambda: (
                f"through nginx after {wait:.0f} s only {sorted(seen & want)} answered "
                f"(see {cfg.log_dir}/nginx-error.log)"
            ),
        )


# --- commands ---------------------------------------------------------------------


def _ports(cfg: ClusterConfig) -> dict[str, int]:
    ports = {"nginx (PORT)": cfg.port}
    ports.update({f"node{i}": p for i, p in enumerate(cfg.node_ports, start=1)})
    for proc in cfg.redis_processes:
        ports[proc.name] = proc.port
        if proc.bus_port:
            ports[f"{proc.name}'s cluster bus"] = proc.bus_port
    if cfg.own_postgres:
        ports["postgres (PG_PORT)"] = cfg.pg_port
    return ports


def up(cfg: ClusterConfig, *, timeout: float = 90.0, quiet: bool = False) -> None:
    """Start the cluster in ``cfg.run_dir``, or bring a running one in line
    with ``cfg``, and return once every node is ready behind nginx."""
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    if _is_root():
        # Postgres runs as its own user and must be able to enter the dir.
        cfg.run_dir.chmod(0o755)
    if len(str(cfg.socket_path)) > _MAX_SOCKET_PATH:
        raise LaunchError(f"run dir path too long for a unix socket: {cfg.run_dir}")
    for sub in ("logs", "nginx/tmp"):
        (cfg.run_dir / sub).mkdir(parents=True, exist_ok=True)

    running = is_running(cfg)
    # Every port this configuration binds must be free, but for the ones a
    # running cluster in this run dir already holds.
    held = _ports(ClusterConfig.load(cfg.run_dir)) if running else {}
    taken = [
        f"{what} {port}"
        for what, port in _ports(cfg).items()
        if port not in held.values() and _port_in_use(port)
    ]
    if taken:
        raise LaunchError(f"port already in use on 127.0.0.1: {', '.join(taken)}; pick others")

    if cfg.own_postgres:
        _init_postgres(cfg, quiet=quiet)
    if cfg.own_redis:
        redis_topology.write_configs(
            cfg.redis_topology,
            cfg.redis_processes,
            password=_secret_file(cfg.run_dir / "redis-password"),
            layout_file=cfg.run_dir / "redis-layout.json",
        )
    _write(cfg.run_dir / "nginx" / "nginx.conf", render_nginx(cfg))
    # It holds the database password in the nodes' environment.
    _write(cfg.supervisor_conf, render_supervisor(cfg), 0o600)
    cfg.save()

    if running:
        if not quiet:
            say("cluster already running: applying the configuration")
        supervisorctl(cfg, "reread")
        supervisorctl(cfg, "update")
    else:
        if not quiet:
            say(f"starting supervisord in {cfg.run_dir}")
        result = subprocess.run(
            [str(VENV_BIN / "supervisord"), "-c", str(cfg.supervisor_conf)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise LaunchError(f"supervisord failed to start: {result.stdout}{result.stderr}")

    async def wait_stores() -> None:
        await asyncio.gather(
            redis_topology.wait_whole(
                cfg.redis_topology,
                cfg.redis_processes,
                password=cfg.redis_password(),
                wait=timeout,
                log_dir=cfg.log_dir,
            )
            if cfg.own_redis
            else asyncio.sleep(0),
            _ensure_database(cfg, timeout),
        )

    asyncio.run(wait_stores())
    supervisorctl(cfg, "start", "nodes:*")
    asyncio.run(_wait_nodes_ready(cfg, cfg.node_names(), timeout))
    if "RUNNING" in supervisorctl(cfg, "status", "nginx", check=False).stdout:
        supervisorctl(cfg, "signal", "HUP", "nginx")  # reload the rendered config
    else:
        supervisorctl(cfg, "start", "nginx")
    asyncio.run(_wait_behind_nginx(cfg, cfg.node_names(), timeout))
    if not quiet:
        _print_welcome(cfg)


def _print_welcome(cfg: ClusterConfig) -> None:
    api = cfg.url + "/api"
    phone = "13800000001"
    code = """python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["code"])'"""
    # Shows the login's answer (on stderr) and keeps its token; a failed
    # login (memory mode: "wrong code") leaves TOKEN empty.
    token = (
        "python3 -c 'import json,sys; d=json.load(sys.stdin); "
        """print(json.dumps(d), file=sys.stderr); print(d.get("data", ""))'"""
    )
    body = """'{"phone":"PHONE","code":"'$CODE'"}'""".replace("PHONE", phone)
    lines = [
        f"  curl -s -X POST '{api}/user/code?phone={phone}'; echo; "
        f"CODE=$(curl -s '{api}/dev/sms/latest?phone={phone}' | {code})",
        f"  TOKEN=$(curl -s {api}/user/login -H 'content-type: application/json' -d {body} | {token})",
        f'  for i in 1 2 3; do curl -s {api}/user/me -H "authorization: $TOKEN" -D - '
        "| grep -iE '^(HTTP|x-node)|success'; done",
    ]
    print(
        f"\n{colour('1;32', 'Cluster ready:')} {cfg.url}  "
        f"({cfg.nodes} nodes; {cfg.strategy})\n"
        "Try it (send a code, log in with it, then ask three nodes who you are):\n" + "\n".join(lines) + "\n"
    )


def down(cfg: ClusterConfig, *, timeout: float = 60.0, quiet: bool = False) -> None:
    pid = _supervisord_pid(cfg)
    if pid is None:
        if not quiet:
            say(f"nothing running in {cfg.run_dir}")
        return
    if not quiet:
        say("stopping the cluster")
    if supervisorctl(cfg, "shutdown", check=False).returncode != 0:
        os.kill(pid, signal.SIGTERM)
    for _ in _deadline_loop(timeout, "supervisord to exit"):
        if _supervisord_pid(cfg) is None:
            break
    if not quiet:
        say("stopped")


def status(cfg: ClusterConfig) -> int:
    if not is_running(cfg):
        print(f"cluster is not running (run dir {cfg.run_dir})")
        return 1
    print(supervisorctl(cfg, "status", check=False).stdout.rstrip())

    async def probe() -> list[str]:
        lines = [f"{'node':<8} {'address':<24} {'state':<10} {'requests':>9} {'store errors':>13}"]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            for index, name in enumerate(cfg.node_names(), start=1):
                counts = ("-", "-")
                try:
                    async with http.get(cfg.node_url(index) + "/readyz") as resp:
                        body = await resp.json()
                        state = "ready" if resp.status == 200 else f"not ready {body.get('data')}"
                    async with http.get(cfg.node_url(index) + "/metrics") as resp:
                        counts = _served_and_errors(await resp.text())
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    state = f"down ({type(exc).__name__})"
                lines.append(
                    f"{name:<8} {cfg.node_url(index):<24} {state:<10} {counts[0]:>9} {counts[1]:>13}"
                )
            try:
                async with http.get(cfg.url + "/nginx_status") as resp:
                    text = " ".join((await resp.text()).split())
                    lines.append(
                        f"nginx    {text}" if resp.status == 200 else f"nginx    status {resp.status}"
                    )
            except (aiohttp.ClientError, TimeoutError) as exc:
                lines.append(f"nginx    down ({type(exc).__name__})")
        return lines

    print(f"\n{cfg.strategy}    nginx: {cfg.url}")
    print("\n".join(asyncio.run(probe())))
    return 0


def _served_and_errors(exposition: str) -> tuple[str, str]:
    """Requests answered and session-store errors, from a node's /metrics."""
    totals = {"sessionlab_http_requests": 0.0, "sessionlab_session_store_errors": 0.0}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name.removesuffix("_total") in totals and sample.name.endswith("_total"):
                totals[sample.name.removesuffix("_total")] += sample.value
    return f"{totals['sessionlab_http_requests']:,.0f}", f"{totals['sessionlab_session_store_errors']:,.0f}"


def logs(cfg: ClusterConfig, *, node: int | None, follow: bool, lines: int) -> int:
    wanted = [cfg.log_dir / f"node{node}.log"] if node is not None else sorted(cfg.log_dir.glob("*.log"))
    files = [f for f in wanted if f.exists()]
    if not files:
        print(f"no logs in {cfg.log_dir}")
        return 1
    args = ["tail", "-n", str(lines), *(["-F"] if follow else []), *map(str, files)]
    return subprocess.call(args)


def stop_node(cfg: ClusterConfig, index: int) -> None:
    _check_node(cfg, index)
    supervisorctl(cfg, "stop", f"nodes:node{index}")


def start_node(cfg: ClusterConfig, index: int, *, timeout: float = 60.0) -> None:
    _check_node(cfg, index)
    supervisorctl(cfg, "start", f"nodes:node{index}")
    asyncio.run(_wait_back(cfg, [f"node{index}"], timeout))


def _check_node(cfg: ClusterConfig, index: int) -> None:
    if not is_running(cfg):
        raise LaunchError(f"cluster is not running (run dir {cfg.run_dir})")
    if not 1 <= index <= cfg.nodes:
        raise LaunchError(f"NODE must be 1..{cfg.nodes}, not {index}")


def clean(cfg_dir: Path) -> None:
    """Delete the run dir, data included; the cluster must be down."""
    run_dir = Path(cfg_dir).resolve()
    probe = ClusterConfig(run_dir=run_dir)
    if is_running(probe):
        raise LaunchError("the cluster is running: `make down` first")
    pgdata = run_dir / "pgdata"
    if pgdata.is_symlink():
        # Only the fallback dir `up` made itself (see _init_postgres).
        target = Path(os.readlink(pgdata))
        if (
            target.parent == Path("/var/tmp")
            and target.name.startswith("sessionlab-pg-")
            and not target.is_symlink()
        ):
            shutil.rmtree(target, ignore_errors=True)
    shutil.rmtree(run_dir, ignore_errors=True)


# --- command line ------------------------------------------------------------------


def rolling_restart(cfg: ClusterConfig, *, timeout: float = 60.0, quiet: bool = False) -> None:
    """Restart the nodes one at a time so that no request is lost.

    Stopping a node (SIGTERM) drains it: nginx is refused new connections
    and sends those requests elsewhere, the open ones are served and closed
    (node/server.py).  Once a node is back and answering through nginx, the
    next one goes.  nginx itself is not reloaded: a reload closes clients'
    idle connections, and a client may be sending a POST into one.
    """
    if not is_running(cfg):
        raise LaunchError(f"cluster is not running (run dir {cfg.run_dir})")
    for name in cfg.node_names():
        if not quiet:
            say(f"restarting {name}")
        supervisorctl(cfg, "stop", f"nodes:{name}")
        supervisorctl(cfg, "start", f"nodes:{name}")
        asyncio.run(_wait_back(cfg, [name], timeout))


def restart(cfg: ClusterConfig, *, timeout: float = 60.0) -> None:
    """Restart every node (to load edited code) and wait until ready."""
    if not is_running(cfg):
        raise LaunchError(f"cluster is not running (run dir {cfg.run_dir})")
    supervisorctl(cfg, "restart", "nodes:*")
    asyncio.run(_wait_nodes_ready(cfg, cfg.node_names(), timeout))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, default=ROOT / ".run")
    sub = parser.add_subparsers(dest="command", required=True)
    p_up = sub.add_parser("up", help="start, or apply a changed configuration")
    p_up.add_argument("--nodes", type=int, default=3)
    p_up.add_argument("--port", type=int, default=8080, help="nginx port")
    p_up.add_argument("--node-base-port", type=int, default=8081, help="first node's port")
    p_up.add_argument("--redis-port", type=int, default=16379)
    p_up.add_argument("--pg-port", type=int, default=15432)
    p_up.add_argument("--session-store", choices=SESSION_STORES, default="redis")
    p_up.add_argument("--balance", choices=BALANCES, default="round_robin")
    p_up.add_argument("--replication-delay-ms", type=int, default=0)
    p_up.add_argument("--redis-url", default="", help="use this Redis instead of starting one")
    p_up.add_argument("--redis-topology", choices=TOPOLOGIES, default="single")
    p_up.add_argument("--database-url", default="", help="use this Postgres instead of starting one")
    p_up.add_argument("--sms-outbox", choices=["on", "off"], default="on")
    p_up.add_argument("--login-rate", default="20r/s", help="nginx limit per address on code and login")
    sub.add_parser("down", help="stop everything this run dir started")
    sub.add_parser("status", help="processes, and whether each node is ready")
    p_logs = sub.add_parser("logs", help="the last lines of the logs")
    p_logs.add_argument("--node", type=int)
    p_logs.add_argument("--follow", action="store_true")
    p_logs.add_argument("--lines", type=int, default=30)
    for name in ("stop-node", "start-node"):
        sub.add_parser(name).add_argument("index", type=int, metavar="N")
    sub.add_parser("restart", help="restart every node at once")
    sub.add_parser("rolling-restart", help="restart the nodes one by one, each drained first")
    sub.add_parser("clean", help="delete the run dir, data included")
    sub.add_parser("compose-nginx", help=f"render {COMPOSE_NGINX.relative_to(ROOT)} for compose.yaml")
    args = parser.parse_args(argv)

    try:
        if args.command == "up":
            up(
                ClusterConfig(
                    run_dir=args.run_dir,
                    nodes=args.nodes,
                    port=args.port,
                    node_ports=[args.node_base_port + i for i in range(args.nodes)],
                    redis_port=args.redis_port,
                    pg_port=args.pg_port,
                    session_store=args.session_store,
                    balance=args.balance,
                    replication_delay_ms=args.replication_delay_ms,
                    redis_url=args.redis_url or None,
                    redis_topology=args.redis_topology,
                    database_url=args.database_url or None,
                    sms_outbox=args.sms_outbox == "on",
                    login_rate=args.login_rate,
                )
            )
        elif args.command == "clean":
            clean(args.run_dir)
        elif args.command == "compose-nginx":
            COMPOSE_NGINX.write_text(render_compose_nginx())
            print(f"wrote {COMPOSE_NGINX.relative_to(ROOT)}")
        elif args.command == "down":
            if (args.run_dir / "cluster.json").exists():
                down(ClusterConfig.load(args.run_dir))
        else:
            # The other commands act on what the last `up` in this run dir started.
            cfg = ClusterConfig.load(args.run_dir)
            if args.command == "status":
                return status(cfg)
            if args.command == "logs":
                return logs(cfg, node=args.node, follow=args.follow, lines=args.lines)
            if args.command == "stop-node":
                stop_node(cfg, args.index)
            elif args.command == "start-node":
                start_node(cfg, args.index)
            elif args.command == "restart":
                restart(cfg)
            elif args.command == "rolling-restart":
                rolling_restart(cfg)
    except LaunchError as exc:
        print(f"{colour('1;31', 'error:')} {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
