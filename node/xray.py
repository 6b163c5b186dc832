"""GET /dev/xray: the login state this node can see, for the demo page's X-ray.

Development only: routed with the SMS outbox (SMS_OUTBOX=on), as
/dev/sms/latest is.  It names the entries of one phone and of the caller's
own session as they are stored, with their TTLs, and counts every other
entry without naming it.  It never shows a code, a token or a code's HMAC.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .envelope import ApiError, ok
from .pipeline import reads_session_id
from .redis_client import RedisClient
from .sessions import (
    LOGIN_FAIL_KEY,
    LOGIN_LOCK_KEY,
    LOGIN_SENT_KEY,
    LOGIN_USER_KEY,
    TTLDict,
    phone_source,
    phone_tag,
)
from .sessions.memory import Ended, Pending, Session
from .tokens import session_id
from .typedefs import MEMORY, POLICY, REDIS, SESSION_ID, SETTINGS, TOKENS
from .validation import is_phone_valid
from .views import client_address

# Not `authorization`: every request that carries a token there pushes its
# session's TTL back (the refresh step), and the X-ray must not move what it
# measures.  A token sent in `authorization` is looked at too, refreshed.
TOKEN_HEADER = "X-Xray-Token"
HIDDEN = "(hidden)"
# The order the page lists a phone's entries in, by the key's stem.
_ORDER = ("code", "sent", "fail", "lock", "token")


@reads_session_id  # the caller's own session, if its token came in `authorization`
async def xray(request: web.Request) -> web.StreamResponse:
    """GET /dev/xray?phone= : this node's memory, and in redis mode the
    shared keys of the phone and of the caller's session."""
    phone = request.query.get("phone")
    if not is_phone_valid(phone):
        raise ApiError(400, "invalid phone number")
    assert phone is not None
    sid = _own_session(request)
    source = client_address(request)
    settings = request.app[SETTINGS]
    data: dict[str, Any] = {"node": settings.node_name, "store": settings.session_store}
    memory = request.app.get(MEMORY)
    if memory is not None:
        data["memory"] = _memory(memory, phone, source, sid)
    else:
        data["memory"] = {"codes": 0, "sessions": 0, "other": 0, "entries": []}
        code_key = request.app[POLICY].code_key(phone)
        data["redis"] = await _redis(request.app[REDIS], code_key, phone, source, sid)
    return ok(data)


def _own_session(request: web.Request) -> str | None:
    given = request.headers.get(TOKEN_HEADER, "").strip()
    if given:
        if not request.app[TOKENS].well_formed(given):
            raise ApiError(400, f"{TOKEN_HEADER} must be a token from /user/login")
        return session_id(given)
    return request.get(SESSION_ID)  # set by the refresh step for a live session


def _memory(data: TTLDict, phone: str, source: str, sid: str | None) -> dict[str, Any]:
    own = {f"code:{phone}", f"sent:{phone}", f"sent:{phone}:{source}", f"fail:{phone}:{source}"}
    own.add(f"lock:{phone}:{source}")
    if sid is not None:
        own.add(f"token:{sid}")
    now = data.clock()
    counts = {"codes": 0, "sessions": 0, "other": 0}
    entries = []
    for key, value, deadline in data.entries():
        stem = key.split(":", 1)[0]
        counts["codes" if stem == "code" else "sessions" if isinstance(value, Session) else "other"] += 1
        if key in own:
            ttl = round((deadline - now) * 1000)
            entries.append({"key": key, "ttlMs": ttl, "fields": _memory_fields(stem, value)})
    entries.sort(key=lambda e: (_ORDER.index(str(e["key"]).split(":", 1)[0]), e["key"]))
    return {**counts, "entries": entries}


def _memory_fields(stem: str, value: Any) -> dict[str, Any]:
    if stem == "code":  # {mac, tries, wrong}
        return {k: HIDDEN if k == "mac" else v for k, v in value.items()}
    if stem == "sent":  # [[ms, mac], ...]
        return {"sends": len(value)}
    if isinstance(value, Session):
        return {**value.user.to_hash(), "exp": round(value.expires_at * 1000)}
    if isinstance(value, Ended):  # marks at a session id, as Redis shows them
        return {"ended": value.row}
    if isinstance(value, Pending):
        return {**value.fields, "pending": 1}
    return {"value": value}  # a count of failures, or a lock


async def _redis(
    redis: RedisClient, code_key: str, phone: str, source: str, sid: str | None
) -> list[dict[str, Any]]:
    tag, tagged = phone_tag(phone), phone_source(phone, source)
    keys = [code_key, LOGIN_SENT_KEY + tag, LOGIN_SENT_KEY + tagged]
    keys += [LOGIN_FAIL_KEY + tagged, LOGIN_LOCK_KEY + tagged]
    if sid is not None:
        keys.append(LOGIN_USER_KEY + sid)
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.type(key)
            pipe.pttl(key)
        answers = await pipe.execute()
    found = [(key, kind, ttl) for key, kind, ttl in zip(keys, answers[::2], answers[1::2], strict=True)]
    found = [(key, kind, ttl) for key, kind, ttl in found if kind != "none"]
    # Only what cannot hold a secret is read: a hash's fields, a sorted
    # set's size (its members are codes' HMACs), a counter's value.
    readers = {"hash": "hgetall", "zset": "zcard", "string": "get"}
    async with redis.pipeline(transaction=False) as pipe:
        for key, kind, _ in found:
            getattr(pipe, readers.get(kind, "type"))(key)
        contents = await pipe.execute()
    out = []
    for (key, kind, ttl), content in zip(found, contents, strict=True):
        if kind == "hash":
            fields = {k: HIDDEN if k == "mac" else v for k, v in content.items()}
        elif kind == "zset":
            fields = {"sends": content}
        else:
            fields = {"value": content}
        out.append({"key": key, "type": kind, "ttlMs": ttl, "fields": fields})
    return out
