"""The peer endpoints of SESSION_STORE=replicated (node/sessions/replicated.py).

Registered only in that mode, answered only to a caller with the peer key
(derived from SECRET_KEY), and refused by nginx as well: a change applied
here is a session created, so no client may send one.
"""

from __future__ import annotations

import json

from aiohttp import web

from .envelope import ApiError, ok
from .sessions.replicated import PEER_KEY_HEADER, ReplicatedDict
from .typedefs import REPLICA

# Far above the API's 16 KiB: a batch holds every change of a busy moment.
MAX_BATCH = 64 * 1024 * 1024


async def receive_changes(request: web.Request) -> web.StreamResponse:
    """POST /internal/replication {from, changes}: a peer's writes."""
    store = _store(request)
    body = bytearray()
    async for chunk in request.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > MAX_BATCH:
            raise ApiError(413, "request body too large")
    try:
        changes = json.loads(body)["changes"]
        if not isinstance(changes, list):
            raise ValueError("changes must be a list")
        store.apply(changes)
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ApiError(400, f"not a batch of changes: {exc}") from None
    return ok()


async def send_state(request: web.Request) -> web.StreamResponse:
    """GET /internal/replication: everything this node holds, for a peer
    that is starting."""
    return ok({"changes": _store(request).state()})


def _store(request: web.Request) -> ReplicatedDict:
    store = request.app[REPLICA]  # the routes exist in that mode only
    if not store.is_peer(request.headers.get(PEER_KEY_HEADER, "")):
        raise ApiError(403, "not a peer of this node")
    return store
