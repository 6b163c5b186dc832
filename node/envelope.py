"""The seed's Result envelope: {success, errorMsg, data, total}, nulls left out
(as the seed's Jackson config does), so its front end works unchanged.

Two ways to answer a refusal (docs/frontend.md).  By default its HTTP
status says what it is (400, 404, 429...).  The course answers them with
its Result.fail instead: HTTP 200 and ``success: false``; its front end
shows ``errorMsg`` only for those, and for any other status but 401 shows
服务器异常 ("server error").  A request that sends ``X-Failure-Convention:
course`` (nginx adds it for the course's pages when it serves them) gets
its refusals the course's way, their own status in ``X-Failure-Status``.
A 401 keeps its status (the course's front end sends the user to its login
page on it), and so do outages and bugs (5xx)."""

from __future__ import annotations

import math
from typing import Any

import orjson
from aiohttp import web

from . import i18n

# The body as bytes and the header given whole: aiohttp's json_response
# encodes text and parses its content type on every answer, and json.dumps
# builds an encoder per call (`make bench`: 4.5 µs an answer, against 1.4).
# orjson writes Chinese as UTF-8, not \u escapes, as the seed's Jackson does.
_JSON = {"Content-Type": "application/json; charset=utf-8"}

CONVENTION_HEADER = "X-Failure-Convention"
COURSE = "course"
STATUS_HEADER = "X-Failure-Status"


class ApiError(Exception):
    """A failure the client caused or must hear about: becomes a 4xx/5xx
    envelope in the error middleware."""

    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


def ok(data: Any = None, total: int | None = None) -> web.Response:
    body: dict[str, Any] = {"success": True}
    if data is not None:
        body["data"] = data
    if total is not None:
        body["total"] = total
    return answer(orjson.dumps(body))


def ok_body(data: Any) -> bytes:
    """The body of ``ok(data)``, to keep and answer with (``answer``)."""
    return orjson.dumps({"success": True, "data": data})


def answer(body: bytes) -> web.Response:
    """The answer of an envelope already encoded."""
    return web.Response(body=body, headers=_JSON)


def fail(
    status: int,
    message: str,
    *,
    data: Any = None,
    retry_after: float | None = None,
    course: bool = False,
    zh: bool = False,
) -> web.Response:
    """The failure envelope; ``course``: answered as the course's Result.fail
    if it is a refusal it would answer so; ``zh``: its message in Chinese
    (node/i18n.py)."""
    if zh:
        message = i18n.translate(message)
    body: dict[str, Any] = {"success": False, "errorMsg": message}
    headers = dict(_JSON)
    if retry_after is not None:
        # Whole seconds, rounded up, in the body and in the standard header.
        seconds = max(1, math.ceil(retry_after))
        data = {**(data or {}), "retryAfter": seconds}
        headers["Retry-After"] = str(seconds)
        if course:  # the course's front end shows the message alone
            body["errorMsg"] = message + i18n.wait(seconds, zh=zh)
    if data is not None:
        body["data"] = data
    if course and is_refusal(status):
        headers[STATUS_HEADER] = str(status)
        status = 200
    return web.Response(body=orjson.dumps(body), status=status, headers=headers)


def is_refusal(status: int) -> bool:
    """A status the course would answer as Result.fail: a 4xx but 401."""
    return 400 <= status < 500 and status != 401


def wants_chinese(request: web.BaseRequest) -> bool:
    return i18n.prefers_chinese(request.headers.get("Accept-Language", ""))


def wants_course(request: web.BaseRequest) -> bool:
    return request.headers.get(CONVENTION_HEADER, "").strip().lower() == COURSE


def http_status(response: web.StreamResponse) -> int:
    """The status of ``response`` in the HTTP convention: a refusal
    answered the course's way says its own in STATUS_HEADER."""
    own = response.headers.get(STATUS_HEADER)
    return int(own) if own is not None else response.status
