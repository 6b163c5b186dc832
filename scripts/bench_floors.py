"""Two of `make bench`'s floors, served by scripts/bench_bare.py: what a
request cannot cost less than on this stack, measured beside the node.

- :class:`RawRedis`: Redis without redis-py.  One connection, the commands
  of one event-loop tick in one write, hiredis's parser.  It has no
  reconnect, no timeout and no Sentinel or Cluster: a yardstick for the
  node's batch (node/sessions/redis_io.py), not a client.
- :func:`login_routes`: the least a login does on the node's paths (code,
  SMS read, login).  A code in Redis, the SMS as an outbox row, the user
  found or created and the session row added in one statement, the
  session written with HSET and PEXPIRE; the node's batch for Redis and its
  Postgres pool (node.pg.Pool, without node.pg's bound on each statement).
  None of the node's rules: no rate limit, no count of tries, no mark of a
  logout-all or a rename looked for, no cap, no timeouts of its own.
"""

from __future__ import annotations

import asyncio
import collections
import secrets
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, cast

import hiredis
import orjson
from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.connection import parse_url

from node import pg
from node.db import random_nick_name
from node.envelope import fail, ok
from node.routes import PATHS
from node.sessions import LOGIN_CODE_KEY, LOGIN_USER_KEY, Policy
from node.sessions.redis_io import RoundTrips, TickBatch
from node.tokens import new_token, session_id

_POLICY = Policy()  # the node's defaults: a code's 2 minutes, a session's 30 and its cap


class RawRedis(asyncio.Protocol):
    """One connection to Redis; :meth:`call` sends packed commands with the
    others of its tick and answers the first of their ``replies``."""

    def __init__(self) -> None:
        self._reader = hiredis.Reader(encoding="utf-8")
        self._out: list[bytes] = []
        # Per call, in order: its future, how many replies, the replies so far.
        self._waiting: collections.deque[tuple[asyncio.Future[Any], int, list[Any]]] = collections.deque()
        self._transport: asyncio.Transport | None = None

    @classmethod
    def on_app(cls, url: str) -> Callable[[web.Application], AsyncIterator[None]]:
        """A cleanup context that keeps one connected at ``app[RAW]``."""

        async def ctx(app: web.Application) -> AsyncIterator[None]:
            options = parse_url(url)
            loop = asyncio.get_running_loop()
            transport, raw = await loop.create_connection(
                cls, options.get("host", "127.0.0.1"), options.get("port", 6379)
            )
            password = options.get("password")
            if password:
                await raw.call(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(password), password.encode()))
            app[RAW] = raw
            yield
            transport.close()

        return ctx

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def call(self, packed: bytes, replies: int = 1) -> asyncio.Future[Any]:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((future, replies, []))
        self._out.append(packed)
        if len(self._out) == 1:
            asyncio.get_running_loop().call_soon(self._write)
        return future

    def _write(self) -> None:
        assert self._transport is not None
        self._transport.write(b"".join(self._out))
        self._out.clear()

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.gets()) is not False:
            future, replies, got = self._waiting[0]
            got.append(reply)
            if len(got) == replies:
                self._waiting.popleft()
                if isinstance(got[0], Exception):
                    future.set_exception(got[0])
                else:
                    future.set_result(got[0])

    def connection_lost(self, exc: Exception | None) -> None:
        while self._waiting:
            self._waiting.popleft()[0].set_exception(ConnectionError("Redis closed the connection"))


RAW: web.AppKey[RawRedis] = web.AppKey("raw_redis", RawRedis)
_PG: web.AppKey[pg.Pool] = web.AppKey("pg", pg.Pool)
_BATCH: web.AppKey[TickBatch] = web.AppKey("login_batch", TickBatch)

# The user of $1 found, or created with nickname $2, and session row $3 added.
_USER_AND_SESSION = """
WITH usr AS (
    INSERT INTO tb_user (phone, nick_name) VALUES ($1, $2)
    ON CONFLICT (phone) DO UPDATE SET update_time = tb_user.update_time
    RETURNING id, nick_name, icon
),
added AS (INSERT INTO tb_session (sid, user_id) SELECT $3, id FROM usr)
SELECT id, nick_name, icon FROM usr
"""


async def _send_code(request: web.Request) -> web.Response:
    phone = request.query["phone"]
    code = f"{secrets.randbelow(10**6):06d}"
    await request.app[_BATCH].commands(("SET", LOGIN_CODE_KEY + phone, code, "EX", _POLICY.login_code_ttl))
    async with request.app[_PG].acquire() as conn:
        await conn.execute(
            "INSERT INTO sms_outbox (phone, code, body, node) VALUES ($1, $2, $3, 'floor')",
            phone,
            code,
            f"[hmdp] Your login code is {code}.",
        )
    return ok()


async def _latest_sms(request: web.Request) -> web.Response:
    async with request.app[_PG].acquire() as conn:
        row = await conn.fetchrow(
            "SELECT code FROM sms_outbox WHERE phone = $1 ORDER BY id DESC LIMIT 1", request.query["phone"]
        )
    return ok({"code": row["code"]}) if row else fail(404, "no SMS has been sent to this phone")


async def _login(request: web.Request) -> web.Response:
    form = orjson.loads(await request.read())
    phone, batch = form["phone"], request.app[_BATCH]
    [stored] = await batch.commands(("GET", LOGIN_CODE_KEY + phone))
    if stored is None or stored != form["code"]:
        return fail(400, "wrong code")
    token = new_token()
    async with request.app[_PG].acquire() as conn:
        row = await conn.fetchrow(_USER_AND_SESSION, phone, random_nick_name(), session_id(token))
    assert row is not None  # found or created
    key, exp = LOGIN_USER_KEY + session_id(token), int((time.time() + _POLICY.session_max_age) * 1000)
    await batch.commands(
        ("HSET", key, "id", row["id"], "nickName", row["nick_name"], "icon", row["icon"], "exp", exp),
        ("PEXPIRE", key, int(_POLICY.login_user_ttl * 1000)),
        ("DEL", LOGIN_CODE_KEY + phone),
    )
    return ok(token)


def login_routes(app: web.Application, *, redis_url: str, database_url: str) -> None:
    """The login floor's three routes on ``app``, at the node's paths, and
    its Postgres pool and Redis batch."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        pool = pg.Pool(database_url, size=10)
        async with Redis.from_url(redis_url, decode_responses=True) as redis:
            app[_PG], app[_BATCH] = pool, TickBatch(redis, RoundTrips())
            try:
                yield
            finally:
                await pool.close()

    app.cleanup_ctx.append(ctx)
    app.router.add_post(PATHS["user.code"], _send_code)
    app.router.add_get(PATHS["dev.sms.latest"], _latest_sms)
    app.router.add_post(PATHS["user.login"], _login)
