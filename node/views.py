"""The handlers.  They see the session store only through its interface,
so they are the same code in redis and in memory mode."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import db, pg
from .envelope import ApiError, answer, fail, ok, ok_body
from .metrics import CONTENT_TYPE
from .openapi import document as openapi_document
from .outages import DATABASE_DOWN, SESSION_STORE_DOWN, SessionStoreTimeout
from .pipeline import reads_session_id
from .sessions import IN_FLIGHT
from .tokens import code_mac, new_code, same_mac, session_id
from .typedefs import (
    CODE_KEY,
    GUARD,
    LIFECYCLE,
    METRICS,
    PG,
    POLICY,
    SESSION_ID,
    SETTINGS,
    STORE,
    TOKENS,
    USER,
)
from .validation import is_code_well_formed, is_phone_valid

View = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger(__name__)

WRONG_CODE = "wrong code"  # the seed's 验证码错误
ENDED_IN_FLIGHT = "logged out everywhere while this login ran: log in again with the same code"
_REFUSALS = {
    "interval": "a code was sent to this phone a moment ago: ask again later",
    "hour": "too many codes for this phone this hour: ask again later",
    "day": "too many codes for this phone today: ask again later",
    "phone-day": "too many codes for this phone today: ask again tomorrow",
    "locked": "too many wrong codes for this phone from this address: it is locked for a while",
    "busy": "too many codes are being sent right now: ask again in a minute",
}
NICK_NAME_MAX = 32  # tb_user.nick_name is varchar(32)


async def send_code(request: web.Request) -> web.StreamResponse:
    """POST /user/code?phone= : make a code, keep it 2 minutes, "send" it."""
    phone = request.query.get("phone")
    if phone is None and request.content_type == "application/x-www-form-urlencoded":
        try:
            form = await request.post()
        except (UnicodeDecodeError, LookupError, ValueError):  # bad bytes, unknown charset
            raise ApiError(400, "request body is not a valid form") from None
        value = form.get("phone")
        phone = value if isinstance(value, str) else None
    if not is_phone_valid(phone):
        raise ApiError(400, "invalid phone number")
    assert phone is not None
    code = new_code()
    guard, source = request.app[GUARD], client_address(request)
    mac = code_mac(request.app[CODE_KEY], phone, code)
    refusal = await guard.save_code(phone, mac, source=source)
    if refusal is not None:
        raise ApiError(429, _REFUSALS[refusal.reason], retry_after=refusal.retry_after)
    node = request.app[SETTINGS].node_name
    body = f"[hmdp] Your login code is {code}. It expires in {_duration(request.app[POLICY].login_code_ttl)}."
    try:
        # The outbox plays the SMS gateway.  The seed logs the code instead;
        # we never do: a log is read by more people than a phone.
        await db.record_sms(request.app[PG], phone=phone, code=code, body=body, node=node)
    except DATABASE_DOWN:
        # Not sent, so not a send: the phone's quota is as it was.
        with contextlib.suppress(*SESSION_STORE_DOWN):
            await guard.cancel_send(phone, mac, source=source)
        raise
    request.app[METRICS].codes_sent += 1
    # The same answer whether or not the phone has an account.
    return ok()


async def login(request: web.Request) -> web.StreamResponse:
    """POST /user/login {phone, code}: check the code, find or create the
    user, start a session and return its token."""
    logins = request.app[METRICS].logins
    try:
        response = await _log_in(request)
    except ApiError as exc:
        result = "wrong code" if exc.message == WRONG_CODE else "locked" if exc.status == 429 else "refused"
        logins[result] += 1
        raise
    logins["ok"] += 1
    return response


async def _log_in(request: web.Request) -> web.StreamResponse:
    form = await _json_object(request)
    phone = form.get("phone")
    code = form.get("code")
    if not is_phone_valid(phone):
        raise ApiError(400, "invalid phone number")
    assert isinstance(phone, str)
    if code is None or code == "":
        if form.get("password"):
            raise ApiError(400, "password login is not supported: log in with an SMS code")
        raise ApiError(400, "code is required")
    if not is_code_well_formed(code):
        raise ApiError(400, WRONG_CODE)  # no try spent on what cannot be a code
    assert isinstance(code, str)
    guard = request.app[GUARD]
    # The try is counted before it is judged, so a crowd of parallel guesses
    # gets at most code_max_tries judgements between them.
    source = client_address(request)
    attempt = await guard.take_attempt(phone, source=source)
    if attempt.status == "locked":
        raise ApiError(429, _REFUSALS["locked"], retry_after=attempt.retry_after)
    if attempt.status == "burned":
        raise ApiError(400, "too many wrong tries for this code: ask for a new one")
    if attempt.status == "none" or not same_mac(attempt.mac, code_mac(request.app[CODE_KEY], phone, code)):
        if attempt.status == "judge" and await guard.record_failure(phone, source=source):
            raise ApiError(429, _REFUSALS["locked"], retry_after=request.app[POLICY].phone_lockout)
        raise ApiError(400, WRONG_CODE)
    try:
        token = await _start_session(request, phone, attempt.mac, source)
    except (*DATABASE_DOWN, *SESSION_STORE_DOWN):
        # Our outage, not the user's try: the code keeps it (if still there).
        with contextlib.suppress(*SESSION_STORE_DOWN):
            await guard.refund_attempt(phone, attempt.mac)
        raise
    return ok(token)


async def _start_session(request: web.Request, phone: str, mac: str, source: str) -> str:
    """The right code: find or create the user and record the session (one
    Postgres statement), put it in the store, and take the code.  Whoever
    takes the code first logs in; a replay, or 50 copies at once across the
    nodes, finds nothing.  A logout-all between the row and the store ends
    this login (409); a rename there reaches it (db.new_session says how).
    Past the cap, the user's oldest sessions end."""
    pool, store, policy, guard = request.app[PG], request.app[STORE], request.app[POLICY], request.app[GUARD]
    token = request.app[TOKENS].new(phone)  # a new random one at every login (but MISTAKE=phone-token)
    sid = session_id(token)
    loop = asyncio.get_running_loop()
    began = loop.time()
    new = await db.new_session(pool, phone, sid, max_age=policy.session_max_age, in_flight=IN_FLIGHT)
    stored = None
    try:
        stored = await store.save_user(sid, new.user, row=new.row)
        if not stored:
            # Not the user's try: the code stays, with its tries as they were.
            await guard.refund_attempt(phone, mac)
            raise ApiError(409, ENDED_IN_FLIGHT)
        if loop.time() - began > IN_FLIGHT:
            # A logout-all's mark may have gone before this save came.
            raise SessionStoreTimeout("the session was stored too late to tell whether a logout-all ended it")
        if not await guard.consume_code(phone, mac, source=source):
            raise ApiError(400, WRONG_CODE)
    except BaseException:
        # Its token goes to nobody: end the session the store may hold
        # (none if it refused), and the row if this login added it.
        if stored is not False:
            with contextlib.suppress(*SESSION_STORE_DOWN):
                await store.end_sessions([sid])
        if new.added:
            with contextlib.suppress(*DATABASE_DOWN):
                await db.forget_row(pool, new.row)
        raise
    cap, others = policy.max_sessions_per_user, new.others
    if cap and others:
        try:
            alive = await store.live_sessions(others)
            over = alive[: max(0, len(alive) + 1 - cap)]  # oldest first
            await store.end_sessions(over)
            # The rows of sessions gone go too, but not those of logins in
            # flight: not stored yet, and not gone.
            gone = [sid for sid in others if sid not in alive and sid not in new.in_flight]
            await db.end_sessions(pool, [*over, *gone])
        except (*DATABASE_DOWN, *SESSION_STORE_DOWN) as exc:
            # Logged in all the same: the cap is enforced at the next login.
            log.warning("login: the session cap was not applied: %s", type(exc).__name__)
    return token


async def me(request: web.Request) -> web.StreamResponse:
    user = request[USER]
    assert user is not None  # the login middleware guarantees it
    if user.answer is None:
        user.answer = ok_body(user.to_json())
    return answer(user.answer)


async def update_me(request: web.Request) -> web.StreamResponse:
    """PATCH /user/me {nickName}: rename the user, in Postgres and in every
    live session of theirs at once, each on whatever node it is asked."""
    user = request[USER]
    assert user is not None
    form = await _json_object(request)
    nick = form.get("nickName")
    if set(form) != {"nickName"}:
        raise ApiError(400, 'only nickName can be changed: send {"nickName": "..."}')
    if not isinstance(nick, str) or not 0 < len(nick) <= NICK_NAME_MAX or not nick.isprintable():
        raise ApiError(400, f"nickName must be 1 to {NICK_NAME_MAX} printable characters")
    # The user's row is held until the store has it too: a logout-all in
    # between waits, and ends the sessions as renamed.
    async with db.renamed_user(request.app[PG], user.id, nick) as sids:
        await request.app[STORE].update_user(sids, {"nickName": nick})
    return ok({**user.to_json(), "nickName": nick})


@reads_session_id
async def logout(request: web.Request) -> web.StreamResponse:
    """POST /user/logout: end this session, on every node at once."""
    user = request[USER]
    assert user is not None
    await request.app[STORE].end_sessions([request[SESSION_ID]])
    try:
        await db.end_sessions(request.app[PG], [request[SESSION_ID]])
    except DATABASE_DOWN as exc:
        # The session has ended: that is the answer.  Its row lingers until
        # the user's next logout-all, or its max age, clears it.
        log.warning("logout: the session's row stays: database unavailable (%s)", type(exc).__name__)
    return ok()


async def logout_all(request: web.Request) -> web.StreamResponse:
    """POST /user/logout/all: end every session of this user."""
    user = request[USER]
    assert user is not None
    # The rows go only if the store ended every session: a failure on
    # either side leaves them all listed, so a retry ends them.
    async with db.all_sessions(request.app[PG], user.id) as rows:
        ended = await request.app[STORE].end_for_good(rows)
    return ok({"ended": ended})


async def cluster_info(request: web.Request) -> web.StreamResponse:
    """GET /cluster/info: which node this is and where it keeps sessions
    (the demo page asks a few times to see every node behind nginx)."""
    settings = request.app[SETTINGS]
    return ok(
        {
            "node": settings.node_name,
            "store": settings.session_store,
            "mistakes": list(settings.mistakes),
            "stats": request.app[STORE].stats(),
        }
    )


async def metrics(request: web.Request) -> web.StreamResponse:
    """GET /metrics: this node's counters, in Prometheus's text format."""
    return web.Response(body=request.app[METRICS].exposition(), headers={"Content-Type": CONTENT_TYPE})


async def healthz(request: web.Request) -> web.StreamResponse:
    return ok({"node": request.app[SETTINGS].node_name, "status": "alive"})


async def readyz(request: web.Request) -> web.StreamResponse:
    """Whether this node's stores answer; nginx-side readiness is built on it."""
    settings = request.app[SETTINGS]
    checks = {
        "postgres": _check(pg.fetchrow(request.app[PG], "SELECT 1")),
        "sessionStore": _check(request.app[STORE].ping()),
    }
    results = dict(zip(checks, await asyncio.gather(*checks.values()), strict=True))
    data: dict[str, Any] = {"node": settings.node_name, "store": settings.session_store, **results}
    if request.app[LIFECYCLE].draining:
        return fail(503, "stopping", data=data)
    if all(v == "ok" for v in results.values()):
        return ok(data)
    return fail(503, "not ready", data=data)


async def latest_sms(request: web.Request) -> web.StreamResponse:
    """GET /dev/sms/latest?phone= : the user's phone, read from the outbox."""
    phone = request.query.get("phone")
    if not is_phone_valid(phone):
        raise ApiError(400, "invalid phone number")
    assert phone is not None
    sms = await db.latest_sms(request.app[PG], phone)
    if sms is None:
        raise ApiError(404, "no SMS has been sent to this phone")
    return ok(sms)


async def openapi(request: web.Request) -> web.StreamResponse:
    """GET /openapi.json: the API described (node/openapi.py)."""
    return web.json_response(_openapi())


@functools.cache
def _openapi() -> dict[str, Any]:
    # Made at the first request, not at import: the document reads the
    # routes (which need a login), and node.routes imports this module.
    return openapi_document()


async def _check(probe: Awaitable[object]) -> str:
    try:
        async with asyncio.timeout(2):
            await probe
    except Exception as exc:  # reported, not raised: this is the report
        return f"unavailable: {type(exc).__name__}"
    return "ok"


async def _json_object(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested too deep
        raise ApiError(400, "request body must be a JSON object") from None
    if not isinstance(value, dict):
        raise ApiError(400, "request body must be a JSON object")
    return value


def client_address(request: web.Request) -> str:
    """The client's address, as nginx saw it (X-Real-IP, which nginx always
    sets) or as the node sees it.  Straight to a node's loopback port a
    client can name any address: the per-phone and cluster-wide limits
    hold whatever it says."""
    given = request.headers.get("X-Real-IP", "")
    if 0 < len(given) <= 45 and all(c in "0123456789abcdefABCDEF:." for c in given):
        return given
    return request.remote or ""


def _duration(seconds: float) -> str:
    if seconds % 60 == 0:
        minutes = int(seconds // 60)
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds:g} seconds"
