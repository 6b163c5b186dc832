"""The request pipeline, in the seed's order, around each route's handler.

0. drain   - while the node stops, every answer says ``Connection: close``;
1. errors  - every failure becomes the JSON envelope, internals hidden;
2. refresh - on every path (the seed's RefreshTokenInterceptor, order 0):
             load the user for the ``authorization`` token, keep it on the
             request, push the session's TTL back;
3. login   - on protected paths only (the seed's LoginInterceptor,
             order 1): no user, 401.

Refresh runs on public paths too, so a user who only browses shops keeps
their session alive; that is why the seed split the interceptor in two.

Not an aiohttp middleware: aiohttp wraps the handler in each middleware,
and one of its own, on every request, and `make bench` measured that
costing more than the steps themselves.  Each route's handler is wrapped
once, at start-up (node/routes.py), knowing its name and whether it is
public.  What no route takes (the router's 404 and 405) gets steps 0 and
1 from ``Pipeline.around_app``, which the server runs around the app
(node/protocol.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from time import perf_counter
from typing import NoReturn, TypeVar

from aiohttp import ClientConnectionResetError, hdrs, web
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError
from multidict import istr

from .envelope import ApiError, fail, http_status, wants_chinese, wants_course
from .metrics import LOAD_USER_TIMED_EVERY, Metrics, count
from .outages import DATABASE_DOWN, DATABASE_UNAVAILABLE, SESSION_STORE_DOWN, SESSION_STORE_UNAVAILABLE
from .sessions import Policy, SessionStore
from .tokens import SessionIds, TokenRules
from .typedefs import SESSION_ID, USER, Lifecycle

log = logging.getLogger(__name__)

# nginx's status for a client that closed the connection before the answer.
CLIENT_LEFT = 499
_X_NODE = istr("X-Node")
AppHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
HandlerT = TypeVar("HandlerT", bound=Handler)
_REASONS = {
    404: "not found",
    405: "method not allowed",
    413: "request body too large",
}


_READS_SESSION_ID = "reads_session_id"


def reads_session_id(handler: HandlerT) -> HandlerT:
    """Mark a handler that reads ``request[SESSION_ID]``: only those are
    given it (a request item is set by aiohttp's Python code, 1 % of a
    request, `make bench-instr`)."""
    setattr(handler, _READS_SESSION_ID, True)
    return handler


class Pipeline:
    """The steps, built once per app from what they need; the session store
    is the app's, attached when it starts (node/resources.py)."""

    def __init__(
        self,
        node_name: str,
        metrics: Metrics | None = None,
        *,
        policy: Policy,
        tokens: TokenRules,
        lifecycle: Lifecycle,
    ) -> None:
        self.node_name = node_name
        self.metrics = metrics if metrics is not None else Metrics(node_name)
        self._session_ids = SessionIds(tokens.well_formed)
        self._lifecycle = lifecycle
        # MISTAKE=one-interceptor: the seed's first design, one interceptor on
        # the protected paths doing both jobs, so public pages refresh nothing.
        self._public_refresh = not policy.makes("one-interceptor")
        self._unmatched = self.metrics.route("unmatched")
        self.store: SessionStore | None = None

    def attach(self, store: SessionStore | None) -> None:
        """The store step 2 reads (None: the app has stopped)."""
        self.store = store

    def guard(self, name: str, handler: Handler, *, public: bool, method: str) -> Handler:
        """``handler`` (the route ``name``, for ``method``) with the four
        steps around it.  Inline, not a call a step: on every request, each
        coroutine or call of a step cost more than what it did (`make
        bench-instr`); and counted by the method it is routed for, not by
        reading the request's (a property: 1 % of a request)."""
        pipeline, metrics = self, self.metrics
        known, new_header = self._session_ids.known, self._session_ids.of
        refreshes = not public or self._public_refresh
        by_status, timing = metrics.route(name)[method], metrics.timing("load_user")
        keeps_session_id = getattr(handler, _READS_SESSION_ID, False)

        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                # 2. refresh: the user of the token, request-scoped, TTL pushed back.
                user = None
                header = request.headers.get(hdrs.AUTHORIZATION) if refreshes else None
                sid = None if header is None else known(header) or new_header(header)
                if sid is not None:
                    store = pipeline.store
                    assert store is not None  # attached while the app runs
                    calls = timing.calls = timing.calls + 1
                    started = perf_counter() if calls % LOAD_USER_TIMED_EVERY == 1 else None
                    try:
                        user = await store.load_user(sid)
                    except Exception as exc:
                        metrics.store_error("load_user", exc)
                        # Without the store we cannot tell who this is.  A public
                        # page is served anonymously; a protected one answers 503
                        # (from the error step), not 401: the session may well be alive.
                        if not public or not isinstance(exc, SESSION_STORE_DOWN):
                            raise
                    else:
                        if user is None:
                            metrics.sessions_missed += 1  # the store answered: no such session here
                        elif keeps_session_id:
                            request[SESSION_ID] = sid
                    finally:
                        if started is not None:
                            timing.observe(perf_counter() - started)
                request[USER] = user
                if user is None and not public:
                    _refuse_login(request)  # 3. login
                response = await handler(request)
                status = response.status
            except Exception as exc:  # 1. errors
                response = _failure(request, exc)
                status = http_status(response)  # a refusal the course's way says its own
            by_status[status] = by_status.get(status, 0) + 1
            return pipeline._finish(response)

        return guarded

    def around_app(self, handle: AppHandler) -> AppHandler:
        """The app's own handling (``handle``), with steps 0 and 1 for what
        no route answers: a route answers its own failures, so what raises
        here is the router's 404 or 405."""
        finish, unmatched = self._finish, self._unmatched

        async def handled(request: web.BaseRequest) -> web.StreamResponse:
            try:
                return await handle(request)
            except Exception as exc:
                response = _failure(request, exc)
            count(unmatched, request.method, http_status(response))
            return finish(response)

        return handled

    def _finish(self, response: web.StreamResponse) -> web.StreamResponse:
        # No handler sends its own response (none prepares one), so the
        # header still goes out with it.
        response.headers[_X_NODE] = self.node_name
        if self._lifecycle.draining:  # 0. drain
            # Before the response is prepared: aiohttp decides the Connection
            # header then, so later (in on_response_prepare) it would close
            # the connection without saying so, and nginx would send the next
            # request into it.  See node/server.py.
            response.force_close()
        return response


def _failure(request: web.BaseRequest, exc: Exception) -> web.StreamResponse:
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


def _client_left(request: web.BaseRequest, exc: Exception) -> bool:
    """Whether ``exc`` is the client's connection lost, not a store's: a
    ConnectionResetError is an OSError like Postgres refusing a connection,
    so it is told by where it comes from.  aiohttp sets the very exception
    on the request's body when the connection is lost while it is read, and
    raises ClientConnectionResetError writing to a closed connection."""
    body_lost = isinstance(exc, OSError) and exc is request.content.exception()
    return body_lost or isinstance(exc, ClientConnectionResetError)


def _refuse_login(request: web.Request) -> NoReturn:
    """3. On protected paths only: no user, 401."""
    if request.headers.get("authorization", "").strip():
        raise ApiError(401, "not logged in: this token has no session here (expired, logged out, unknown)")
    raise ApiError(401, "not logged in: send the token from /user/login in the authorization header")
