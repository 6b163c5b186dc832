"""What a cluster is: the launcher's settings, each declared once, and what follows from them."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from node.mistakes import Mistake, mistake_names
from node.settings import Settings, SettingsError, declarations, default_of, setting, values_from_env
from scripts.cluster import redis_topology
from scripts.cluster.common import LaunchError, secret_file
from scripts.cluster.ports import free_ports
from scripts.cluster.redis_topology import TOPOLOGIES, RedisProcess

DB_NAME = "sessionlab"
BALANCES = ("round_robin", "sticky")
STRATEGIES = {
    ("memory", "round_robin"): "in-process sessions, round robin (the bug)",
    ("memory", "sticky"): "sticky sessions (in-process, pinned by cookie)",
    ("replicated", "round_robin"): "session replication (every node holds every session)",
    ("redis", "round_robin"): "shared session store (Redis)",
}

# Where the course project keeps its front end (FRONTEND), and what nginx.conf
# cannot hold in a quoted path: its end, an escape, a variable.
COURSE_PAGES = "src/main/resources/nginx-1.18.0/html/hmdp"
_NGINX_UNSAFE = frozenset('"\\$')

# Node settings the launcher gives each node itself: never taken from its environment.
SET_BY_LAUNCHER = (
    "NODE_NAME",
    "NODE_HOST",
    "NODE_PORT",
    "REDIS_URL",
    "REDIS_SENTINELS",
    "REDIS_SENTINEL_MASTER",
    "REDIS_CLUSTER",
    "REDIS_CLUSTER_SEEDS",
    "DATABASE_URL",
    "SECRET_KEY",
    "REPLICATION_PEERS",
)
# Node settings the launcher reads (they shape the cluster) and then passes on.
READ_BY_LAUNCHER = {
    "session_store": "SESSION_STORE",
    "sms_outbox": "SMS_OUTBOX",
    "replication_delay_ms": "REPLICATION_DELAY_MS",
    "redis_url": "REDIS_URL",
    "database_url": "DATABASE_URL",
}


def _node_default(name: str) -> Any:
    return dataclasses.field(default=default_of(Settings, name))


@dataclasses.dataclass
class ClusterConfig:
    nodes: int = setting(3, "NODES", "how many nodes")
    port: int = setting(8080, "PORT", "nginx, on 127.0.0.1")
    node_base_port: int = setting(
        default_of(Settings, "port"), "NODE_BASE_PORT", "node *i* listens on `NODE_BASE_PORT + i - 1`"
    )
    redis_port: int = setting(
        16379, "REDIS_PORT", "the Redis `make up` starts (its first server: see docs/scaling-out.md)"
    )
    pg_port: int = setting(15432, "PG_PORT", "the Postgres `make up` starts")
    balance: str = setting(
        "round_robin", "BALANCE", "`sticky`: nginx pins each client to one node by a `route` cookie it sets"
    )
    redis_topology: str = setting(
        "single",
        "REDIS_TOPOLOGY",
        "the Redis `make up` starts: `single` (one server), `sentinel` (a master, a replica, three "
        "sentinels) or `cluster` (three masters with a replica each)",
    )
    login_rate: str = setting(
        "20r/s",
        "LOGIN_RATE",
        "nginx's limit per client address on `/api/user/code` and `/api/user/login`; every local "
        "client is 127.0.0.1, so raise it for load tests against `make up`",
    )
    run_dir: Path = setting(Path(".run"), "RUN_DIR", "where configs, data, logs and sockets live", Path)
    frontend: str = setting(
        "",
        "FRONTEND",
        f"a folder nginx serves at `/`: the course's front end, `{COURSE_PAGES}` in the course project "
        "(docs/frontend.md); the lab's own page is then at `/lab/`",
    )
    # The node settings the launcher reads: their defaults are the node's.
    session_store: str = _node_default("session_store")
    sms_outbox: bool = _node_default("sms_outbox")
    replication_delay_ms: int = _node_default("replication_delay_ms")
    # Given: the nodes use that server and the launcher starts none.
    redis_url: str | None = None
    database_url: str | None = None
    # Empty: node_base_port and on; the Redis ones follow redis_port.
    node_ports: list[int] = dataclasses.field(default_factory=list)
    redis_ports: list[int] = dataclasses.field(default_factory=list)
    sentinel_ports: list[int] = dataclasses.field(default_factory=list)
    bus_ports: list[int] = dataclasses.field(default_factory=list)
    login_burst: int = 40
    # Every node's other settings (e.g. LOGIN_USER_TTL), as environment variables.
    node_env: dict[str, str] = dataclasses.field(default_factory=dict)
    # Tests trade crash safety for speed: no fsync in the throwaway Postgres.
    pg_durable: bool = True

    def __post_init__(self) -> None:
        self.run_dir = Path(self.run_dir).resolve()
        self._check_frontend_path()
        if self.nodes < 1:
            raise LaunchError(f"NODES must be at least 1, not {self.nodes}")
        if not self.node_ports:
            self.node_ports = [self.node_base_port + i for i in range(self.nodes)]
        if len(self.node_ports) != self.nodes:
            raise LaunchError(f"{self.nodes} nodes but {len(self.node_ports)} node ports")
        if not re.fullmatch(r"[1-9][0-9]*r/[sm]", self.login_rate):
            raise LaunchError(
                f"LOGIN_RATE must be requests a second or a minute (e.g. 600r/m), not {self.login_rate!r}"
            )
        if self.balance not in BALANCES:
            raise LaunchError(f"BALANCE must be one of {', '.join(BALANCES)}, not {self.balance!r}")
        self._check_node_settings()
        self._lay_out_redis()
        ports = list(self.ports().values())
        if len(set(ports)) < len(ports) or not all(0 < port < 65536 for port in ports):
            raise LaunchError(f"these ports overlap or are out of range: {self.ports()}; pick others")

    def _check_frontend_path(self) -> None:
        """FRONTEND as nginx.conf will name it: absolute, and nothing nginx
        would read as a variable or the string's end."""
        if not self.frontend:
            return
        self.frontend = str(Path(self.frontend).expanduser().resolve())
        unsafe = sorted({c for c in self.frontend if c in _NGINX_UNSAFE or not c.isprintable()})
        if unsafe:
            raise LaunchError(
                f"FRONTEND={self.frontend!r}: nginx cannot serve a path with {' '.join(map(repr, unsafe))} "
                "in it; copy the folder to one without"
            )

    def check_frontend(self) -> None:
        """FRONTEND, if set, is a folder with an index.html (checked when the
        cluster starts, not when a running one is looked up: a folder moved
        since must not keep `make down` from working)."""
        if not self.frontend:
            return
        folder = Path(self.frontend)
        if not folder.is_dir():
            raise LaunchError(
                f"FRONTEND={self.frontend}: no such folder (the course keeps its pages in "
                f"{COURSE_PAGES} of its project)"
            )
        if not (folder / "index.html").is_file():
            raise LaunchError(
                f"FRONTEND={self.frontend}: no index.html in it; name the folder that holds the course's "
                f"index.html, login.html and js/common.js ({COURSE_PAGES} in the course project)"
            )

    def _check_node_settings(self) -> None:
        """What the nodes will be given, checked by the node's own rules."""
        probe = {
            "SESSION_STORE": self.session_store,
            "SMS_OUTBOX": "on" if self.sms_outbox else "off",
            "REPLICATION_DELAY_MS": str(self.replication_delay_ms),
            "REDIS_URL": self.redis_url or "",
            "DATABASE_URL": self.database_url or "",
            "SECRET_KEY": "made-by-the-launcher",
            **self.node_env,
        }
        try:
            Settings.from_env(probe)
        except SettingsError as exc:
            raise LaunchError(str(exc)) from None

    def _lay_out_redis(self) -> None:
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
        shape = (len(self.redis_ports), len(self.sentinel_ports), len(self.bus_ports), self.redis_ports[0])
        if shape != (servers, sentinels, layout.buses, self.redis_port):
            raise LaunchError(
                f"REDIS_TOPOLOGY={topology} takes {servers} server and {sentinels} sentinel ports"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ClusterConfig:
        """The cluster ``env`` asks for: the launcher's settings, the node
        settings it reads, and every other node setting set there, for the nodes."""
        try:
            own = values_from_env(cls, env)
            node = values_from_env(Settings, env)
        except SettingsError as exc:
            raise LaunchError(str(exc)) from None
        passed = {
            d.env: env[d.env]
            for d in declarations(Settings)
            if env.get(d.env) and d.env not in SET_BY_LAUNCHER and d.name not in READ_BY_LAUNCHER
        }
        read = {name: node[name] for name in READ_BY_LAUNCHER if name in node}
        return cls(**own, **read, node_env=passed)

    @classmethod
    def on_free_ports(cls, run_dir: Path, *, nodes: int = 3, **kwargs: Any) -> ClusterConfig:
        """A throwaway cluster's config: every port a free one."""
        layout = redis_topology.LAYOUTS[kwargs.get("redis_topology", "single")]
        servers, sentinels = layout.servers, layout.sentinels
        port, pg_port, *ports = free_ports(nodes + 2 + servers + sentinels + layout.buses)
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

    @property
    def strategy(self) -> str:
        """The answer to the session problem this cluster runs, in words."""
        strategy = STRATEGIES.get((self.session_store, self.balance), f"{self.session_store}, {self.balance}")
        if self.session_store == "redis" and self.redis_topology != "single":
            strategy += f" on {redis_topology.LAYOUTS[self.redis_topology].description}"
        if self.mistakes:
            strategy += f", MISTAKE={','.join(self.mistakes)}"
        return strategy

    @property
    def mistakes(self) -> tuple[Mistake, ...]:
        """The seed's wrong turns the nodes make on purpose (node/mistakes.py)."""
        return mistake_names(self.node_env.get("MISTAKE", ""))

    def ports(self) -> dict[str, int]:
        """Every port this cluster binds, by what binds it."""
        ports = {"nginx (PORT)": self.port}
        ports.update({f"node{i}": p for i, p in enumerate(self.node_ports, start=1)})
        for proc in self.redis_processes:
            ports[proc.name] = proc.port
            if proc.bus_port:
                ports[f"{proc.name}'s cluster bus"] = proc.bus_port
        if self.own_postgres:
            ports["postgres (PG_PORT)"] = self.pg_port
        return ports

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
    def own_postgres(self) -> bool:
        return self.database_url is None

    @property
    def redis_processes(self) -> list[RedisProcess]:
        """The launcher's own Redis servers and sentinels (none if REDIS_URL is given)."""
        if not self.own_redis:
            return []
        return redis_topology.processes(
            self.redis_topology, self.run_dir, self.redis_ports, self.sentinel_ports, self.bus_ports
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def node_names(self) -> list[str]:
        return [f"node{i}" for i in range(1, self.nodes + 1)]

    def node_url(self, index: int) -> str:
        """Base URL of node ``index`` (1-based), bypassing nginx."""
        return f"http://127.0.0.1:{self.node_ports[index - 1]}"

    # --- what the nodes are told -----------------------------------------
    def redis_password(self) -> str:
        return (self.run_dir / "redis-password").read_text().strip()

    def effective_redis_url(self) -> str:
        """The nodes' REDIS_URL.  With Sentinel or Cluster, only its password
        counts: redis_env says where the sentinels or the seeds are."""
        if self.redis_url:
            return self.redis_url
        return f"redis://:{self.redis_password()}@127.0.0.1:{self.redis_port}/0"

    def redis_env(self) -> dict[str, str]:
        """How a node reaches this cluster's Redis: its environment's REDIS_* part."""
        return {
            "REDIS_URL": self.effective_redis_url(),
            **redis_topology.node_env(self.redis_topology, self.redis_processes),
        }

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        password = (self.run_dir / "pg-password").read_text().strip()
        return f"postgresql://postgres:{password}@127.0.0.1:{self.pg_port}/{DB_NAME}"

    def node_environment(self, index: int) -> dict[str, str]:
        """Node ``index``'s environment variables, as supervisord gives them."""
        peers = ",".join(self.node_url(i) for i in range(1, self.nodes + 1) if i != index)
        return {
            "NODE_NAME": f"node{index}",
            "NODE_HOST": "127.0.0.1",
            "NODE_PORT": str(self.node_ports[index - 1]),
            "SESSION_STORE": self.session_store,
            **self.redis_env(),
            "DATABASE_URL": self.effective_database_url(),
            "SMS_OUTBOX": "on" if self.sms_outbox else "off",
            # One key for all nodes: a code signed by one is checked by another.
            "SECRET_KEY": secret_file(self.run_dir / "secret-key"),
            "PYTHONUNBUFFERED": "1",
            **(
                {"REPLICATION_PEERS": peers, "REPLICATION_DELAY_MS": str(self.replication_delay_ms)}
                if self.session_store == "replicated"
                else {}
            ),
            **self.node_env,
        }

    def node_settings(self, index: int = 1) -> Settings:
        """Node ``index``'s settings, as its process reads them (for scripts
        and tests that reach Redis the way the nodes do)."""
        return Settings.from_env(self.node_environment(index))

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


def launcher_setting(name: str, env: Mapping[str, str]) -> Any:
    """A launcher setting as ``env`` sets it, else its default: for the
    commands whose own arguments follow it (e.g. --nodes)."""
    try:
        return values_from_env(ClusterConfig, env).get(name, default_of(ClusterConfig, name))
    except SettingsError as exc:
        raise SystemExit(f"error: {exc}") from None
