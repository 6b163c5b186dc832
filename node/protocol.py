"""The answer to a request aiohttp refuses before the app sees it, and
the server that runs the app inside the request pipeline's error step.

aiohttp's HTTP parser refuses some requests itself: a control character in a
header, 200 headers, HTTP/1.1 without Host, a Content-Encoding it cannot
decode.  aiohttp answers them in ``RequestHandler.handle_error`` with a
plain-text 400 that quotes the offending line (an ``authorization`` token,
if that was the line) and logs the same text at ERROR with a traceback.
No public hook reaches that answer: the request never gets to the app, so
no handler nor ``on_response_prepare`` sees it, and ``AppRunner``
takes no handler class.  Hence a subclass of ``RequestHandler`` with two
methods of its own (the answer, and the log of an error met after it),
the ``Server`` that makes it and the ``AppRunner`` that makes that
``Server``.  If an aiohttp upgrade stops calling them, this fails:
tests/cluster/test_protocol_errors.py::test_the_json_error_handler_is_the_one_aiohttp_runs
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import (
    BadHttpMethod,
    BadStatusLine,
    ContentEncodingError,
    DecompressSizeError,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    PayloadEncodingError,
)
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from aiohttp.web_request import BaseRequest

from .envelope import fail
from .metrics import Metrics
from .pipeline import Pipeline

log = logging.getLogger(__name__)

# What the client is told, and the log says: a fixed text by the error's
# class, never the parser's own message, which quotes the request.
_BY_CLASS: tuple[tuple[type[Exception], str], ...] = (
    (LineTooLong, "request line or header too long"),
    (DecompressSizeError, "request body too large"),
    (ContentEncodingError, "request body could not be decoded"),
    (RequestPayloadError, "request body could not be decoded"),  # a ContentEncodingError, as the body sees it
    (PayloadEncodingError, "request body does not match its length or chunks"),
    (InvalidHeader, "invalid header"),
    (InvalidURLError, "invalid request target"),
    (BadHttpMethod, "invalid request method"),
    (BadStatusLine, "invalid request line"),
)
# A plain BadHttpMessage names its error in its first (fixed) words, then
# quotes the request.
_BY_START: tuple[tuple[str, str], ...] = (
    ("Invalid header value char", "invalid character in a header"),
    ("Invalid header field char", "invalid character in a header"),
    ("Missing 'Host' header", "missing Host header"),
    ("Too many headers", "too many headers"),
    ("Duplicate '", "duplicate header"),
)
_SERVER_ERRORS = {500: "internal server error", 504: "no answer in time"}


def refusal(status: int, exc: BaseException | None) -> str:
    """The envelope's message for an error aiohttp answers itself."""
    if status >= 500:
        return _SERVER_ERRORS.get(status, "internal server error")
    for cls, text in _BY_CLASS:
        if isinstance(exc, cls):
            return text
    words = getattr(exc, "message", "")
    return next((text for start, text in _BY_START if words.startswith(start)), "malformed request")


class _JsonErrorHandler(RequestHandler):
    __slots__ = ("_metrics", "_node_name")

    def __init__(self, manager: web.Server, node_name: str, metrics: Metrics | None, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._node_name = node_name
        self._metrics = metrics

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,  # aiohttp's text, which quotes the request: never used
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:
            # As aiohttp does: part of an answer is out, no other can follow.
            raise ConnectionError("a response was already under way: no error answer can follow")
        text = refusal(status, exc)
        if status >= 500:  # a bug of ours (or a timeout): the traceback helps
            log.error("%d on %s %s: %s", status, request.method, request.path, text, exc_info=exc)
        else:  # the client's: one line, nothing of what it sent
            kind = type(exc).__name__ if exc is not None else "no exception"
            log.warning("refused %d from %s: %s (%s)", status, request.remote, text, kind)
        if self._metrics is not None:
            self._metrics.request("protocol", request.method, status)
        response = fail(status, text)
        response.headers["X-Node"] = self._node_name
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info")
        if isinstance(exc, HttpProcessingError | RequestPayloadError):
            # The client's error, met after the answer: reading the rest of
            # a body that cannot be decoded before the next request.  One
            # line, not aiohttp's traceback of the parser's message.
            log.warning("closed a connection: %s (%s)", refusal(400, exc), type(exc).__name__)
            return
        super().log_exception(*args, **kwargs)


class _JsonErrorServer(web.Server):
    def __init__(self, built: web.Server, pipeline: Pipeline) -> None:
        # The Server aiohttp built for the app, rebuilt as is (factory, the
        # handler's options) but making our handler, and the app's handling
        # inside the pipeline's, for what no route answers.
        super().__init__(
            pipeline.around_app(built.request_handler),
            request_factory=built.request_factory,
            handler_cancellation=built.handler_cancellation,
            **built._kwargs,
        )
        self._pipeline = pipeline

    def __call__(self) -> RequestHandler:
        pipeline = self._pipeline
        return _JsonErrorHandler(self, pipeline.node_name, pipeline.metrics, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """``web.AppRunner`` for an app whose routes are inside ``pipeline``:
    what no route answers gets the pipeline's envelope too, and what
    aiohttp refuses before the app is answered with the envelope, logged as
    one line and counted (route ``protocol``)."""

    def __init__(self, app: web.Application, pipeline: Pipeline, **kwargs: Any) -> None:
        # aiohttp's other messages of a connection come under this module's
        # name too, so the node's log names them as its own.
        kwargs.setdefault("logger", log)
        super().__init__(app, **kwargs)
        self._pipeline = pipeline

    async def _make_server(self) -> web.Server:
        built = await super()._make_server()  # starts the app: on_startup, cleanup_ctx
        return _JsonErrorServer(built, self._pipeline)
