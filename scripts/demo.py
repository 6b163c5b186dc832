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
import sys
import time
from typing import Any

import aiohttp

from node.routes import PATHS
from scripts.cluster import ClusterConfig, up
from scripts.cluster import colour as paint
from scripts.lab.journey import new_phone
from scripts.lab.throwaway import throwaway


class Story:
    """Walks the steps on one cluster and remembers what each step showed."""

    def __init__(self, cfg: ClusterConfig, http: aiohttp.ClientSession, pace: float) -> None:
        self.cfg = cfg
        self.http = http
        self.pace = pace
        # step name -> did it work; the summary lines them up by name.
        self.outcomes: dict[str, bool] = {}

    async def call(self, node: int, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        async with self.http.request(method, self.cfg.node_url(node) + path, **kwargs) as resp:
            return resp.status, await resp.json()

    def step(self, text: str) -> None:
        print(f"\n{paint('1', '▶ ' + text)}", flush=True)
        if self.pace:
            time.sleep(self.pace)  # reading time for a person watching, nothing else

    def saw(self, what: str, ok: bool, why: str, *, step: str | None = None) -> None:
        mark = paint("32", "✔") if ok else paint("31", "✘")
        print(f"  {mark} {what}\n    {paint('2', why)}", flush=True)
        if step is not None:
            self.outcomes[step] = ok

    async def walk(self) -> None:
        store = self.cfg.session_store
        where = "in its own memory" if store == "memory" else "in Redis, which every node shares"
        held = "in Redis" if store == "redis" else "in its memory"
        phone = new_phone()

        self.step(f"The user asks for a code. nginx sends the request to node1. (phone {phone})")
        await self.call(1, "POST", PATHS["user.code"], params={"phone": phone})
        _, sms = await self.call(1, "GET", PATHS["dev.sms.latest"], params={"phone": phone})
        code = sms["data"]["code"]
        self.saw(
            f"node1 stored code {code} {where}, and the phone got it", True, f"key login:code:{{{phone}}}"
        )

        self.step("The user logs in with that code. Round robin: this request goes to node2.")
        form = {"phone": phone, "code": code}
        status, body = await self.call(2, "POST", PATHS["user.login"], json=form)
        token = body.get("data") if status == 200 else None
        if token:
            why = "it read the code node1 stored in Redis"
            self.saw("node2 accepted the code and logged the user in", True, why, step="login elsewhere")
        else:
            why = "node2's memory holds no code for this phone: node1 has it"
            self.saw(f"node2 said: {body['errorMsg']!r} (验证码错误)", False, why, step="login elsewhere")
            self.step("The user tries again, and this time the login lands on node1, where the code is.")
            _, body = await self.call(1, "POST", PATHS["user.login"], json=form)
            token = body["data"]
            self.saw("node1 accepted it: the code was right all along", True, "only node1 could check it")

        self.step("Logged in, the user opens their page. Round robin: node1, node2, node3.")
        for node in range(1, self.cfg.nodes + 1):
            status, body = await self.call(node, "GET", PATHS["user.me"], headers={"authorization": token})
            if status == 200:
                what, why = (
                    f"node{node}: 200, the user is {body['data']['nickName']}",
                    f"the session is {held}",
                )
            else:
                what = f"node{node}: {status}, {body['errorMsg']!r}"
                why = f"its memory holds no session for this token: to node{node} the user is a stranger"
            self.saw(what, status == 200, why, step=f"page on node{node}")

        self.step("The user logs out on node2, then comes back to node1.")
        status, _ = await self.call(2, "POST", PATHS["user.logout"], headers={"authorization": token})
        again, _ = await self.call(1, "GET", PATHS["user.me"], headers={"authorization": token})
        if status == 200 and again == 401:
            what, why = (
                "logged out on node2, and node1 knows it at once (401)",
                "the session was deleted in Redis",
            )
        else:
            what = f"node2 could not log the user out ({status}); node1 still says {again}"
            why = "the session lives in node1's memory, out of node2's reach"
        self.saw(what, status == 200 and again == 401, why, step="logout seen")


STEPS = {
    "login elsewhere": "code sent via node1, login via node2",
    "page on node1": "user page on node1",
    "page on node2": "user page on node2",
    "page on node3": "user page on node3",
    "logout seen": "logout on node2 seen by node1",
}


def summary(results: dict[str, dict[str, bool]]) -> None:
    print("\n" + paint("1", "Side by side"))
    print(f"  {'step':<40} {'memory':>8} {'redis':>8}")
    for step, label in STEPS.items():
        cells = [
            paint("32", "   works") if results[s][step] else paint("31", "   fails")
            for s in ("memory", "redis")
        ]
        print(f"  {label:<40} {cells[0]} {cells[1]}")
    print(
        "\n  In memory each node sees only what it stored itself, so behind round robin a code is\n"
        "  'wrong' and a logged-in user a stranger on most requests. With Redis every node reads\n"
        "  the same store: the fix the seed course teaches.\n"
        "  The other answers, sticky sessions and session replication, are run and measured\n"
        "  side by side by `make compare`."
    )


def run(pace: float) -> int:
    results: dict[str, dict[str, bool]] = {}
    print(paint("1;35", "The cluster session-sharing problem, and its fix (集群 session 共享问题)"))
    print("Starting a throwaway cluster: 3 nodes behind nginx, sessions in each node's memory")
    with throwaway("memory", nodes=3, name="demo") as cfg:
        for store, banner in (
            ("memory", "\nSESSION_STORE=memory: each node is a Tomcat with its own HttpSession"),
            ("redis", "\nNow the same cluster keeps sessions in Redis (用 Redis 代替 session)…"),
        ):
            if store != cfg.session_store:
                cfg.session_store = store
                up(cfg, quiet=True)  # the nodes restart, nothing else does
            print(paint("1;35", banner))
            print(f"Strategy: {cfg.strategy}")
            results[store] = asyncio.run(_walk(cfg, pace))
    summary(results)
    return 0


async def _walk(cfg: ClusterConfig, pace: float) -> dict[str, bool]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        story = Story(cfg, http, pace)
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
    return run(args.pace)


if __name__ == "__main__":
    sys.exit(main())
