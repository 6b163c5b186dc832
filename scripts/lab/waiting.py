"""The one way to wait for a condition: poll it until it holds, or give up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TimedOut(RuntimeError):
    """A condition did not hold in time; the message says what was seen."""


async def until(
    probe: Callable[[], Awaitable[bool]],
    wait: float,
    failure: Callable[[], str],
    *,
    error: type[Exception] = TimedOut,
    every: float = 0.05,
) -> float:
    """Poll ``probe`` every ``every`` seconds until it returns True; the
    seconds that took.  After ``wait`` seconds, raise ``error(failure())``
    (called then, so it can say what was seen)."""
    started = time.monotonic()
    while not await probe():
        if time.monotonic() > started + wait:
            raise error(failure())
        await asyncio.sleep(every)
    return time.monotonic() - started
