"""Session replication: the answer the seeds turn down, built so it can be
measured.  Like Tomcat's DeltaManager, every node keeps every session in its
own memory (the memory store, unchanged) and sends each change to every
peer, asynchronously; a node that starts asks a peer for everything it has.

What that costs is the lesson:

- every node holds every session, so memory is spent once per node;
- a change reaches the peers a moment later (plus ``REPLICATION_DELAY_MS``),
  and in that window a request on another node does not know it: a login
  followed at once by a request elsewhere can get 401, and a code can be
  judged on a node that has not heard of it;
- the rules that read and then write (a code used once, 5 tries) hold on
  each node, not across them: two nodes may each accept the same code if
  both are asked before either hears from the other.

Changes go as JSON over HTTP, ``POST /internal/replication``, each carrying
the key derived from ``SECRET_KEY`` (nginx refuses the path too).  What is
sent is the entry's state after the write (value and deadline), not the
operation, so the writes of one event-loop tick to one key go as one, and a
change that arrives twice does no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from ..models import UserDTO
from .base import Limits
from .memory_store import MemorySessionStore, _Session

log = logging.getLogger(__name__)

REPLICATION_PATH = "/internal/replication"
PEER_KEY_HEADER = "X-Replication-Key"
_PEER_TIMEOUT = aiohttp.ClientTimeout(total=2)
_MAX_QUEUED = 10_000  # batches waiting for one peer; past that they are dropped

Change = list[Any]  # [key, encoded value or None, deadline or None]


def peer_key(secret_key: str) -> str:
    """What a peer shows to be one: derived from SECRET_KEY, never the key itself."""
    return hmac.new(secret_key.encode(), b"session replication", hashlib.sha256).hexdigest()


def encode(value: Any) -> Any:
    if isinstance(value, _Session):
        return {"session": {**value.user.to_json(), "exp": value.expires_at}}
    return {"v": value}


def decode(obj: Any) -> Any:
    if not isinstance(obj, dict):
        raise ValueError("a value must be an object")
    try:
        if "session" in obj:
            s = obj["session"]
            user = UserDTO(id=int(s["id"]), nick_name=str(s["nickName"]), icon=str(s["icon"]))
            return _Session(user, float(s["exp"]))
        return obj["v"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a value: {exc!r}") from None


class _Peer:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + REPLICATION_PATH
        self.queue: asyncio.Queue[tuple[float, list[Change]]] = asyncio.Queue(_MAX_QUEUED)
        self.reachable = True
        self.task: asyncio.Task[None] | None = None


class ReplicatedSessionStore(MemorySessionStore):
    kind = "replicated"

    def __init__(
        self,
        limits: Limits,
        *,
        node_name: str,
        peers: tuple[str, ...],
        secret_key: str,
        delay_ms: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(limits, clock=clock)
        self.node_name = node_name
        self._peers = [_Peer(url) for url in peers]
        self._headers = {PEER_KEY_HEADER: peer_key(secret_key)}
        self._delay = delay_ms / 1000
        self._dirty: dict[str, None] = {}  # insertion-ordered set
        self._http: aiohttp.ClientSession | None = None
        self.counts = {"batchesSent": 0, "changesSent": 0, "sendFailures": 0, "dropped": 0, "received": 0}
        self.caught_up: dict[str, Any] = {"from": None, "entries": 0}

    # --- life ---------------------------------------------------------------
    async def start(self) -> None:
        """Catch up from the first peer that answers, then start sending."""
        self._http = aiohttp.ClientSession(timeout=_PEER_TIMEOUT, headers=self._headers)
        for peer in self._peers:
            try:
                async with self._http.get(peer.url) as resp:
                    resp.raise_for_status()
                    body = await resp.json()
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.info("replication: no state from %s (%r)", peer.url, exc)
                continue
            changes = body["data"]["changes"]
            self.apply(changes)
            self.caught_up = {"from": peer.url, "entries": len(changes)}
            log.info("replication: caught up from %s: %d entries", peer.url, len(changes))
            break
        for peer in self._peers:
            peer.task = asyncio.create_task(self._send_to(peer), name=f"replicate to {peer.url}")

    async def close(self) -> None:
        """Send what is still waiting (briefly), then stop."""
        if self._dirty:
            self._flush()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                for peer in self._peers:
                    await peer.queue.join()
        for peer in self._peers:
            if peer.task is not None:
                peer.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await peer.task
        if self._http is not None:
            await self._http.close()

    # --- out --------------------------------------------------------------------
    def _changed(self, key: str) -> None:
        if not self._peers:
            return
        if not self._dirty:
            # After every callback already due: the other writes of this
            # tick join the batch.
            asyncio.get_running_loop().call_soon(self._flush)
        self._dirty[key] = None

    def _flush(self) -> None:
        keys, self._dirty = list(self._dirty), {}
        if not keys:
            return
        now = self._clock()
        changes: list[Change] = []
        for key in keys:
            entry = self._data.get(key)
            if entry is None or entry.deadline <= now:
                changes.append([key, None, None])
            else:
                changes.append([key, encode(entry.value), entry.deadline])
        due = time.monotonic() + self._delay
        for peer in self._peers:
            try:
                peer.queue.put_nowait((due, changes))
            except asyncio.QueueFull:
                self.counts["dropped"] += 1

    async def _send_to(self, peer: _Peer) -> None:
        assert self._http is not None
        while True:
            due, changes = await peer.queue.get()
            taken = 1
            # Batches already due go together, in order.
            while not peer.queue.empty() and len(changes) < 5_000:
                more_due, more = peer.queue.get_nowait()
                changes = changes + more
                due = max(due, more_due)
                taken += 1
            try:
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                await self._post(peer, changes)
            finally:
                for _ in range(taken):
                    peer.queue.task_done()

    async def _post(self, peer: _Peer, changes: list[Change]) -> None:
        assert self._http is not None
        try:
            async with self._http.post(peer.url, json={"from": self.node_name, "changes": changes}) as resp:
                resp.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # A peer that is down catches up from a peer when it starts;
            # what it misses while up but unreachable is lost to it.
            self.counts["sendFailures"] += 1
            if peer.reachable:
                log.warning("replication: %s unreachable: %r", peer.url, exc)
            peer.reachable = False
            return
        if not peer.reachable:
            log.info("replication: %s reachable again", peer.url)
        peer.reachable = True
        self.counts["batchesSent"] += 1
        self.counts["changesSent"] += len(changes)

    # --- in ---------------------------------------------------------------------
    def apply(self, changes: list[Change]) -> None:
        """Changes from a peer, or a peer's whole state: validated first,
        then applied in order, never sent on."""
        decoded: list[tuple[str, Any, float | None]] = []
        for change in changes:
            if not (isinstance(change, list) and len(change) == 3 and isinstance(change[0], str)):
                raise ValueError("each change is [key, value, deadline]")
            key, value, deadline = change
            if deadline is None:
                decoded.append((key, None, None))
            elif isinstance(deadline, int | float):
                decoded.append((key, decode(value), float(deadline)))
            else:
                raise ValueError("a deadline is a number or null")
        for key, value, deadline in decoded:
            self.restore(key, value, deadline)
        self.counts["received"] += len(decoded)

    def state(self) -> list[Change]:
        return [[key, encode(value), deadline] for key, value, deadline in self.entries()]

    def stats(self) -> dict[str, Any]:
        return {
            **super().stats(),
            "replication": {
                **self.counts,
                "peers": {p.url: p.reachable for p in self._peers},
                "caughtUp": self.caught_up,
            },
        }
