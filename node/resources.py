"""The node's resources, each opened and closed in its own cleanup_ctx.

aiohttp runs a context's cleanup if and only if its start-up finished, in
reverse order, so a pool is never closed before what uses it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from . import db
from .sessions import MemorySessionStore, RedisSessionStore, SessionStore
from .settings import mask_password
from .typedefs import PG, REDIS, SETTINGS, STORE

log = logging.getLogger(__name__)


async def pg_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    log.info("connecting to postgres at %s", mask_password(settings.database_url))
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=10, command_timeout=5.0)
    try:
        await db.apply_schema(pool)
        app[PG] = pool
        yield
    finally:
        await pool.close()


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    log.info("connecting to redis at %s", mask_password(settings.redis_url))
    # Bounded timeouts: a store that does not answer must fail a request
    # quickly rather than hold it.
    client = Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=1.0,
        socket_connect_timeout=1.0,
    )
    try:
        await client.ping()
        app[REDIS] = client
        yield
    finally:
        await client.aclose()


async def session_store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    code_ttl, user_ttl = settings.login_code_ttl, settings.login_user_ttl
    store: SessionStore
    if settings.session_store == "redis":
        store = RedisSessionStore(app[REDIS], code_ttl=code_ttl, user_ttl=user_ttl)
    else:
        store = MemorySessionStore(code_ttl=code_ttl, user_ttl=user_ttl)
    app[STORE] = store
    log.info("session store: %s", store.kind)
    yield
