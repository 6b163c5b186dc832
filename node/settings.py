"""All of a node's settings in one typed object.

Only ``node.__main__`` reads the environment; it hands ``os.environ`` to
:meth:`Settings.from_env`, so everything else (and every test) builds
settings explicitly.  The variable names are the ones the Makefile and the
launcher use; the README lists them once.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio.connection import parse_url

SessionStoreKind = Literal["redis", "memory", "replicated"]
SESSION_STORES: tuple[SessionStoreKind, ...] = ("redis", "memory", "replicated")


class SettingsError(ValueError):
    """A setting has a value the node cannot run with."""


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    node_name: str = "node1"
    host: str = "127.0.0.1"
    port: int = 8081
    session_store: SessionStoreKind = "redis"
    redis_url: str = "redis://127.0.0.1:16379/0"
    # Redis beyond one server (node/redis_client.py).  Sentinel: the
    # sentinels' addresses and the name they watch the master under; the
    # nodes ask them where the master is and follow a failover.  Cluster:
    # addresses to learn the slot map from (REDIS_URL's host if none).  In
    # both, REDIS_URL still gives the password, the user and TLS.
    redis_sentinels: tuple[tuple[str, int], ...] = ()
    redis_sentinel_master: str = "sessionlab"
    redis_cluster: bool = False
    redis_cluster_seeds: tuple[tuple[str, int], ...] = ()
    database_url: str = "postgresql://postgres@127.0.0.1:15432/sessionlab"
    # The outbox endpoint plays the user's phone; off in anything public.
    sms_outbox: bool = True
    login_code_ttl: int = 120
    login_user_ttl: int = 1800
    # Signs the codes kept in the store (only an HMAC of a code is stored).
    # Every node must have the same; the launcher makes one per run dir.
    # Empty: a random key per process, which is fine for one node only.
    secret_key: str = ""
    # The rules that make the seed's SMS login safe (SECURITY.md).
    code_max_tries: int = 5  # wrong tries per code, then it is burned
    phone_max_failures: int = 20  # wrong codes per phone (across resends) ...
    phone_lockout: int = 900  # ... then the phone is locked out this long (s)
    send_interval: int = 60  # seconds between two codes to one phone
    send_per_hour: int = 5
    send_per_day: int = 10
    session_max_age: int = 86400  # absolute lifetime; refreshes never extend it
    max_sessions_per_user: int = 0  # 0: no cap; else the oldest are dropped
    # SESSION_STORE=replicated (Tomcat's DeltaManager): the other nodes'
    # base URLs, and a lag added to every change sent, to make the window
    # in which a peer does not yet know a change long enough to see.
    replication_peers: tuple[str, ...] = ()
    replication_delay_ms: int = 0
    # Stopping: how long to wait for nginx to close its connections, then
    # for the requests still running (see node.server).
    drain_timeout: float = 5.0
    shutdown_timeout: float = 10.0
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if self.session_store not in SESSION_STORES:
            raise SettingsError(
                f"SESSION_STORE must be one of {', '.join(SESSION_STORES)}, not {self.session_store!r}"
            )
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", self.node_name):
            raise SettingsError(f"NODE_NAME must be 1-64 of [A-Za-z0-9_.-], not {self.node_name!r}")
        if not 0 < self.port < 65536:
            raise SettingsError(f"NODE_PORT must be 1-65535, not {self.port}")
        if self.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError(
                f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {self.log_level!r}"
            )
        for name in (
            "login_code_ttl",
            "login_user_ttl",
            "drain_timeout",
            "shutdown_timeout",
            "code_max_tries",
            "phone_max_failures",
            "phone_lockout",
            "send_per_hour",
            "send_per_day",
            "session_max_age",
        ):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name.upper()} must be positive")
        for name in ("send_interval", "max_sessions_per_user", "replication_delay_ms"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name.upper()} must not be negative")
        for peer in self.replication_peers:
            if urlsplit(peer).scheme not in ("http", "https") or not urlsplit(peer).hostname:
                raise SettingsError(f"REPLICATION_PEERS must be http:// URLs, not {peer!r}")
        if self.session_store == "replicated" and not self.secret_key:
            # Peers prove to each other with it that a change comes from the cluster.
            raise SettingsError("SESSION_STORE=replicated needs SECRET_KEY, the same on every node")
        if urlsplit(self.redis_url).scheme not in ("redis", "rediss", "unix"):
            raise SettingsError("REDIS_URL must be a redis://, rediss:// or unix:// URL")
        if self.redis_sentinels and self.redis_cluster:
            raise SettingsError("REDIS_SENTINELS and REDIS_CLUSTER exclude each other: pick one")
        if self.redis_cluster and not self.redis_cluster_seeds and urlsplit(self.redis_url).scheme == "unix":
            raise SettingsError("REDIS_CLUSTER needs REDIS_CLUSTER_SEEDS or a redis:// REDIS_URL")
        if self.redis_cluster and int(parse_url(self.redis_url).get("db") or 0) != 0:
            raise SettingsError(
                "REDIS_CLUSTER: a Redis Cluster has database 0 only (REDIS_URL names another)"
            )
        if not self.redis_sentinel_master:
            raise SettingsError("REDIS_SENTINEL_MASTER must not be empty")
        if urlsplit(self.database_url).scheme not in ("postgres", "postgresql"):
            raise SettingsError("DATABASE_URL must be a postgresql:// URL")

    @property
    def redis_topology(self) -> str:
        """single, sentinel or cluster: how the nodes reach Redis."""
        return "sentinel" if self.redis_sentinels else "cluster" if self.redis_cluster else "single"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Settings from environment variables; unset or empty means default."""
        values: dict[str, object] = {}
        for var, (name, parse) in ENV.items():
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            try:
                values[name] = parse(raw)
            except ValueError as exc:
                raise SettingsError(f"{var}={raw!r}: {exc}") from None
        return cls(**values)  # type: ignore[arg-type]

    def redacted(self) -> dict[str, object]:
        """The settings as they may be logged: passwords in URLs masked."""
        out = dataclasses.asdict(self)
        out["redis_url"] = mask_password(self.redis_url)
        out["database_url"] = mask_password(self.database_url)
        out["secret_key"] = "***" if self.secret_key else "(random, this process only)"
        return out


def _on_off(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "on", "true", "yes"):
        return True
    if lowered in ("0", "off", "false", "no"):
        return False
    raise ValueError("must be on or off")


def addresses(raw: str) -> tuple[tuple[str, int], ...]:
    """``host:port,host:port`` (an IPv6 host in brackets: ``[::1]:26379``)."""
    found = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:([0-9]{1,5})|([^:\[\]\s]+):([0-9]{1,5})", item)
        port = int(match.group(2) or match.group(4)) if match else 0
        if not match or not 0 < port < 65536:
            raise ValueError(f"{item!r} is not host:port (an IPv6 host in brackets)")
        found.append((match.group(1) or match.group(3), port))
    if not found:
        raise ValueError("no address given")
    return tuple(found)


# Environment variable -> (field, parser): one table, so the names the
# launcher, the Makefile and the README use cannot drift from the fields.
ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "NODE_NAME": ("node_name", str),
    "NODE_HOST": ("host", str),
    "NODE_PORT": ("port", int),
    "SESSION_STORE": ("session_store", str),
    "REDIS_URL": ("redis_url", str),
    "REDIS_SENTINELS": ("redis_sentinels", addresses),
    "REDIS_SENTINEL_MASTER": ("redis_sentinel_master", str),
    "REDIS_CLUSTER": ("redis_cluster", _on_off),
    "REDIS_CLUSTER_SEEDS": ("redis_cluster_seeds", addresses),
    "DATABASE_URL": ("database_url", str),
    "SMS_OUTBOX": ("sms_outbox", _on_off),
    "LOGIN_CODE_TTL": ("login_code_ttl", int),
    "LOGIN_USER_TTL": ("login_user_ttl", int),
    "SECRET_KEY": ("secret_key", str),
    "CODE_MAX_TRIES": ("code_max_tries", int),
    "PHONE_MAX_FAILURES": ("phone_max_failures", int),
    "PHONE_LOCKOUT": ("phone_lockout", int),
    "SEND_INTERVAL": ("send_interval", int),
    "SEND_PER_HOUR": ("send_per_hour", int),
    "SEND_PER_DAY": ("send_per_day", int),
    "SESSION_MAX_AGE": ("session_max_age", int),
    "MAX_SESSIONS_PER_USER": ("max_sessions_per_user", int),
    "DRAIN_TIMEOUT": ("drain_timeout", float),
    "SHUTDOWN_TIMEOUT": ("shutdown_timeout", float),
    "LOG_LEVEL": ("log_level", str),
    "REPLICATION_PEERS": (
        "replication_peers",
        lambda raw: tuple(p.strip() for p in raw.split(",") if p.strip()),
    ),
    "REPLICATION_DELAY_MS": ("replication_delay_ms", int),
}


def mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
