"""The benchmark's yardsticks: a bare aiohttp + uvloop handler returning
fixed JSON, no middleware, no store; and two steps up from it, to show the
floor a session read has on aiohttp.  `python -m scripts.bench_bare PORT [KIND]`:

- ``bare``: the handler alone;
- ``middleware``: the same behind one middleware that does nothing;
- ``session``: the least a session read does: one middleware that reads
  ``authorization``, hashes it (SHA-256) and finds the user in a dict, and
  an orjson envelope with ``X-Node``.
"""

from __future__ import annotations

import hashlib
import sys

import orjson
import uvloop
from aiohttp import web
from aiohttp.typedefs import Handler

BODY = b'{"success": true, "data": {"id": 1, "nickName": "user_bare000000", "icon": ""}}'
# The token `make bench` sends to the ``session`` kind, and its one user.
TOKEN = "0123456789abcdef0123456789abcdef"
_USERS = {
    hashlib.sha256(TOKEN.encode()).hexdigest()[:32]: {"id": 1, "nickName": "user_bare000000", "icon": ""}
}
_JSON = {"Content-Type": "application/json; charset=utf-8"}
KINDS = ("bare", "middleware", "session")


async def handler(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


async def envelope(request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps({"success": True, "data": request["user"]}), headers=_JSON)


@web.middleware
async def nothing(request: web.Request, handler: Handler) -> web.StreamResponse:
    return await handler(request)


@web.middleware
async def session(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.headers.get("authorization")
    request["user"] = _USERS.get(hashlib.sha256(token.encode()).hexdigest()[:32]) if token else None
    response = await handler(request)
    response.headers["X-Node"] = "node1"
    return response


def main() -> None:
    kind = sys.argv[2] if len(sys.argv) > 2 else "bare"
    app = web.Application(middlewares={"bare": [], "middleware": [nothing], "session": [session]}[kind])
    app.router.add_get("/user/me", envelope if kind == "session" else handler)
    web.run_app(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        access_log=None,
        print=None,
        loop=uvloop.new_event_loop(),
    )


if __name__ == "__main__":
    main()
