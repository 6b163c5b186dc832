"""Session replication: the answer the seeds turn down, built so it can be
measured (Tomcat's DeltaManager).  Every node keeps every entry of the
in-process backends, codes and sessions, in its own :class:`ReplicatedDict`
and sends each change to every peer; a node that starts asks a peer for
everything it has.  Its costs are the lesson: memory once per node, a
window in which a peer does not know a change yet, and rules that read then
write (a code used once, 5 tries) that hold per node only.  docs/ tells the
protocol: JSON batches over ``POST /internal/replication`` with the peer
key, each change an entry's state after the write with a version (writer's
clock, then name) so a late change never undoes a later one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from ..models import UserDTO
from ..tokens import same_mac
from .memory import Ended, Pending, Session
from .ttl_dict import TTLDict

log = logging.getLogger(__name__)

REPLICATION_PATH = "/internal/replication"
PEER_KEY_HEADER = "X-Replication-Key"
_SEND_TIMEOUT = aiohttp.ClientTimeout(total=2)
_CATCH_UP_TIMEOUT = aiohttp.ClientTimeout(total=10)
_MAX_QUEUED = 10_000  # batches waiting for one peer; past that they are dropped
_RETRY_FOR = 10.0  # seconds a peer may refuse before its batches are dropped
_FORGET_DELETIONS_AFTER = 600.0
_TOUCH = {"touch": True}  # a change's value that means: move the deadline only

# [key, value or None (deleted) or _TOUCH, deadline or None, [time, node]]
Change = list[Any]
Version = tuple[float, str]


def peer_key(secret_key: str) -> str:
    """What a peer shows to be one: derived from SECRET_KEY, never the key itself."""
    return hmac.new(secret_key.encode(), b"session replication", hashlib.sha256).hexdigest()


def encode(value: Any) -> Any:
    if isinstance(value, Session):
        return {"session": {**value.user.to_json(), "exp": value.expires_at, "row": value.row}}
    if isinstance(value, Ended):
        return {"ended": value.row}
    if isinstance(value, Pending):
        return {"pending": value.fields}
    return {"v": value}


def decode(obj: Any) -> Any:
    if not isinstance(obj, dict):
        raise ValueError("a value must be an object")
    try:
        if "session" in obj:
            s = obj["session"]
            user = UserDTO(id=int(s["id"]), nick_name=str(s["nickName"]), icon=str(s["icon"]))
            return Session(user, float(s["exp"]), int(s.get("row", 0)))
        if "ended" in obj:
            return Ended(int(obj["ended"]))
        if "pending" in obj:
            return Pending({str(k): str(v) for k, v in dict(obj["pending"]).items()})
        return obj["v"]
    except (KeyError, TypeError, OverflowError) as exc:
        raise ValueError(f"not a value: {exc!r}") from None


class _Peer:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/") + REPLICATION_PATH
        self.queue: asyncio.Queue[tuple[float, list[Change]]] = asyncio.Queue(_MAX_QUEUED)
        self.refusing_since: float | None = None
        self.task: asyncio.Task[None] | None = None


class ReplicatedDict(TTLDict):
    kind = "replicated"

    def __init__(
        self,
        *,
        node_name: str,
        peers: tuple[str, ...],
        secret_key: str,
        delay_ms: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        self.node_name = node_name
        self._peers = [_Peer(url) for url in peers]
        self._key = peer_key(secret_key)
        self._headers = {PEER_KEY_HEADER: self._key}
        self._delay = delay_ms / 1000
        self._dirty: dict[str, bool] = {}  # key -> written (True) or only touched
        # The version of the last write applied to each key, deletions
        # included, with how long it must be remembered.
        self._versions: dict[str, tuple[Version, float]] = {}
        self._http: aiohttp.ClientSession | None = None
        self.counts = {"batchesSent": 0, "changesSent": 0, "retries": 0, "dropped": 0, "received": 0}
        self.caught_up: dict[str, Any] = {"from": None, "entries": 0}

    # --- life ---------------------------------------------------------------
    async def start(self) -> None:
        """Catch up from the first peer that answers, then start sending."""
        self._http = aiohttp.ClientSession(timeout=_SEND_TIMEOUT, headers=self._headers)
        for peer in self._peers:
            try:
                async with self._http.get(peer.url, timeout=_CATCH_UP_TIMEOUT) as resp:
                    resp.raise_for_status()
                    changes = (await resp.json())["data"]["changes"]
                    self.apply(changes)
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError) as exc:
                log.info("replication: no state from %s (%r)", peer.url, exc)
                continue
            self.caught_up = {"from": peer.url, "entries": len(changes)}
            log.info("replication: caught up from %s: %d entries", peer.url, len(changes))
            break
        else:
            if self._peers:
                log.warning("replication: no peer gave its state: starting empty")
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
        tasks = [peer.task for peer in self._peers if peer.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    # --- out --------------------------------------------------------------------
    def changed(self, key: str) -> None:
        # Remembered even without peers: the state a peer asks for carries it.
        self._remember(key, (self.clock(), self.node_name))
        if self._peers:
            self._mark(key, written=True)

    def touched(self, key: str) -> None:
        if self._peers:
            self._mark(key, written=False)

    def _mark(self, key: str, *, written: bool) -> None:
        if not self._dirty:
            # After every callback already due: the other writes of this
            # tick join the batch.
            asyncio.get_running_loop().call_soon(self._flush)
        self._dirty[key] = self._dirty.get(key, False) or written

    def _remember(self, key: str, version: Version) -> None:
        entry = self._data.get(key)
        # A deletion is remembered for as long as a change older than it
        # could plausibly still arrive (batches are retried for seconds).
        keep = entry.deadline if entry is not None else self.clock() + _FORGET_DELETIONS_AFTER
        self._versions[key] = (version, keep)
        if len(self._versions) > 2 * len(self._data) + 10_000:
            now = self.clock()
            self._versions = {k: v for k, v in self._versions.items() if v[1] > now or k in self._data}

    def _flush(self) -> None:
        dirty, self._dirty = self._dirty, {}
        if not dirty:
            return
        now = self.clock()
        changes: list[Change] = []
        for key, written in dirty.items():
            entry = self._data.get(key)
            alive = entry is not None and entry.deadline > now
            if written:
                version = list(self._versions[key][0])
                if entry is not None and alive:
                    changes.append([key, encode(entry.value), entry.deadline, version])
                else:
                    changes.append([key, None, None, version])
            elif entry is not None and alive:
                changes.append([key, _TOUCH, entry.deadline, None])
        due = time.monotonic() + self._delay
        for peer in self._peers:
            try:
                peer.queue.put_nowait((due, changes))
            except asyncio.QueueFull:
                self.counts["dropped"] += 1

    async def _send_to(self, peer: _Peer) -> None:
        while True:
            due, changes = await peer.queue.get()
            taken = 1
            # Batches already waiting go together, in order.
            while not peer.queue.empty() and len(changes) < 5_000:
                more_due, more = peer.queue.get_nowait()
                changes = changes + more
                due = max(due, more_due)
                taken += 1
            try:
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                await self._deliver(peer, changes)
            except asyncio.CancelledError:
                raise
            except Exception:  # never let one batch end the sending for good
                log.exception("replication: sending to %s failed", peer.url)
                self.counts["dropped"] += 1
            finally:
                for _ in range(taken):
                    peer.queue.task_done()

    async def _deliver(self, peer: _Peer, changes: list[Change]) -> None:
        """Send, retrying while the peer has refused for less than
        _RETRY_FOR (a restart); past that, drop (it catches up when it starts)."""
        assert self._http is not None
        backoff = 0.05
        while True:
            try:
                async with self._http.post(
                    peer.url, json={"from": self.node_name, "changes": changes}
                ) as resp:
                    resp.raise_for_status()
            except (aiohttp.ClientError, TimeoutError) as exc:
                now = time.monotonic()
                if peer.refusing_since is None:
                    log.warning("replication: %s unreachable: %r", peer.url, exc)
                    peer.refusing_since = now
                if now - peer.refusing_since > _RETRY_FOR:
                    self.counts["dropped"] += 1
                    return
                self.counts["retries"] += 1
                await asyncio.sleep(backoff)
                backoff = min(1.0, backoff * 2)
                continue
            if peer.refusing_since is not None:
                log.info("replication: %s reachable again", peer.url)
            peer.refusing_since = None
            self.counts["batchesSent"] += 1
            self.counts["changesSent"] += len(changes)
            return

    # --- in ---------------------------------------------------------------------
    def is_peer(self, key: str) -> bool:
        """Whether ``key`` (a request's PEER_KEY_HEADER) is the cluster's peer key."""
        return same_mac(key, self._key)

    def apply(self, changes: list[Change]) -> None:
        """Changes from a peer, or a peer's whole state: all validated first,
        then each applied if it is newer than what this copy has, never sent on."""
        parsed = [_parse(change) for change in changes]
        for key, value, deadline, version in parsed:
            if version is None:  # a touch
                if deadline is not None:
                    self.extend(key, deadline)
                continue
            known = self._versions.get(key)
            ended = _ended(self.get(key), value)
            if ended is False or (ended is None and known is not None and known[0] >= version):
                continue  # older than what this copy has: a late arrival
            self.restore(key, value, deadline)
            self._remember(key, version if known is None else max(known[0], version))
        self.counts["received"] += len(parsed)

    def state(self) -> list[Change]:
        return [
            [key, encode(value), deadline, list(self._versions[key][0])]
            for key, value, deadline in self.entries()
        ]

    def stats(self) -> dict[str, Any]:
        return {
            "replication": {
                **self.counts,
                "peers": {p.url: p.refusing_since is None for p in self._peers},
                "caughtUp": self.caught_up,
            },
        }


def _ended(here: Any, arriving: Any) -> bool | None:
    """Whether a logout-all's mark decides between a session and a mark,
    whichever was written later: True, ``arriving`` wins; False, ``here``
    does; None, the later write does.  A login whose row a logout-all ended
    may store its session on one node after the mark was written on
    another: a mark beats the session of its row (or an earlier one)."""
    if isinstance(arriving, Ended) and isinstance(here, Session):
        return arriving.refuses(here.row) or None
    if isinstance(arriving, Session) and isinstance(here, Ended):
        return False if here.refuses(arriving.row) else None
    return None


def _parse(change: Any) -> tuple[str, Any, float | None, Version | None]:
    if not (isinstance(change, list) and len(change) == 4 and isinstance(change[0], str)):
        raise ValueError("each change is [key, value, deadline, version]")
    key, value, deadline, version = change
    if deadline is not None and not (isinstance(deadline, int | float) and math.isfinite(deadline)):
        raise ValueError("a deadline is a finite number or null")
    if version is None:
        if value != _TOUCH or deadline is None:
            raise ValueError("a change without a version is a touch with a deadline")
        return key, None, float(deadline), None
    if not (
        isinstance(version, list)
        and len(version) == 2
        and isinstance(version[0], int | float)
        and math.isfinite(version[0])
        and isinstance(version[1], str)
    ):
        raise ValueError("a version is [time, node]")
    decoded = None if value is None else decode(value)
    return key, decoded, None if deadline is None else float(deadline), (float(version[0]), version[1])
