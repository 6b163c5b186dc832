"""A user's login, as the scripts, the locustfile and the tests do it: ask
for a code, read it from the outbox (the phone), log in with it."""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from urllib.parse import quote

import aiohttp

from node.routes import PATHS
from scripts.lab.lean_http import LeanConnection

_PHONES = itertools.count(secrets.randbelow(10**8))


def new_phone(prefix: str = "139") -> str:
    """A valid phone this process has not handed out before: ``prefix`` and
    8 digits, consecutive from a random start.  Random digits each time
    would, over thousands of logins, draw one phone twice, and the send
    interval refuses the second (429)."""
    return prefix + f"{next(_PHONES) % 10**8:08d}"


class Step(NamedTuple):
    """One request's answer: status, JSON envelope, the node that answered (X-Node)."""

    status: int
    body: dict[str, Any]
    node: str


class LoginFailed(aiohttp.ClientError):
    """A step of the login was refused."""


async def call(
    http: aiohttp.ClientSession, method: str, url: str, *, token: str | None = None, **kwargs: Any
) -> Step:
    """One request, with ``token`` as the authorization header if given."""
    headers = dict(kwargs.pop("headers", {}))
    if token is not None:
        headers["authorization"] = token
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        body = await resp.json(content_type=None)
        return Step(resp.status, body, resp.headers.get("X-Node", ""))


async def send_code(http: aiohttp.ClientSession, base: str, phone: str) -> Step:
    return await call(http, "POST", base + PATHS["user.code"], params={"phone": phone})


async def read_sms(http: aiohttp.ClientSession, base: str, phone: str) -> Step:
    """The phone's last message (the outbox), asked of ``base``."""
    return await call(http, "GET", base + PATHS["dev.sms.latest"], params={"phone": phone})


async def submit_code(http: aiohttp.ClientSession, base: str, phone: str, code: str) -> Step:
    return await call(http, "POST", base + PATHS["user.login"], json={"phone": phone, "code": code})


@dataclasses.dataclass
class Login:
    """The walk-through's steps, in order; it stops at the first refused one."""

    phone: str
    steps: dict[str, Step] = dataclasses.field(default_factory=dict)  # "code", "sms", "login"

    @property
    def token(self) -> str:
        """The session token; raises :class:`LoginFailed` naming the refused step."""
        for name in ("code", "sms", "login"):
            step = self.steps.get(name)
            if step is None or step.status != 200 or not step.body.get("success"):
                raise LoginFailed(f"the login's {name} step was refused: {step}")
        return str(self.steps["login"].body["data"])


# One request of a login: (method, path and query, JSON body or None).
Ask = Callable[[str, str, Any], Awaitable[Step]]


async def _walk(ask: Ask, phone: str) -> Login:
    """Send a code, read it from the phone, log in with it; each step's
    answer kept, stopping at the first refused one."""
    login, query = Login(phone), f"?phone={quote(phone)}"
    login.steps["code"] = await ask("POST", PATHS["user.code"] + query, None)
    if login.steps["code"].status != 200:
        return login
    login.steps["sms"] = sms = await ask("GET", PATHS["dev.sms.latest"] + query, None)
    if sms.status != 200:
        return login
    code = str(sms.body["data"]["code"])
    login.steps["login"] = await ask("POST", PATHS["user.login"], {"phone": phone, "code": code})
    return login


async def walk_login(http: aiohttp.ClientSession, base: str, phone: str | None = None) -> Login:
    """A login through ``base`` (a node, or nginx's /api), each step's
    answer kept."""

    async def ask(method: str, target: str, body: Any) -> Step:
        return await call(http, method, base + target, json=body)

    return await _walk(ask, phone or new_phone())


async def log_in(http: aiohttp.ClientSession, base: str) -> str:
    """Log in a new user through ``base``; the token."""
    return (await walk_login(http, base)).token


async def log_in_lean(conn: LeanConnection) -> str:
    """The same login over a :class:`LeanConnection` (the login-rate
    benchmark's client); the token."""

    async def ask(method: str, target: str, body: Any) -> Step:
        status, answer = await conn.request(method, target, body)
        return Step(status, answer, "")

    return (await _walk(ask, new_phone())).token
