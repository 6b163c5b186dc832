"""The app factory: synchronous and pure, every resource opened later in
its cleanup_ctx, so tests build the real app from explicit settings."""

from __future__ import annotations

import logging
import secrets

from aiohttp import web

from .metrics import Metrics
from .mistakes import WHAT
from .pipeline import Pipeline
from .resources import login_state_ctx, pg_ctx, redis_ctx
from .routes import setup_routes
from .sessions import Policy
from .settings import Settings
from .tokens import token_rules
from .typedefs import CODE_KEY, LIFECYCLE, METRICS, PIPELINE, POLICY, SETTINGS, TOKENS, Lifecycle

# The API takes small JSON bodies only; anything larger is refused with 413
# before it is read.
MAX_BODY = 16 * 1024


def create_app(settings: Settings) -> web.Application:
    metrics = Metrics(settings.node_name)
    policy = Policy.from_settings(settings)
    tokens = token_rules(policy)
    lifecycle = Lifecycle()
    pipeline = Pipeline(settings.node_name, metrics, policy=policy, tokens=tokens, lifecycle=lifecycle)
    # No middleware: each route's handler is inside the pipeline instead.
    app = web.Application(client_max_size=MAX_BODY)
    app[PIPELINE] = pipeline
    app[SETTINGS] = settings
    app[POLICY] = policy
    app[TOKENS] = tokens
    app[CODE_KEY] = _code_key(settings)
    _warn_mistakes(settings)
    app[LIFECYCLE] = lifecycle
    app[METRICS] = metrics
    app.cleanup_ctx.append(pg_ctx)
    if settings.session_store == "redis":
        app.cleanup_ctx.append(redis_ctx)
    app.cleanup_ctx.append(login_state_ctx)
    setup_routes(app, pipeline, sms_outbox=settings.sms_outbox, peers=settings.session_store == "replicated")
    return app


def _code_key(settings: Settings) -> bytes:
    if settings.secret_key:
        return settings.secret_key.encode()
    logging.getLogger(__name__).warning(
        "SECRET_KEY is not set: this node signs its codes with a key of its own, "
        "so a code sent through it cannot be checked by another node"
    )
    return secrets.token_bytes(32)


def _warn_mistakes(settings: Settings) -> None:
    for name in settings.mistakes:
        logging.getLogger(__name__).warning("MISTAKE=%s, on purpose: %s", name, WHAT[name])
