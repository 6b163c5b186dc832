"""Typed keys for what the app and each request hold."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from redis.asyncio import Redis

from .models import UserDTO
from .sessions import SessionStore
from .settings import Settings


class Lifecycle:
    """Where the node is in its life: set by node.server, read per response."""

    draining: bool = False


SETTINGS = web.AppKey("settings", Settings)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
PG = web.AppKey("pg", asyncpg.Pool)
# Present only in redis mode: the memory store needs no client.
REDIS = web.AppKey("redis", Redis)
STORE = web.AppKey("session_store", SessionStore)

# The logged-in user of this request, or None.  Request-scoped by
# construction, so it cannot leak to another request the way a
# ThreadLocal that nobody clears can.
USER: web.RequestKey[UserDTO | None] = web.RequestKey("user")
TOKEN = web.RequestKey("token", str)
