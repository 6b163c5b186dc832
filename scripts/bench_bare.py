"""The benchmark's yardstick: a bare aiohttp + uvloop handler returning fixed
JSON, no middleware, no store.  `python -m scripts.bench_bare PORT`."""

from __future__ import annotations

import sys

import uvloop
from aiohttp import web

BODY = b'{"success": true, "data": {"id": 1, "nickName": "user_bare000000", "icon": ""}}'


async def handler(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


def main() -> None:
    app = web.Application()
    app.router.add_get("/user/me", handler)
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
