"""The request pipeline, in the seed's order.

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

from aiohttp import web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

from .envelope import ApiError, fail
from .models import UserDTO
from .outages import DATABASE_DOWN, DATABASE_UNAVAILABLE, SESSION_STORE_DOWN, SESSION_STORE_UNAVAILABLE
from .routes import is_public
from .tokens import session_id
from .typedefs import LIFECYCLE, SESSION_ID, STORE, USER
from .validation import is_token_well_formed

log = logging.getLogger(__name__)

_REASONS = {
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
}


@web.middleware
async def drain_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if request.app[LIFECYCLE].draining:
        # Before the response is prepared: aiohttp decides the Connection
        # header then, so later (in on_response_prepare) it would close the
        # connection without saying so, and nginx would send the next
        # request into it.  See node/server.py.
        response.force_close()
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return fail(exc.status, exc.message, retry_after=exc.retry_after)
    except SESSION_STORE_DOWN as exc:
        log.warning("%s %s: session store unavailable: %r", request.method, request.path, exc)
        return fail(503, SESSION_STORE_UNAVAILABLE)
    except DATABASE_DOWN as exc:
        log.warning("%s %s: database unavailable: %r", request.method, request.path, exc)
        return fail(503, DATABASE_UNAVAILABLE)
    except RequestPayloadError:
        # The body could not be read as sent: e.g. a Content-Encoding that
        # does not match the bytes.  The client's fault, not ours.
        return fail(400, "request body could not be decoded")
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = fail(exc.status, _REASONS.get(exc.status, exc.reason.lower()))
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return fail(500, "internal server error")


@web.middleware
async def refresh_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = bearer_token(request)
    user: UserDTO | None = None
    if token is not None:
        sid = session_id(token)
        try:
            user = await request.app[STORE].load_user(sid)
        except SESSION_STORE_DOWN:
            # Without the store we cannot tell who this is.  A public page
            # is served anonymously; a protected one answers 503 (from the
            # error middleware), not 401: the session may well be alive.
            if not _is_public(request):
                raise
    request[USER] = user
    if user is not None:
        request[SESSION_ID] = sid
    return await handler(request)


@web.middleware
async def login_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # Unrouted paths fall through to the router's 404/405 rather than a 401.
    if request.match_info.http_exception is None and not _is_public(request) and request[USER] is None:
        if request.headers.get("authorization", "").strip():
            raise ApiError(
                401, "not logged in: this token has no session here (expired, logged out, unknown)"
            )
        raise ApiError(401, "not logged in: send the token from /user/login in the authorization header")
    return await handler(request)


def bearer_token(request: web.Request) -> str | None:
    """The token in the authorization header, as the seed's front end sends
    it (the bare token) or as `Bearer <token>`; None if there is none of our
    shape.  Never from the query string: URLs end up in logs and histories."""
    value = request.headers.get("authorization", "").strip()
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "bearer":
        value = rest.strip()
    return value if is_token_well_formed(value) else None


def _is_public(request: web.Request) -> bool:
    # Decided by the route that will run (its canonical path), not by the
    # raw URL, so no spelling of a path reaches a handler unchecked.
    resource = request.match_info.route.resource
    return is_public(resource.canonical if resource else request.path)


MIDDLEWARES = (drain_middleware, error_middleware, refresh_middleware, login_middleware)
