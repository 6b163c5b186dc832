"""The node's resources, each opened and closed in its own cleanup_ctx.

aiohttp runs a context's cleanup if and only if its start-up finished, in
reverse order, so a pool is never closed before what uses it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from . import db
from .redis_client import describe, open_redis
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
    log.info("connecting to redis: %s", describe(settings))
    async with open_redis(settings) as client:
        await client.ping()
        app[REDIS] = client
        yield
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
    else:
        store = MemorySessionStore(limits)
    await store.start()  # caught up (replicated) before this node serves anyone
    store.metrics = app[METRICS]
    app[STORE] = store
    log.info("session store: %s", store.kind)
    try:
        yield
    finally:
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
