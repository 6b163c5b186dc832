"""The node's resources, each opened and closed in its own cleanup_ctx.

aiohttp runs a context's cleanup if and only if its start-up finished, in
reverse order, so a pool is never closed before what uses it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from . import db
from .sessions import Limits, MemorySessionStore, RedisSessionStore, ReplicatedSessionStore, SessionStore
from .settings import Settings, mask_password
from .typedefs import METRICS, PG, REDIS, SETTINGS, STORE

log = logging.getLogger(__name__)


async def pg_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    log.info("connecting to postgres at %s", mask_password(settings.database_url))
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=1,
        max_size=10,
        # A Postgres that does not answer fails the request (503) in seconds,
        # well before nginx's 10 s read timeout, which would count against
        # the node (max_fails) though the node itself is fine: connecting
        # gives up after 2 s, a query after 5 s.
        timeout=2.0,
        command_timeout=5.0,
        # So that pg_stat_activity (and the fault tests) tell the nodes apart.
        server_settings={"application_name": settings.node_name},
    )
    try:
        await db.apply_schema(pool)
        app[PG] = pool
        yield
    finally:
        await pool.close()
        log.info("postgres pool closed")


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    log.info("connecting to redis at %s", mask_password(settings.redis_url))
    # Blocking: under a burst, a request waits (at most a second) for one of
    # 64 connections instead of failing as redis-py's default pool does once
    # its connections are all in use, which would turn load into 503s.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=64,
        timeout=1.0,
        decode_responses=True,
        client_name=settings.node_name,
        # A Redis that does not answer fails the request (503) within about
        # a second instead of holding it: connecting, and waiting for any reply.
        socket_connect_timeout=1.0,
        socket_timeout=1.0,
        # Retry once, at once, on a *connection* error only: that is the
        # pooled socket that died with a Redis restart, and a fresh one
        # succeeds, so users do not see the restart.  A timeout is not
        # retried: Redis is slow or hung, and a second wait would double
        # the time before the 503.
        retry=Retry(
            ExponentialBackoff(cap=0.1, base=0.01), retries=1, supported_errors=(RedisConnectionError,)
        ),
        # No PING before a command on a connection that was idle: it would run
        # inside the user's request anyway.  A connection Redis closed fails
        # at once and is replaced by the retry above; a half-open one (peer
        # gone without a reset: rare, and not on loopback) costs that request
        # the 1 s timeout, as the PING would.  TCP keepalive (redis-py's
        # default) closes those eventually.
        health_check_interval=0,
    )
    client = Redis.from_pool(pool)
    try:
        await client.ping()
        app[REDIS] = client
        yield
    finally:
        await client.aclose()
        log.info("redis client closed")


async def session_store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    limits = limits_from(settings)
    store: SessionStore
    if settings.session_store == "redis":
        store = RedisSessionStore(app[REDIS], limits)
    elif settings.session_store == "replicated":
        store = ReplicatedSessionStore(
            limits,
            node_name=settings.node_name,
            peers=settings.replication_peers,
            secret_key=settings.secret_key,
            delay_ms=settings.replication_delay_ms,
        )
        await store.start()  # caught up before this node serves anyone
    else:
        store = MemorySessionStore(limits)
    store.metrics = app[METRICS]
    app[STORE] = store
    log.info("session store: %s", store.kind)
    try:
        yield
    finally:
        if isinstance(store, ReplicatedSessionStore):
            await store.close()


def limits_from(settings: Settings) -> Limits:
    return Limits(
        code_ttl=settings.login_code_ttl,
        user_ttl=settings.login_user_ttl,
        session_max_age=settings.session_max_age,
        max_sessions_per_user=settings.max_sessions_per_user,
        code_max_tries=settings.code_max_tries,
        phone_max_failures=settings.phone_max_failures,
        phone_lockout=settings.phone_lockout,
        send_interval=settings.send_interval,
        send_per_hour=settings.send_per_hour,
        send_per_day=settings.send_per_day,
    )
