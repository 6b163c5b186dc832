"""`make try`: the seed's journey against the running cluster, as a browser
would make it, through nginx: a code sent, the SMS read, the login, then
``/user/me`` on every node, and a one-line verdict naming the strategy.

A new phone every run, so it works any number of times back to back; a
refusal by a security rule (SECURITY.md) says which rule and why, and is
never taken for the bug.  In memory mode the login usually reaches another
node than the one holding the code ("wrong code"): the walk-through then
logs in on the node that holds it, straight to its port, to show the token
known there and unknown elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import aiohttp

from node.mistakes import WHAT
from node.routes import PATHS
from scripts.cluster import ClusterConfig, LaunchError, colour
from scripts.cluster.config import launcher_setting
from scripts.lab.journey import Step, call, new_phone, read_sms, send_code, submit_code
from scripts.lab.lesson import STEP_OF

ROUNDS = 2  # /user/me asked this many times a node
# What a journey that worked shows of each strategy.
WORKED = {
    "redis": "the fix: the login state is in Redis, which every node shares",
    "sticky": "every request of this client went to one node (nginx's route cookie): fine while it lives",
    "replicated": "every node holds a copy of every session (memory once a node, a change a moment late)",
}


class Refused(Exception):
    """A step was refused for a reason that is not the session bug."""


def show(number: str, what: str, step: Step, note: str = "") -> None:
    ok = step.status == 200 and step.body.get("success") is True
    mark = colour("32", "✔") if ok else colour("31", "✘")
    said = note or ("" if ok else str(step.body.get("errorMsg", "")))
    print(f"  {mark} {number:<3} {what:<36} {step.node or '-':<7} {step.status}  {said}".rstrip(), flush=True)


def refused_by_a_rule(step: Step) -> bool:
    """429: a send or login rule (or nginx's per-address limit), never the bug."""
    return step.status == 429


async def walk(cfg: ClusterConfig, http: aiohttp.ClientSession) -> str:
    """The journey; the verdict."""
    api, phone = cfg.url + "/api", new_phone()
    print(
        f"{colour('1', '==>')} make try: {cfg.strategy}, {cfg.nodes} nodes behind {cfg.url} (phone {phone})"
    )
    sent = await send_code(http, api, phone)
    show("1.", "code sent      POST /user/code", sent)
    if refused_by_a_rule(sent):
        raise Refused(f"a send rule refused the code: {sent.body.get('errorMsg')} (SECURITY.md)")
    if sent.status != 200:
        raise Refused(f"the code was not sent: {sent.status} {sent.body.get('errorMsg')}")
    sms = await read_sms(http, api, phone)
    if sms.status == 404:
        raise Refused("the SMS outbox is off (SMS_OUTBOX=off): the phone cannot be read here")
    code = str(sms.body["data"]["code"])
    show("2.", "SMS read       GET  /dev/sms/latest", sms, f"the phone got {code}, sent by {sent.node}")
    login = await submit_code(http, api, phone, code)
    show("3.", "log in         POST /user/login", login)
    if refused_by_a_rule(login):
        raise Refused(f"a login rule refused: {login.body.get('errorMsg')} (SECURITY.md)")
    missed = ""
    if login.status != 200:
        missed = (
            f"the code was on {sent.node}, the login reached {login.node}: '{login.body.get('errorMsg')}'"
        )
        print(f"      {colour('2', missed)}")
        holder = cfg.node_url(int(sent.node.removeprefix("node")))
        login = await submit_code(http, holder, phone, code)
        show("3b.", f"log in on {sent.node} (its own port)", login)
        if login.status != 200:
            raise Refused(f"the login on {sent.node} was refused too: {login.body.get('errorMsg')}")
    token = str(login.body["data"])
    known: set[str] = set()
    unknown: set[str] = set()
    for i in range(cfg.nodes * ROUNDS):
        me = await call(http, "GET", api + PATHS["user.me"], token=token)
        show(f"{4 + i}.", "who am I?      GET  /user/me", me, "" if me.status != 401 else "no session here")
        (known if me.status == 200 else unknown).add(me.node)
    return verdict(cfg, login.node, missed, known, unknown - known)


def names(nodes: set[str]) -> str:
    return ", ".join(sorted(nodes)) or "none"


def verdict(cfg: ClusterConfig, holder: str, missed: str, known: set[str], unknown: set[str]) -> str:
    """One line: the strategy, and what the journey showed of it (and the
    mistakes the cluster makes on purpose, which one journey may not show)."""
    said = _verdict(cfg, holder, missed, known, unknown)
    for name in cfg.mistakes:
        said += f"\n  MISTAKE={name}, on purpose: {WHAT[name]} (make lesson STEP={STEP_OF[name]} shows it)"
    return said


def _verdict(cfg: ClusterConfig, holder: str, missed: str, known: set[str], unknown: set[str]) -> str:
    if not missed and not unknown:
        kind = "sticky" if cfg.balance == "sticky" else cfg.session_store
        return f"{cfg.strategy}: every step worked on {names(known)}; {WORKED.get(kind, '')}."
    if not unknown:
        return f"{cfg.strategy}: logged in once the login reached {holder}; every node asked knew the user."
    lost = f"the token is known on {names(known)} and unknown on {names(unknown)}"
    if missed:
        return f"{cfg.strategy}: {missed}; logged in on {holder}, {lost}: each node's memory is its own."
    return f"{cfg.strategy}: logged in through {holder}, but {lost}."


async def run(cfg: ClusterConfig) -> int:
    # unsafe: keep cookies from 127.0.0.1 (BALANCE=sticky pins a client by one).
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=10)) as http:
        try:
            said = await walk(cfg, http)
        except Refused as exc:
            print(f"\n{colour('1;33', 'not the session bug:')} {exc}")
            return 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            why = type(exc).__name__
            print(f"\n{colour('1;31', 'error:')} the cluster at {cfg.url} does not answer ({why}): make up?")
            return 1
    print(f"\n{colour('1', 'verdict:')} {said}")
    return 0


def main() -> int:
    run_dir = Path(launcher_setting("run_dir", os.environ))
    try:
        cfg = ClusterConfig.load(run_dir)
    except LaunchError:
        print(
            f"{colour('1;31', 'error:')} no cluster in {run_dir}: start one with `make up`", file=sys.stderr
        )
        return 1
    return asyncio.run(run(cfg))


if __name__ == "__main__":
    sys.exit(main())
