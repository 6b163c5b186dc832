"""What every part of the launcher shares: the error it raises, and how it waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class LaunchError(RuntimeError):
    """The cluster could not be started as asked; the message says why."""


async def until(probe: Callable[[], Awaitable[bool]], wait: float, failure: Callable[[], str]) -> float:
    """Poll ``probe`` every 50 ms until it returns True, and return how many
    seconds that took; after ``wait`` seconds, fail with ``failure()``
    (called then, so it can say what was seen)."""
    started = time.monotonic()
    while not await probe():
        if time.monotonic() > started + wait:
            raise LaunchError(failure())
        await asyncio.sleep(0.05)
    return time.monotonic() - started
