"""How a node reaches Redis: one server, a master watched by Sentinel, or a
Redis Cluster (Settings.redis_topology).

:func:`open_redis` is the one place a node's client is built; the tests
open Redis through it too, so they reach it the way the nodes do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import parse_url
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from .settings import Settings, mask_password

# Both clients have the commands the session store uses (scripts,
# pipelines, EXISTS, DEL, PING); only their pools differ.
RedisClient = Redis | RedisCluster

# Connections a node holds to one server: a request past them waits (one
# server) or, where redis-py has no waiting pool, fails (Cluster: 8 times as
# many, for a burst on one slot such as 100 guesses at one phone's code).
POOL_SIZE = 64
CLUSTER_POOL_SIZE = 8 * POOL_SIZE


def describe(settings: Settings) -> str:
    """Where ``settings`` say Redis is, for the log (no password)."""
    if settings.redis_topology == "sentinel":
        sentinels = ",".join(f"{host}:{port}" for host, port in settings.redis_sentinels)
        return f"the master {settings.redis_sentinel_master!r} of the sentinels {sentinels}"
    if settings.redis_topology == "cluster":
        seeds = settings.redis_cluster_seeds or (("(REDIS_URL)", 0),)
        return "a Redis Cluster, seeds " + ",".join(f"{host}:{port}" for host, port in seeds)
    return mask_password(settings.redis_url)


def _options(settings: Settings, client_name: str | None) -> dict[str, Any]:
    return {
        "decode_responses": True,
        "client_name": client_name or settings.node_name,
        # A Redis that does not answer fails the request (503) within about
        # a second instead of holding it: connecting, and waiting for any reply.
        "socket_connect_timeout": 1.0,
        "socket_timeout": 1.0,
        # Retry once, at once, on a connection error only: the pooled socket
        # that died with a Redis restart or a failover; a fresh one succeeds.
        # Not a timeout: a second wait would only delay the 503.
        "retry": Retry(
            ExponentialBackoff(cap=0.1, base=0.01), retries=1, supported_errors=(RedisConnectionError,)
        ),
        # No PING before each command on an idle connection: a closed one
        # fails at once and the retry replaces it.
        "health_check_interval": 0,
    }


def _credentials(url: str) -> dict[str, Any]:
    """The password, user and TLS of REDIS_URL (and its database), which
    Sentinel and Cluster setups use too: their addresses come from other
    settings.  A Cluster has database 0 only (Settings refuses another)."""
    parts = parse_url(url)
    found: dict[str, Any] = {k: parts[k] for k in ("username", "password", "db") if parts.get(k)}
    if urlsplit(url).scheme == "rediss":
        found["ssl"] = True
    return found


@asynccontextmanager
async def open_redis(settings: Settings, *, client_name: str | None = None) -> AsyncIterator[RedisClient]:
    """A client of the Redis ``settings`` name, closed on exit.  Nothing is
    sent yet: the caller's first command (the node's PING) connects."""
    options = _options(settings, client_name)
    if settings.redis_topology == "sentinel":
        credentials = _credentials(settings.redis_url)
        # The sentinels take the servers' password.  No retry: a dead
        # sentinel is skipped for the next at once.
        sentinel = Sentinel(  # type: ignore[no-untyped-call]
            settings.redis_sentinels,
            sentinel_kwargs={
                **{k: v for k, v in credentials.items() if k in ("username", "password")},
                "socket_connect_timeout": 1.0,
                "socket_timeout": 1.0,
                "retry": Retry(NoBackoff(), retries=0),
            },
            **credentials,
            **options,
        )
        # A pooled connection to a demoted master answers READONLY, which
        # redis-py turns into a connection error: the retry finds the new one.
        client: RedisClient = sentinel.master_for(settings.redis_sentinel_master)
        try:
            yield client
        finally:
            try:
                await client.aclose()
            finally:
                await sentinel.aclose()
    elif settings.redis_topology == "cluster":
        url = parse_url(settings.redis_url)
        seeds = settings.redis_cluster_seeds or ((url.get("host", "127.0.0.1"), url.get("port", 6379)),)
        client = RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in seeds],
            max_connections=CLUSTER_POOL_SIZE,
            # A dead master fails its own slots until its replica takes over,
            # not the whole keyspace.
            require_full_coverage=False,
            **_credentials(settings.redis_url),
            **options,
        )
        try:
            yield client
        finally:
            await client.aclose()
    else:
        # Blocking: under a burst a request waits (at most a second) for a
        # connection, where redis-py's default pool would fail it (a 503).
        pool = BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=POOL_SIZE, timeout=1.0, **options
        )
        client = Redis.from_pool(pool)
        try:
            yield client
        finally:
            await client.aclose()
