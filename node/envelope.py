"""The seed's Result envelope: {success, errorMsg, data, total}, nulls left out
(as the seed's Jackson config does), so its front end works unchanged."""

from __future__ import annotations

import functools
import json
import math
from typing import Any

from aiohttp import web

# Readable Chinese in the seed rows, rather than \u escapes.
_dumps = functools.partial(json.dumps, ensure_ascii=False)


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
    return web.json_response(body, dumps=_dumps)


def fail(status: int, message: str, *, data: Any = None, retry_after: float | None = None) -> web.Response:
    body: dict[str, Any] = {"success": False, "errorMsg": message}
    headers = {}
    if retry_after is not None:
        # Whole seconds, rounded up, in the body and in the standard header.
        seconds = max(1, math.ceil(retry_after))
        data = {**(data or {}), "retryAfter": seconds}
        headers["Retry-After"] = str(seconds)
    if data is not None:
        body["data"] = data
    return web.json_response(body, status=status, dumps=_dumps, headers=headers)
