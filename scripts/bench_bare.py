"""The benchmark's yardsticks: a bare aiohttp + uvloop handler returning
fixed JSON, no middleware, no store; and steps up from it, to show the
floor a session read has on aiohttp.  `python -m scripts.bench_bare PORT [KIND]`:

- ``bare``: the handler alone;
- ``json``: the same answer by ``web.json_response`` of a fixed dict, as
  an aiohttp handler is usually written (encoded on every request);
- ``middleware``: the same behind one aiohttp middleware that does nothing
  (what a middleware costs: the node has none, node/pipeline.py);
- ``handler``: the least a session read does, in the handler: read
  ``authorization``, hash it (node/tokens.py: session_id), find the user in
  a dict, answer an orjson envelope with ``X-Node``, its headers built once;
- ``redis``: the same read from Redis (``python -m scripts.bench_bare PORT
  redis REDIS_URL``), through the node's own batch and commands
  (node/sessions/redis_io.py: TickBatch, OnKey; HMGET and PEXPIRE), with none of
  the node's rules, counters or error handling;
- ``raw-redis``: the same commands without redis-py: one connection of
  its own, the commands of a tick in one write, hiredis's parser
  (scripts/bench_floors.py: RawRedis), the least a Redis read can cost a
  handler on aiohttp;
- ``login``: the least a login does (``login REDIS_URL DATABASE_URL``),
  on the node's paths: scripts/bench_floors.py.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable

import orjson
import uvloop
from aiohttp import web
from aiohttp.typedefs import Handler
from redis.asyncio import Redis

from node.models import UserDTO
from node.sessions import LOGIN_USER_KEY
from node.sessions.redis_io import OnKey, RoundTrips, TickBatch
from node.tokens import session_id
from scripts.bench_floors import RAW, RawRedis, login_routes

BODY = b'{"success": true, "data": {"id": 1, "nickName": "user_bare000000", "icon": ""}}'
# The token `make bench` sends to the ``handler`` and ``redis`` kinds, and its one user.
TOKEN = "0123456789abcdef0123456789abcdef"
USER = UserDTO(id=1, nick_name="user_bare000000")
_USERS = {session_id(TOKEN): USER.to_json()}
_JSON = {"Content-Type": "application/json; charset=utf-8"}
_JSON_NODE = {**_JSON, "X-Node": "node1"}
DATA = orjson.loads(BODY)
KINDS = ("bare", "json", "middleware", "handler", "redis", "raw-redis", "login")
_BATCH: web.AppKey[TickBatch] = web.AppKey("batch")
_READ = OnKey(("HMGET", "id", "nickName", "icon", "exp"), ("PEXPIRE", 30 * 60 * 1000))


async def handler(request: web.Request) -> web.Response:
    return web.Response(body=BODY, content_type="application/json")


async def json_handler(request: web.Request) -> web.Response:
    return web.json_response(DATA)


def find_user(request: web.Request) -> dict[str, object] | None:
    token = request.headers.get("authorization")
    return _USERS.get(session_id(token)) if token else None


async def read_in_handler(request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps({"success": True, "data": find_user(request)}), headers=_JSON_NODE)


@web.middleware
async def nothing(request: web.Request, handler: Handler) -> web.StreamResponse:
    return await handler(request)


def session_key(request: web.Request) -> str | None:
    token = request.headers.get("authorization")
    return LOGIN_USER_KEY + session_id(token) if token else None


def user_answer(found: list[str | None] | None) -> web.Response:
    """The envelope of the user in HMGET's reply (``found``), or of none."""
    user = {"id": int(found[0]), "nickName": found[1], "icon": found[2]} if found and found[0] else None
    return web.Response(body=orjson.dumps({"success": True, "data": user}), headers=_JSON_NODE)


async def read_redis_in_handler(request: web.Request) -> web.Response:
    key = session_key(request)
    return user_answer((await request.app[_BATCH].on_key(_READ, key))[0] if key else None)


async def read_raw_redis_in_handler(request: web.Request) -> web.Response:
    key = session_key(request)
    return user_answer(await request.app[RAW].call(_READ.packed(key), replies=2) if key else None)


def on_redis(url: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with Redis.from_url(url, decode_responses=True) as redis:
            app[_BATCH] = TickBatch(redis, RoundTrips())
            yield

    return ctx


def main() -> None:
    kind = sys.argv[2] if len(sys.argv) > 2 else "bare"
    app = web.Application(middlewares=[nothing] if kind == "middleware" else [])
    if kind == "redis":
        app.cleanup_ctx.append(on_redis(sys.argv[3]))
    if kind == "raw-redis":
        app.cleanup_ctx.append(RawRedis.on_app(sys.argv[3]))
    if kind == "login":
        login_routes(app, redis_url=sys.argv[3], database_url=sys.argv[4])
    handlers = {
        "json": json_handler,
        "handler": read_in_handler,
        "redis": read_redis_in_handler,
        "raw-redis": read_raw_redis_in_handler,
    }
    app.router.add_get("/user/me", handlers.get(kind, handler))
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
