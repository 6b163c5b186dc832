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
        # Retry once, at once, on a *connection* error only: that is the
        # pooled socket that died with a Redis restart (or a master that
        # Sentinel has replaced), and a fresh one succeeds, so users do not
        # see the restart.  A timeout is not retried: Redis is slow or hung,
        # and a second wait would double the time before the 503.  redis-py's
        # cluster client takes only the count from this, and retries after
        # reading the slot map again (without that retry it never learns of
        # the promoted replica).  A pipeline that met a dead server, or any
        # command that met an unserved slot, first closes every connection
        # the client has, those other requests are using included (see
        # sessions/redis_store.py: _round_trip); a single command's connection
        # error drops only that server's idle connections.
        "retry": Retry(
            ExponentialBackoff(cap=0.1, base=0.01), retries=1, supported_errors=(RedisConnectionError,)
        ),
        # No PING before a command on a connection that was idle: it would run
        # inside the user's request anyway.  A connection Redis closed fails
        # at once and is replaced by the retry above; a half-open one (peer
        # gone without a reset: rare, and not on loopback) costs that request
        # the 1 s timeout, as the PING would.  TCP keepalive (redis-py's
        # default) closes those eventually.
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
        # The sentinels take the same password as the servers they watch.
        # No retry: a dead sentinel is skipped for the next one at once
        # (redis-py's default would try it again and again, with pauses).
        # redis-py leaves Sentinel's constructor untyped.
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
        # Every new connection asks a sentinel where the master is; a pooled
        # one to a master that was demoted answers READONLY, which redis-py
        # turns into a connection error, so the retry reconnects to the new
        # master.  Not the blocking pool: redis-py's Sentinel pool is the
        # plain one, which opens a connection whenever none is free.
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
            # A master that is down makes its own slots fail until its
            # replica takes over, not the whole keyspace (the servers are
            # set up the same way: cluster-require-full-coverage no).
            require_full_coverage=False,
            **_credentials(settings.redis_url),
            **options,
        )
        try:
            yield client
        finally:
            await client.aclose()
    else:
        # Blocking: under a burst, a request waits (at most a second) for one
        # of the connections instead of failing as redis-py's default pool
        # does once its connections are all in use, which would turn load
        # into 503s.
        pool = BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=POOL_SIZE, timeout=1.0, **options
        )
        client = Redis.from_pool(pool)
        try:
            yield client
        finally:
            await client.aclose()
