"""The node's resources, each opened and closed in its own cleanup_ctx.

aiohttp runs a context's cleanup if and only if its start-up finished, in
reverse order, so a pool is never closed before what uses it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from . import db, pg
from .redis_client import describe, open_redis
from .sessions import (
    LoginGuard,
    MemoryLoginGuard,
    MemorySessionStore,
    RedisLoginGuard,
    RedisSessionStore,
    ReplicatedDict,
    RoundTrips,
    SessionStore,
    TickBatch,
    TTLDict,
)
from .settings import mask_password
from .typedefs import GUARD, MEMORY, METRICS, PG, PIPELINE, POLICY, REDIS, REPLICA, SETTINGS, STORE

log = logging.getLogger(__name__)


async def pg_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    log.info("connecting to postgres at %s", mask_password(settings.database_url))
    pool = pg.Pool(
        settings.database_url,
        size=10,
        # The handlers' queries are bounded by node.pg (2 s each step), not
        # by this: a query that reaches command_timeout on a hung server
        # takes as long again in asyncpg's cancel (10 s, nginx's read
        # timeout).  It bounds the schema step at start-up.
        command_timeout=5.0,
        # So that pg_stat_activity (and the fault tests) tell the nodes apart.
        server_settings={"application_name": settings.node_name},
    )
    try:
        await pool.open()
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


async def login_state_ctx(app: web.Application) -> AsyncIterator[None]:
    """The login guard and the session store SESSION_STORE picks, on one policy."""
    settings = app[SETTINGS]
    policy = app[POLICY]
    guard: LoginGuard
    store: SessionStore
    data: TTLDict | None = None
    if settings.session_store == "redis":
        # One batch, and its count of round trips, for both: a login's
        # scripts go with the session reads around them.
        batch = TickBatch(app[REDIS], RoundTrips())
        guard = RedisLoginGuard(app[REDIS], policy, batch=batch)
        store = RedisSessionStore(app[REDIS], policy, batch=batch)
    else:
        if settings.session_store == "replicated":
            data = app[REPLICA] = ReplicatedDict(
                node_name=settings.node_name,
                peers=settings.replication_peers,
                secret_key=settings.secret_key,
                delay_ms=settings.replication_delay_ms,
            )
        else:
            data = TTLDict()
        guard, store = MemoryLoginGuard(policy, data), MemorySessionStore(policy, data)
        app[MEMORY] = data
    guard.metrics = store.metrics = app[METRICS]
    app[GUARD], app[STORE] = guard, store
    app[PIPELINE].attach(store)
    log.info("session store: %s", store.kind)
    try:
        if data is not None:
            await data.start()  # caught up (replicated) before this node serves anyone
        yield
    finally:
        app[PIPELINE].attach(None)
        if data is not None:
            await data.close()
