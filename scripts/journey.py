"""A user's login, as the scripts (bench, compare) do it: ask for a code,
read it from the outbox (the phone), log in with it."""

from __future__ import annotations

import itertools
import secrets

import aiohttp

from node.routes import PATHS

# Consecutive numbers from a random start: thousands of logins in one run
# (make bench) never draw one phone twice, which the send interval would
# refuse (429) as the same person asking again.
_PHONES = itertools.count(secrets.randbelow(10**8))


async def log_in(http: aiohttp.ClientSession, base: str) -> str:
    """Log in a new user through ``base`` (a node, or nginx's /api); the token."""
    phone = "139" + f"{next(_PHONES) % 10**8:08d}"
    async with http.post(base + PATHS["user.code"], params={"phone": phone}) as resp:
        resp.raise_for_status()
    async with http.get(base + PATHS["dev.sms.latest"], params={"phone": phone}) as resp:
        resp.raise_for_status()
        code = (await resp.json())["data"]["code"]
    async with http.post(base + PATHS["user.login"], json={"phone": phone, "code": code}) as resp:
        resp.raise_for_status()
        return str((await resp.json())["data"])
