"""A dict whose entries expire, as Redis keys do: the in-process stores'
memory.  Expired entries are dropped when read and, so that abandoned ones
do not pile up, swept on every write from a heap of deadlines.  No method
awaits, so on one event loop each is atomic, as a Redis script is."""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Iterator
from typing import Any


class _Entry:
    __slots__ = ("deadline", "queued", "value")

    def __init__(self, value: Any, deadline: float) -> None:
        self.value = value
        self.deadline = deadline
        # The deadline of this entry's one live place in the sweep heap;
        # heap items with any other deadline are leftovers, dropped when due.
        self.queued = deadline


class TTLDict:
    kind = "memory"

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._data: dict[str, _Entry] = {}
        self._deadlines: list[tuple[float, str]] = []

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._data))

    # --- hooks (replication) -------------------------------------------------
    def changed(self, key: str) -> None:
        """Called after every write to ``key`` (not after expiry, which every
        copy does by itself at the same deadline)."""

    def touched(self, key: str) -> None:
        """Called after ``key``'s deadline alone moved (a session refreshed),
        if ``hears_touches``."""

    # Whether touched() is overridden: a session read, on every request,
    # makes no call that does nothing.
    hears_touches = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.hears_touches = cls.touched is not TTLDict.touched

    async def start(self) -> None:
        """Before the node serves anyone (a replica catches up)."""

    async def close(self) -> None:
        """When the node stops (a replica sends what is left)."""

    def stats(self) -> dict[str, Any]:
        return {}

    # --- reads ---------------------------------------------------------------
    def get(self, key: str) -> Any:
        entry = self.entry(key, self.clock())
        return None if entry is None else entry.value

    def entry(self, key: str, now: float) -> _Entry | None:
        """``key``'s entry, if it is there and alive at ``now``: its
        ``deadline`` may be moved, then :meth:`touched` called."""
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.deadline <= now:
            del self._data[key]
            return None
        return entry

    def ttl(self, key: str) -> float:
        """Seconds left for ``key``; 0 if it is not there."""
        entry = self._data.get(key)
        return 0.0 if entry is None else max(0.0, entry.deadline - self.clock())

    def deadline(self, key: str) -> float | None:
        entry = self._data.get(key)
        return None if entry is None else entry.deadline

    def entries(self) -> list[tuple[str, Any, float]]:
        """Every live entry: (key, value, deadline)."""
        now = self.clock()
        return [(key, e.value, e.deadline) for key, e in list(self._data.items()) if e.deadline > now]

    # --- writes --------------------------------------------------------------
    def put(self, key: str, value: Any, ttl: float) -> None:
        now = self.clock()
        self._sweep(now)
        deadline = now + ttl
        self._data[key] = _Entry(value, deadline)
        heapq.heappush(self._deadlines, (deadline, key))
        self.changed(key)

    def drop(self, key: str) -> bool:
        """Delete ``key``; whether it was there."""
        entry = self._data.pop(key, None)
        self.changed(key)
        return entry is not None and entry.deadline > self.clock()  # as Redis's DEL counts

    def expire(self, key: str) -> None:
        """Forget an entry that ran out (no hook: every copy expires it alike)."""
        self._data.pop(key, None)

    def restore(self, key: str, value: Any, deadline: float | None) -> None:
        """Set (or, with no deadline, delete) an entry as another copy has
        it, without the write hook: what arrives is not sent on."""
        now = self.clock()
        if deadline is None or deadline <= now:
            self._data.pop(key, None)
            return
        self._sweep(now)
        entry = self._data.get(key)
        if entry is None:
            self._data[key] = _Entry(value, deadline)
            heapq.heappush(self._deadlines, (deadline, key))
        else:
            entry.value = value
            self._move(entry, key, deadline)

    def extend(self, key: str, deadline: float) -> None:
        """Push a live entry's deadline to ``deadline`` (never back, never
        creating it): a refresh another copy saw."""
        entry = self._data.get(key)
        if entry is not None and entry.deadline > self.clock() and deadline > entry.deadline:
            self._move(entry, key, deadline)

    def _move(self, entry: _Entry, key: str, deadline: float) -> None:
        entry.deadline = deadline
        # Only an earlier deadline needs a new place in the heap: the sweep
        # re-queues an entry whose deadline moved later when its place comes up.
        if deadline < entry.queued:
            entry.queued = deadline
            heapq.heappush(self._deadlines, (deadline, key))

    def _sweep(self, now: float) -> None:
        while self._deadlines and self._deadlines[0][0] <= now:
            queued, key = heapq.heappop(self._deadlines)
            entry = self._data.get(key)
            if entry is None or entry.queued != queued:
                continue
            if entry.deadline <= now:
                del self._data[key]
            else:
                entry.queued = entry.deadline
                heapq.heappush(self._deadlines, (entry.deadline, key))
