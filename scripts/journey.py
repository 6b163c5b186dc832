"""A user's login, as the scripts (bench, compare, failover) do it: ask for
a code, read it from the outbox (the phone), log in with it; and the phones
that every script, the locustfile and the tests draw."""

from __future__ import annotations

import itertools
import secrets

import aiohttp

from node.routes import PATHS

_PHONES = itertools.count(secrets.randbelow(10**8))


def new_phone(prefix: str = "139") -> str:
    """A valid phone this process has not handed out before: ``prefix`` and
    8 digits, consecutive from a random start.  Not 8 random digits each
    time: thousands of logins in one run (make bench, a fault test's 2,500)
    would then draw one phone twice in a few runs out of a hundred, and the
    send interval refuses the second as the same person asking again (429)."""
    return prefix + f"{next(_PHONES) % 10**8:08d}"


async def log_in(http: aiohttp.ClientSession, base: str) -> str:
    """Log in a new user through ``base`` (a node, or nginx's /api); the token."""
    phone = new_phone()
    async with http.post(base + PATHS["user.code"], params={"phone": phone}) as resp:
        resp.raise_for_status()
    async with http.get(base + PATHS["dev.sms.latest"], params={"phone": phone}) as resp:
        resp.raise_for_status()
        code = (await resp.json())["data"]["code"]
    async with http.post(base + PATHS["user.login"], json={"phone": phone, "code": code}) as resp:
        resp.raise_for_status()
        return str((await resp.json())["data"])
