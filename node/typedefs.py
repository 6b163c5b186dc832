"""Typed keys for what the app and each request hold."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from .metrics import Metrics
from .models import UserDTO
from .pg import Pool
from .redis_client import RedisClient
from .sessions import LoginGuard, Policy, ReplicatedDict, SessionStore, TTLDict
from .settings import Settings
from .tokens import TokenRules

if TYPE_CHECKING:  # it reads these keys: a type only, no import cycle
    from .pipeline import Pipeline


class Lifecycle:
    """Where the node is in its life: set by node.server, read per response."""

    draining: bool = False


SETTINGS = web.AppKey("settings", Settings)
LIFECYCLE = web.AppKey("lifecycle", Lifecycle)
PG = web.AppKey("pg", Pool)
# Present only in redis mode: the memory store needs no client.
REDIS: web.AppKey[RedisClient] = web.AppKey("redis")
POLICY = web.AppKey("policy", Policy)
GUARD = web.AppKey("login_guard", LoginGuard)
STORE = web.AppKey("session_store", SessionStore)
# The in-process backends' memory (memory and replicated modes only).
MEMORY = web.AppKey("memory", TTLDict)
# Present only with SESSION_STORE=replicated: the copy its peers write into.
REPLICA = web.AppKey("replica", ReplicatedDict)
METRICS = web.AppKey("metrics", Metrics)
# The request pipeline every route's handler runs in; the server runs its
# ``around_app`` around the app (node/protocol.py).
PIPELINE: web.AppKey[Pipeline] = web.AppKey("pipeline")
# The tokens a login hands out and a request may show (node/tokens.py).
TOKENS = web.AppKey("tokens", TokenRules)
# The key of the codes' HMAC: SECRET_KEY, or random if none was set.
CODE_KEY = web.AppKey("code_key", bytes)

# The logged-in user of this request, or None.  Request-scoped by
# construction, so it cannot leak to another request the way a
# ThreadLocal that nobody clears can.
USER: web.RequestKey[UserDTO | None] = web.RequestKey("user")
# The SHA-256 of the request's token, when it has a session, for the
# handlers marked to read it (node/pipeline.py: reads_session_id).
SESSION_ID = web.RequestKey("session_id", str)
