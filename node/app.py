"""The app factory: synchronous and pure, every resource opened later in
its cleanup_ctx, so tests build the real app from explicit settings."""

from __future__ import annotations

import logging
import secrets

from aiohttp import web

from .metrics import Metrics
from .middlewares import pipeline
from .resources import login_state_ctx, pg_ctx, redis_ctx
from .routes import setup_routes
from .sessions import Policy
from .settings import Settings
from .typedefs import CODE_KEY, LIFECYCLE, METRICS, POLICY, SETTINGS, Lifecycle

# The API takes small JSON bodies only; anything larger is refused with 413
# before it is read.
MAX_BODY = 16 * 1024


def create_app(settings: Settings) -> web.Application:
    metrics = Metrics(settings.node_name)
    app = web.Application(middlewares=[pipeline(settings.node_name, metrics)], client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    app[POLICY] = Policy.from_settings(settings)
    app[CODE_KEY] = _code_key(settings)
    app[LIFECYCLE] = Lifecycle()
    app[METRICS] = metrics
    app.cleanup_ctx.append(pg_ctx)
    if settings.session_store == "redis":
        app.cleanup_ctx.append(redis_ctx)
    app.cleanup_ctx.append(login_state_ctx)
    setup_routes(app, sms_outbox=settings.sms_outbox, peers=settings.session_store == "replicated")
    return app


def _code_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    logging.getLogger(__name__).warning(
        "SECRET_KEY is not set: this node signs its codes with a key of its own, "
        "so a code sent through it cannot be checked by another node"
    )
    return secrets.token_bytes(32)
