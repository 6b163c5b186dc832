"""All of a node's settings in one typed object, each declared once.

A declaration (:func:`setting`) holds a setting's default, its environment
variable and one line of meaning; the parsing, the launcher's defaults, the
docs/running.md's table and compose.yaml's variables all come from it (tests check
the last two).  Only ``node.__main__`` reads the environment; everything
else, every test included, builds settings explicitly.

Plain dataclasses rather than pydantic-settings: our values are parsed
from shapes of our own (``host:port,...`` lists, ``on``/``off``) that its
JSON parsing of lists would not read, and the node then starts without
pydantic's import cost.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, get_args
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio.connection import parse_url

from .mistakes import Mistake, mistake_names

SessionStoreKind = Literal["redis", "memory", "replicated"]
SESSION_STORES: tuple[SessionStoreKind, ...] = get_args(SessionStoreKind)
DAY = 86400  # seconds; two rules default to a day
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class SettingsError(ValueError):
    """A setting has a value the node cannot run with."""


@dataclasses.dataclass(frozen=True, slots=True)
class Declared:
    """What a settings object says of one of its fields."""

    name: str  # the field
    env: str  # the environment variable
    default: Any
    doc: str
    parse: Callable[[str], Any]
    sign: Sign


# What a number may be: the check is declared with the setting.
Sign = Literal["positive", "zero or more", ""]


def setting(
    default: Any, env: str, doc: str, parse: Callable[[str], Any] | None = None, *, sign: Sign = ""
) -> Any:
    """A dataclass field declared with its environment variable and meaning.
    ``parse`` turns the variable's text into the value (by default the
    type of ``default``); ``sign`` is checked by :func:`check_signs`."""
    reader = parse or (on_off if isinstance(default, bool) else type(default))
    return dataclasses.field(
        default=default, metadata={"env": env, "doc": doc, "parse": reader, "sign": sign}
    )


def declarations(cls: type) -> Iterator[Declared]:
    """The declared fields of a settings dataclass, in order."""
    for f in dataclasses.fields(cls):
        if "env" in f.metadata:
            m = f.metadata
            yield Declared(f.name, m["env"], f.default, m["doc"], m["parse"], m.get("sign", ""))


def check_signs(settings: object) -> None:
    """Each declared number is of the sign its declaration says."""
    for d in declarations(type(settings)):
        value = getattr(settings, d.name)
        if (d.sign == "positive" and value <= 0) or (d.sign == "zero or more" and value < 0):
            raise SettingsError(f"{d.env} must be {d.sign}")


def default_of(cls: type, name: str) -> Any:
    """The declared default of field ``name``: for a setting that follows another's."""
    return next(d.default for d in declarations(cls) if d.name == name)


def values_from_env(cls: type, env: Mapping[str, str]) -> dict[str, Any]:
    """The fields of ``cls`` that ``env`` sets (unset or empty: the default)."""
    values: dict[str, Any] = {}
    for d in declarations(cls):
        raw = env.get(d.env)
        if raw is None or raw == "":
            continue
        try:
            values[d.name] = d.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{d.env}={raw!r}: {exc}") from None
    return values


def on_off(raw: str) -> bool:
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


def words(raw: str) -> tuple[str, ...]:
    """A comma-separated list; empty items dropped."""
    return tuple(p.strip() for p in raw.split(",") if p.strip())


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    node_name: str = setting("node1", "NODE_NAME", "this node's name, in `X-Node` and its log lines")
    host: str = setting("127.0.0.1", "NODE_HOST", "the address the node listens on")
    port: int = setting(8081, "NODE_PORT", "the port the node listens on")
    session_store: SessionStoreKind = setting(
        "redis",
        "SESSION_STORE",
        "`redis` (shared: the fix), `memory` (per node: the bug) or `replicated` (a copy on every node)",
    )
    redis_url: str = setting(
        "redis://127.0.0.1:6379/0", "REDIS_URL", "the Redis server; with Sentinel or Cluster its password"
    )
    redis_sentinels: tuple[tuple[str, int], ...] = setting(
        (), "REDIS_SENTINELS", "`host:port,...` of the sentinels: Redis is the master they watch", addresses
    )
    redis_sentinel_master: str = setting(
        "sessionlab", "REDIS_SENTINEL_MASTER", "the name the sentinels know the master by"
    )
    redis_cluster: bool = setting(False, "REDIS_CLUSTER", "`on`: Redis is a Redis Cluster")
    redis_cluster_seeds: tuple[tuple[str, int], ...] = setting(
        (), "REDIS_CLUSTER_SEEDS", "`host:port,...` to learn the slots from (else REDIS_URL's)", addresses
    )
    database_url: str = setting(
        "postgresql://postgres@127.0.0.1:5432/sessionlab", "DATABASE_URL", "the Postgres database"
    )
    sms_outbox: bool = setting(
        True, "SMS_OUTBOX", "`off` removes `/dev/`: the outbox that plays the phone, and the X-ray"
    )
    login_code_ttl: int = setting(
        120, "LOGIN_CODE_TTL", "seconds a code lives (the seed's 2 minutes)", sign="positive"
    )
    login_user_ttl: int = setting(
        1800,
        "LOGIN_USER_TTL",
        "seconds a session lives after its last request (the seed's 30 minutes)",
        sign="positive",
    )
    secret_key: str = setting(
        "", "SECRET_KEY", "the key of the codes' HMAC, the same on every node (empty: random, one node only)"
    )
    code_max_tries: int = setting(
        5, "CODE_MAX_TRIES", "wrong tries per code, then it is burned", sign="positive"
    )
    phone_max_failures: int = setting(
        20,
        "PHONE_MAX_FAILURES",
        "wrong codes per phone from one address (across resends), then it is locked",
        sign="positive",
    )
    phone_lockout: int = setting(
        900, "PHONE_LOCKOUT", "seconds a phone stays locked for that address", sign="positive"
    )
    failure_window: int = setting(
        DAY, "FAILURE_WINDOW", "seconds a wrong code counts after the last one", sign="positive"
    )
    send_interval: int = setting(
        60, "SEND_INTERVAL", "seconds between two codes to one phone (0: none)", sign="zero or more"
    )
    send_per_hour: int = setting(
        5, "SEND_PER_HOUR", "codes per phone per hour, asked from one address", sign="positive"
    )
    send_per_day: int = setting(
        10, "SEND_PER_DAY", "codes per phone per day, asked from one address", sign="positive"
    )
    phone_sends_per_day: int = setting(
        30, "PHONE_SENDS_PER_DAY", "codes per phone per day, all addresses", sign="positive"
    )
    sms_per_minute: int = setting(
        1200, "SMS_PER_MINUTE", "codes the whole cluster sends a minute, all phones", sign="positive"
    )
    session_max_age: int = setting(
        DAY,
        "SESSION_MAX_AGE",
        "seconds a session may live at most; requests never extend it",
        sign="positive",
    )
    max_sessions_per_user: int = setting(
        0,
        "MAX_SESSIONS_PER_USER",
        "sessions a user may hold (0: no cap); past it the oldest end",
        sign="zero or more",
    )
    replication_peers: tuple[str, ...] = setting(
        (), "REPLICATION_PEERS", "`replicated`: the other nodes' URLs, comma-separated", words
    )
    replication_delay_ms: int = setting(
        0,
        "REPLICATION_DELAY_MS",
        "`replicated`: lag added to every change sent, to see the window",
        sign="zero or more",
    )
    drain_timeout: float = setting(
        5.0,
        "DRAIN_TIMEOUT",
        "seconds a stopping node waits for nginx to close its connections",
        sign="positive",
    )
    shutdown_timeout: float = setting(
        10.0, "SHUTDOWN_TIMEOUT", "then seconds it waits for the requests still running", sign="positive"
    )
    log_level: str = setting("INFO", "LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR")
    mistakes: tuple[Mistake, ...] = setting(
        (),
        "MISTAKE",
        "the seed's wrong turns to make, comma-separated (docs/lesson.md): `fixed-code-key`, "
        "`phone-token`, `no-refresh`, `one-interceptor`, `json-string`",
        mistake_names,
    )

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
        check_signs(self)
        for peer in self.replication_peers:
            if urlsplit(peer).scheme not in ("http", "https") or not urlsplit(peer).hostname:
                raise SettingsError(f"REPLICATION_PEERS must be http:// URLs, not {peer!r}")
        if self.session_store == "replicated" and not self.secret_key:
            # Peers prove to each other with it that a change comes from the cluster.
            raise SettingsError("SESSION_STORE=replicated needs SECRET_KEY, the same on every node")
        self._check_redis()
        self._check_mistakes()
        if urlsplit(self.database_url).scheme not in ("postgres", "postgresql"):
            raise SettingsError("DATABASE_URL must be a postgresql:// URL")

    def _check_redis(self) -> None:
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

    def _check_mistakes(self) -> None:
        if self.mistakes and self.session_store != "redis":
            raise SettingsError(
                "MISTAKE: the seed makes these mistakes on Redis: they need SESSION_STORE=redis"
            )
        if "phone-token" in self.mistakes and self.host not in LOOPBACK:
            # A cluster whose users are whoever knows their phone number
            # must not be reachable from another machine.
            raise SettingsError(
                f"MISTAKE=phone-token is refused unless the node listens on loopback only, not {self.host!r}"
            )
        if "fixed-code-key" in self.mistakes and self.redis_cluster:
            raise SettingsError(
                "MISTAKE=fixed-code-key: one key for every phone cannot share a Redis Cluster slot with "
                "the phone's other keys; use a single Redis or Sentinel"
            )

    @property
    def redis_topology(self) -> str:
        """single, sentinel or cluster: how the nodes reach Redis."""
        return "sentinel" if self.redis_sentinels else "cluster" if self.redis_cluster else "single"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Settings from environment variables; unset or empty means default."""
        return cls(**values_from_env(cls, env))

    def redacted(self) -> dict[str, object]:
        """The settings as they may be logged: passwords in URLs masked."""
        out = dataclasses.asdict(self)
        out["redis_url"] = mask_password(self.redis_url)
        out["database_url"] = mask_password(self.database_url)
        out["secret_key"] = "***" if self.secret_key else "(random, this process only)"
        return out


# Environment variable -> declaration, for those who look a variable up.
ENV: dict[str, Declared] = {d.env: d for d in declarations(Settings)}


def mask_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
