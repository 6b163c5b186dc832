"""A user's login, as the scripts, the locustfile and the tests do it: ask
for a code, read it from the outbox (the phone), log in with it."""

from __future__ import annotations

import dataclasses
import itertools
import secrets
from typing import Any, NamedTuple

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


async def walk_login(http: aiohttp.ClientSession, base: str, phone: str | None = None) -> Login:
    """Send a code, read it from the phone, log in with it, all through
    ``base`` (a node, or nginx's /api); each step's answer kept."""
    login = Login(phone or new_phone())
    login.steps["code"] = await send_code(http, base, login.phone)
    if login.steps["code"].status != 200:
        return login
    login.steps["sms"] = sms = await read_sms(http, base, login.phone)
    if sms.status != 200:
        return login
    login.steps["login"] = await submit_code(http, base, login.phone, str(sms.body["data"]["code"]))
    return login


async def log_in(http: aiohttp.ClientSession, base: str) -> str:
    """Log in a new user through ``base``; the token."""
    return (await walk_login(http, base)).token


async def log_in_lean(conn: LeanConnection) -> str:
    """The same login over a :class:`LeanConnection` (the login-rate
    benchmark's client): code, SMS, login; the token."""
    phone = new_phone()
    steps: dict[str, tuple[int, Any]] = {}
    steps["code"] = await conn.request("POST", f"{PATHS['user.code']}?phone={phone}")
    if steps["code"][0] == 200:
        steps["sms"] = await conn.request("GET", f"{PATHS['dev.sms.latest']}?phone={phone}")
    if steps.get("sms", (0,))[0] == 200:
        code = str(steps["sms"][1]["data"]["code"])
        steps["login"] = await conn.request("POST", PATHS["user.login"], {"phone": phone, "code": code})
    for name in ("code", "sms", "login"):
        status, body = steps.get(name, (0, None))
        if status != 200 or not body.get("success"):
            raise LoginFailed(f"the login's {name} step was refused: {status} {body}")
    return str(steps["login"][1]["data"])
