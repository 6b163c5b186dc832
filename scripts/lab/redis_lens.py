"""What the lesson shows of Redis: which keys exist, the commands that
reach a key (MONITOR), and what a session weighs in each format."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable

from node.models import UserDTO
from node.redis_client import RedisClient
from node.sessions import Policy, RedisSessionStore
from node.tokens import session_id

SESSIONS = 2000  # sessions written in each format to weigh them


async def described(redis: RedisClient, keys: list[str]) -> str:
    """Which of ``keys`` exist, with their type and seconds left."""
    found = []
    for key in keys:
        kind = str(await redis.type(key))
        if kind != "none":
            found.append(f"{shortened(key)} ({kind}, {max(0, await redis.pttl(key)) / 1000:.0f} s)")
    return ", ".join(found) or "-"


async def writes_to(redis: RedisClient, key: str, action: Awaitable[None]) -> list[str]:
    """The commands that write ``key`` (HSET, SET) or read it for a
    rewrite (a GET before a write) while ``action`` runs, as Redis's
    MONITOR saw them.  A GET its client follows with a PEXPIRE of the key
    is the request's own session read (the refresh), not the rewrite's."""
    seen: list[str] = []
    reads: dict[tuple[str, str], str] = {}  # by client: a GET not yet told apart
    # A connection of its own: MONITOR takes it over until it closes.
    async with redis.monitor() as monitor:  # type: ignore[union-attr]

        async def listen() -> None:
            async for entry in monitor.listen():
                command = entry["command"]
                name, _, rest = command.partition(" ")
                name = name.upper()
                client = (entry["client_address"], entry["client_port"])
                if not rest.startswith(key):
                    continue
                # A script's too: a rename is one (a script's commands come
                # one after the other, with no other client's between them).
                if name == "GET":
                    reads[client] = f"{name} {rest}"
                elif name == "PEXPIRE":
                    reads.pop(client, None)
                elif name in ("HSET", "SET"):
                    seen.extend(reads.values())
                    reads.clear()
                    seen.append(f"{name} {rest}")

        listener = asyncio.ensure_future(listen())
        try:
            await action
            await asyncio.sleep(0.2)  # MONITOR reports after the command ran
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
    return seen


async def used_memory(redis: RedisClient, stored_as: str) -> int:
    """Redis's used_memory grown by SESSIONS sessions stored
    ``stored_as``, written by the node's own store; removed afterwards."""
    policy = Policy(mistakes=("json-string",) if stored_as == "json" else ())
    store = RedisSessionStore(redis, policy)
    sids = [session_id(f"lesson-{stored_as}-{i}") for i in range(SESSIONS)]
    # The store writes over a connection of its own: opened before the
    # count, so that its buffers are not counted as sessions.
    await store.save_user(sids[0], UserDTO(id=10**6, nick_name="user_warm"))
    await store.end_sessions(sids[:1])
    before = (await redis.info("memory"))["used_memory"]
    # One at a time, on one connection: many at once would open connections
    # whose buffers used_memory counts too.
    for i, sid in enumerate(sids):
        await store.save_user(sid, UserDTO(id=10**6 + i, nick_name=f"user_{i:010d}"))
    after = (await redis.info("memory"))["used_memory"]
    await store.end_sessions(sids)
    return int(after - before)


@contextlib.asynccontextmanager
async def ballast(redis: RedisClient) -> AsyncIterator[None]:
    """Keys that grow Redis's key tables before the sessions are weighed, so
    that neither format is charged for the tables doubling (they double at
    powers of two: 3 x 2000 ballast + 2000 sessions stay under 8192)."""
    keys = [f"lesson:ballast:{i}" for i in range(3 * SESSIONS)]
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.set(key, "1", px=600_000)  # expiring: the table of TTLs grows too
        await pipe.execute()
    try:
        yield
    finally:
        await redis.delete(*keys)


def size(n: int) -> str:
    return f"{n / 1024:.0f} KiB"


def shortened(text: str, keep: int = 110) -> str:
    return text if len(text) <= keep else text[: keep - 1] + "…"
