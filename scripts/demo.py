"""`make demo`: the seed's story told in the terminal, bug first, then the fix.

A throwaway cluster (temporary dir, free ports on 127.0.0.1) starts with
each node keeping sessions in its own memory; the story is walked step by
step, each request sent to a named node.  Then the same cluster is switched
to Redis and the same steps are walked again.  A summary puts both side by
side; the cluster is removed at the end.  Under a minute, no input needed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

import aiohttp

from node.routes import PATHS
from scripts.cluster import ClusterConfig, up
from scripts.cluster import colour as paint
from scripts.lab.demo_text import SAY
from scripts.lab.journey import new_phone
from scripts.lab.language import Lang, lang_from, pad
from scripts.lab.throwaway import throwaway


class Story:
    """Walks the steps on one cluster and remembers what each step showed."""

    def __init__(self, cfg: ClusterConfig, http: aiohttp.ClientSession, pace: float, lang: Lang) -> None:
        self.cfg = cfg
        self.http = http
        self.pace = pace
        self.lang = lang
        # step name -> did it work; the summary lines them up by name.
        self.outcomes: dict[str, bool] = {}

    def t(self, key: str, **values: Any) -> str:
        return SAY[self.lang][key].format(**values)

    async def call(self, node: int, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        # The refusals in the story's language (node/i18n.py).
        headers = {"Accept-Language": "zh-CN" if self.lang == "zh" else "en", **kwargs.pop("headers", {})}
        async with self.http.request(
            method, self.cfg.node_url(node) + path, headers=headers, **kwargs
        ) as resp:
            return resp.status, await resp.json()

    def step(self, key: str, **values: Any) -> None:
        print(f"\n{paint('1', '▶ ' + self.t(key, **values))}", flush=True)
        if self.pace:
            time.sleep(self.pace)  # reading time for a person watching, nothing else

    def saw(self, what: str, ok: bool, why: str, *, step: str | None = None) -> None:
        mark = paint("32", "✔") if ok else paint("31", "✘")
        print(f"  {mark} {what}\n    {paint('2', why)}", flush=True)
        if step is not None:
            self.outcomes[step] = ok

    async def walk(self) -> None:
        store = self.cfg.session_store
        where = self.t("where.memory" if store == "memory" else "where.redis")
        held = self.t("held.redis" if store == "redis" else "held.memory")
        phone = new_phone()

        self.step("ask", phone=phone)
        await self.call(1, "POST", PATHS["user.code"], params={"phone": phone})
        _, sms = await self.call(1, "GET", PATHS["dev.sms.latest"], params={"phone": phone})
        code = sms["data"]["code"]
        self.saw(self.t("stored", code=code, where=where), True, f"key login:code:{{{phone}}}")

        self.step("login")
        form = {"phone": phone, "code": code}
        status, body = await self.call(2, "POST", PATHS["user.login"], json=form)
        token = body.get("data") if status == 200 else None
        if token:
            self.saw(self.t("login.ok"), True, self.t("login.ok.why"), step="login elsewhere")
        else:
            bad = self.t("login.bad", message=body["errorMsg"])
            self.saw(bad, False, self.t("login.bad.why"), step="login elsewhere")
            self.step("retry")
            _, body = await self.call(1, "POST", PATHS["user.login"], json=form)
            token = body["data"]
            self.saw(self.t("retry.ok"), True, self.t("retry.ok.why"))

        self.step("page")
        for node in range(1, self.cfg.nodes + 1):
            status, body = await self.call(node, "GET", PATHS["user.me"], headers={"authorization": token})
            if status == 200:
                what = self.t("page.ok", node=node, nick=body["data"]["nickName"])
                why = self.t("page.ok.why", held=held)
            else:
                what = self.t("page.bad", node=node, status=status, message=body["errorMsg"])
                why = self.t("page.bad.why", node=node)
            self.saw(what, status == 200, why, step=f"page on node{node}")

        self.step("logout")
        status, _ = await self.call(2, "POST", PATHS["user.logout"], headers={"authorization": token})
        again, _ = await self.call(1, "GET", PATHS["user.me"], headers={"authorization": token})
        seen = status == 200 and again == 401
        if seen:
            what, why = self.t("logout.ok"), self.t("logout.ok.why")
        else:
            what, why = self.t("logout.bad", status=status, again=again), self.t("logout.bad.why")
        self.saw(what, seen, why, step="logout seen")


STEPS = ("login elsewhere", "page on node1", "page on node2", "page on node3", "logout seen")


def summary(results: dict[str, dict[str, bool]], lang: Lang) -> None:
    say = SAY[lang]
    print("\n" + paint("1", say["side"]))
    print(f"  {pad(say['step'], 40)} {'memory':>8} {'redis':>8}")
    for step in STEPS:
        cells = [
            paint("32", pad(say["works"], 8, right=True))
            if results[s][step]
            else paint("31", pad(say["fails"], 8, right=True))
            for s in ("memory", "redis")
        ]
        print(f"  {pad(say['step.' + step], 40)} {cells[0]} {cells[1]}")
    print("\n" + "\n".join("  " + line for line in say["moral"].splitlines()))


def run(pace: float, lang: Lang) -> int:
    results: dict[str, dict[str, bool]] = {}
    say = SAY[lang]
    print(paint("1;35", say["title"]))
    print(say["starting"])
    with throwaway("memory", nodes=3, name="demo") as cfg:
        for store in ("memory", "redis"):
            if store != cfg.session_store:
                cfg.session_store = store
                up(cfg, quiet=True)  # the nodes restart, nothing else does
            print(paint("1;35", "\n" + say[f"banner.{store}"]))
            print(say["strategy"].format(strategy=cfg.strategy))
            results[store] = asyncio.run(_walk(cfg, pace, lang))
    summary(results, lang)
    return 0


async def _walk(cfg: ClusterConfig, pace: float, lang: Lang) -> dict[str, bool]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        story = Story(cfg, http, pace, lang)
        await story.walk()
        return story.outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--pace",
        type=float,
        default=0.8 if sys.stdout.isatty() else 0.0,
        help="seconds of reading time per step (0 when not on a terminal)",
    )
    args = parser.parse_args(argv)
    try:
        lang = lang_from(os.environ)
    except ValueError as exc:
        parser.error(str(exc))
    return run(args.pace, lang)


if __name__ == "__main__":
    sys.exit(main())
