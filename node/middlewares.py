"""The request pipeline, in the seed's order, as one middleware.

0. drain   - while the node stops, every answer says ``Connection: close``;
1. errors  - every failure becomes the JSON envelope, internals hidden;
2. refresh - on every path (the seed's RefreshTokenInterceptor, order 0):
             load the user for the ``authorization`` token, keep it on the
             request, push the session's TTL back;
3. login   - on protected paths only (the seed's LoginInterceptor,
             order 1): no user, 401.

Refresh runs on public paths too, so a user who only browses shops keeps
their session alive; that is why the seed split the interceptor in two.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from aiohttp import ClientConnectionResetError, web
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web_protocol import RequestPayloadError
from multidict import istr

from .envelope import ApiError, fail, http_status, wants_chinese, wants_course
from .metrics import Metrics
from .models import UserDTO
from .outages import DATABASE_DOWN, DATABASE_UNAVAILABLE, SESSION_STORE_DOWN, SESSION_STORE_UNAVAILABLE
from .routes import PUBLIC_ROUTES, is_public
from .sessions import Policy
from .tokens import TokenRules, session_id
from .typedefs import SESSION_ID, STORE, USER, Lifecycle

log = logging.getLogger(__name__)

# nginx's status for a client that closed the connection before the answer.
CLIENT_LEFT = 499
_X_NODE = istr("X-Node")
_REASONS = {
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
}


def pipeline(
    node_name: str,
    metrics: Metrics | None = None,
    *,
    policy: Policy,
    tokens: TokenRules,
    lifecycle: Lifecycle,
) -> Middleware:
    """The four steps as one middleware: aiohttp wraps the handler once per
    middleware on every request, and `make bench` showed four layers and a
    response signal costing more than the steps themselves."""
    # MISTAKE=one-interceptor: the seed's first design, one interceptor on
    # the protected paths doing both jobs, so public pages refresh nothing.
    refresh = _refresh_protected_only if policy.makes("one-interceptor") else _refresh

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        # Asked once here, passed down: each costs a lookup per request.
        match_info = request.match_info
        route = match_info.route
        name = route.name
        public = name in PUBLIC_ROUTES if name is not None else _is_public_path(request)
        try:
            user = await refresh(request, public, metrics, tokens)
            if user is None and not public and match_info.http_exception is None:
                _refuse_login(request)  # 3. login (unrouted: the router's 404/405 instead)
            response = await handler(request)
        except Exception as exc:  # 1. errors
            response = _failure(request, exc)
        if metrics is not None:
            # A refusal answered the course's way is counted as what it is.
            metrics.request(name or "unmatched", request.method, http_status(response))
        if not response.prepared:
            response.headers[_X_NODE] = node_name  # also on the router's own 404s
        if lifecycle.draining:  # 0. drain
            # Before the response is prepared: aiohttp decides the Connection
            # header then, so later (in on_response_prepare) it would close
            # the connection without saying so, and nginx would send the next
            # request into it.  See node/server.py.
            response.force_close()
        return response

    return middleware


def _failure(request: web.Request, exc: Exception) -> web.StreamResponse:
    """Every failure as the envelope, internals hidden.  A handler's refusal
    (an ApiError) is answered in the convention the request asks for
    (node/envelope.py); what the router, the parser or a store says is not
    one the course would answer with its Result.fail either."""
    zh = wants_chinese(request)  # Accept-Language: the message in Chinese
    if isinstance(exc, ApiError):
        return fail(exc.status, exc.message, retry_after=exc.retry_after, course=wants_course(request), zh=zh)
    if _client_left(request, exc):
        # No outage: nobody will read this answer, but the count (499, as
        # nginx says it) and the log say what happened.
        log.info("%s %s: the client left before its request was read", request.method, request.path)
        return fail(CLIENT_LEFT, "the client closed the connection", zh=zh)
    if isinstance(exc, SESSION_STORE_DOWN):
        log.warning("%s %s: session store unavailable: %r", request.method, request.path, exc)
        return fail(503, SESSION_STORE_UNAVAILABLE, zh=zh)
    if isinstance(exc, DATABASE_DOWN):
        log.warning("%s %s: database unavailable: %r", request.method, request.path, exc)
        return fail(503, DATABASE_UNAVAILABLE, zh=zh)
    if isinstance(exc, RequestPayloadError):
        # The body could not be read as sent: e.g. a Content-Encoding that
        # does not match the bytes.  The client's fault, not ours.
        return fail(400, "request body could not be decoded", zh=zh)
    if isinstance(exc, web.HTTPException):
        if exc.status < 400:
            raise exc
        response = fail(exc.status, _REASONS.get(exc.status, exc.reason.lower()), zh=zh)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return fail(500, "internal server error", zh=zh)


def _client_left(request: web.Request, exc: Exception) -> bool:
    """Whether ``exc`` is the client's connection lost, not a store's: a
    ConnectionResetError is an OSError like Postgres refusing a connection,
    so it is told by where it comes from.  aiohttp sets the very exception
    on the request's body when the connection is lost while it is read, and
    raises ClientConnectionResetError writing to a closed connection."""
    body_lost = isinstance(exc, OSError) and exc is request.content.exception()
    return body_lost or isinstance(exc, ClientConnectionResetError)


async def _refresh(
    request: web.Request, public: bool, metrics: Metrics | None, tokens: TokenRules
) -> UserDTO | None:
    """2. On every path: the user of the token, request-scoped, TTL pushed back."""
    token = bearer_token(request, tokens)
    user: UserDTO | None = None
    if token is not None:
        sid = session_id(token)
        try:
            user = await request.app[STORE].load_user(sid)
        except SESSION_STORE_DOWN:
            # Without the store we cannot tell who this is.  A public page
            # is served anonymously; a protected one answers 503 (from the
            # error step), not 401: the session may well be alive.
            if not public:
                raise
        else:
            if user is None and metrics is not None:
                metrics.sessions_missed += 1  # the store answered: no such session here
    request[USER] = user
    if user is not None:
        request[SESSION_ID] = sid
    return user


async def _refresh_protected_only(
    request: web.Request, public: bool, metrics: Metrics | None, tokens: TokenRules
) -> UserDTO | None:
    if public:
        request[USER] = None  # not looked at: the session's TTL stays where it was
        return None
    return await _refresh(request, public, metrics, tokens)


def _refuse_login(request: web.Request) -> NoReturn:
    """3. On protected paths only: no user, 401."""
    if request.headers.get("authorization", "").strip():
        raise ApiError(401, "not logged in: this token has no session here (expired, logged out, unknown)")
    raise ApiError(401, "not logged in: send the token from /user/login in the authorization header")


def bearer_token(request: web.Request, tokens: TokenRules) -> str | None:
    """The token in the authorization header, as the seed's front end sends
    it (the bare token) or as `Bearer <token>`; None if there is none of our
    shape.  Never from the query string: URLs end up in logs and histories."""
    value = request.headers.get("authorization")
    if value is None:
        return None
    if tokens.well_formed(value):  # the seed's front end: the bare token, nothing to trim
        return value
    scheme, _, rest = value.strip().partition(" ")
    value = rest.strip() if scheme.lower() == "bearer" else value.strip()
    return value if tokens.well_formed(value) else None


def _is_public_path(request: web.Request) -> bool:
    # A route without a name (the router's own 404 and 405): decided by the
    # route that would run (its canonical path), not by the raw URL, so no
    # spelling of a path reaches a handler unchecked.  Named routes are
    # decided once, at start-up (node/routes.py: PUBLIC_ROUTES).
    route = request.match_info.route
    return is_public(route.resource.canonical if route.resource else request.path)
