"""`make lesson`: the seed's story in eight steps, each wrong turn run and
watched failing, then its fix run and watched working.

Every step runs on clusters of its own, started beside one shared Redis and
Postgres (nodes and nginx only: seconds each) and stopped at the end.  Each
step checks what it shows: a step that did not show its mistake, or whose
fix did not work, says so and the lesson fails, so a learner never takes
a step that worked by luck for the lesson.  Nothing depends on luck: a
request that round robin would send "to the next node" is sent to that
node's own port, and every wait outlasts its TTL by two requests or more.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import aiohttp

from node.mistakes import NAMES
from node.redis_client import RedisClient, open_redis
from node.routes import PATHS
from node.sessions import LOGIN_USER_KEY, phone_tag
from node.sessions.keys import FIXED_CODE_KEY, LOGIN_CODE_KEY
from node.tokens import session_id
from node.views import WRONG_CODE
from scripts.cluster import ClusterConfig, colour
from scripts.lab.journey import Step, call, new_phone, read_sms, send_code, submit_code
from scripts.lab.language import Lang, pad
from scripts.lab.lesson_clusters import REPLICATION_DELAY_MS, SHORT_TTL, STEP_CLUSTERS, LessonClusters
from scripts.lab.lesson_text import SAY, STEPS
from scripts.lab.redis_lens import SESSIONS, ballast, described, shortened, size, used_memory, writes_to
from scripts.lab.waiting import until

EVERY = 1.0  # seconds between an active user's requests: a third of the TTL
ACTIVE_FOR = 5  # seconds a user stays active: the TTL and more than half again


@dataclasses.dataclass
class Outcome:
    step: int
    shown: bool
    why: str = ""


class NotShown(Exception):
    """A step did not show what it is there to show."""


class Lesson:
    """The steps, on ``base`` (a running redis-mode cluster: the fix) and the
    clusters each step starts beside it."""

    def __init__(self, base: ClusterConfig, http: aiohttp.ClientSession, lang: Lang) -> None:
        self.base = base
        self.http = http
        self.lang = lang
        self.clusters = LessonClusters(base)

    # --- saying ----------------------------------------------------------
    def t(self, key: str, **kwargs: Any) -> str:
        return SAY[self.lang][key].format(**kwargs)

    def heading(self, n: int, of: int) -> None:
        text = STEPS[self.lang][n]
        print(f"\n{colour('1', '==> ' + self.t('step', n=n, of=of) + ' · ' + text['title'])}")
        print(f"    {colour('2', self.t('seed') + ': ' + text['seed'])}", flush=True)

    def part(self, key: str, detail: str) -> None:
        tint = "1;31" if key == "mistake" else "1;32"
        print(f"  {colour(tint, self.t(key))}  {colour('2', detail)}", flush=True)

    def show(self, what: str, step: Step | None = None, note: str = "") -> None:
        if step is None:
            print(f"    · {what}", flush=True)
            return
        good = step.status == 200 and step.body.get("success") is True
        mark = colour("32", "✔") if good else colour("31", "✘")
        said = note or ("" if good else str(step.body.get("errorMsg", "")))
        print(f"    {mark} {pad(what, 58)} {step.node or '-':<6} {step.status}  {said}".rstrip(), flush=True)

    @contextlib.asynccontextmanager
    async def redis(self) -> AsyncIterator[RedisClient]:
        async with open_redis(self.base.node_settings(), client_name="lesson") as client:
            yield client

    # --- the user's requests -------------------------------------------
    async def code(self, base: str, phone: str, who: str) -> tuple[Step, str]:
        """Ask ``base`` for a code and read it off the phone (the outbox)."""
        sent = await send_code(self.http, base, phone)
        self.show(self.t("code_sent", who=who), sent)
        if sent.status != 200:
            raise NotShown(f"the code was not sent: {sent.status} {sent.body.get('errorMsg')}")
        sms = await read_sms(self.http, base, phone)
        return sent, str(sms.body["data"]["code"])

    async def log_in(self, base: str, phone: str, code: str, what: str) -> Step:
        step = await submit_code(self.http, base, phone, code)
        self.show(what, step)
        return step

    async def me(self, base: str, token: str, what: str) -> Step:
        step = await call(self.http, "GET", base + PATHS["user.me"], token=token)
        self.show(what, step)
        return step

    async def login_user(self, cfg: ClusterConfig, who: str) -> tuple[str, str]:
        """A new user logged in through nginx; (phone, token)."""
        api, phone = cfg.url + "/api", new_phone()
        _, code = await self.code(api, phone, who)
        login = await self.log_in(api, phone, code, self.t("logs_in", who=who))
        if login.status != 200:
            raise NotShown(f"the login was refused: {login.status} {login.body.get('errorMsg')}")
        return phone, str(login.body["data"])

    # --- 1. in-process sessions ----------------------------------------------
    async def in_process(self) -> None:
        cfg = await self.clusters.get("memory")
        self.part("mistake", "SESSION_STORE=memory")
        api, phone = cfg.url + "/api", new_phone()
        sent, code = await self.code(api, phone, "A")
        holder = int(sent.node.removeprefix("node"))
        other = 2 if holder == 1 else 1
        self.show(self.t("next_node", node=f"node{other}"))
        elsewhere = await self.log_in(cfg.node_url(other), phone, code, self.t("logs_in", who="A"))
        if elsewhere.body.get("errorMsg") != WRONG_CODE:
            raise NotShown(f"a code sent through node{holder} was not wrong on node{other}: {elsewhere}")
        login = await self.log_in(cfg.node_url(holder), phone, code, self.t("holder_login", node=sent.node))
        token = str(login.body.get("data"))
        there = await self.me(cfg.node_url(holder), token, self.t("me_on", who="A", node=sent.node))
        away = await self.me(cfg.node_url(other), token, self.t("me_on", who="A", node=f"node{other}"))
        if (login.status, there.status, away.status) != (200, 200, 401):
            raise NotShown("the session was not known on its own node only")

    # --- 2. session copy -----------------------------------------------------
    async def session_copy(self) -> None:
        cfg = await self.clusters.get("replicated")
        self.part("mistake", f"SESSION_STORE=replicated REPLICATION_DELAY_MS={REPLICATION_DELAY_MS}")
        one, two = cfg.node_url(1), cfg.node_url(2)
        phone = new_phone()
        _, code = await self.code(one, phone, "A")
        login = await self.log_in(one, phone, code, self.t("logs_in", who="A") + " (node1)")
        token = str(login.body.get("data"))
        started = time.monotonic()
        now = await self.me(two, token, self.t("copy_now", node="node1", other="node2"))
        if now.status != 401:
            raise NotShown("the copy was there before its window ended")
        await until(
            lambda: self._status(two, token, 200),
            REPLICATION_DELAY_MS / 1000 + 10,
            lambda: "the copy never reached node2",
            error=NotShown,
        )
        waited = round((time.monotonic() - started) * 1000)
        await self.me(two, token, self.t("copy_later", ms=waited, other="node2"))
        users = 10
        for _ in range(users):
            phone = new_phone()
            await send_code(self.http, one, phone)
            sms = await read_sms(self.http, one, phone)
            await submit_code(self.http, one, phone, str(sms.body["data"]["code"]))
        want, counts = users + 1, [0] * cfg.nodes

        async def counted() -> bool:
            counts[:] = [await self._sessions(cfg.node_url(i)) for i in range(1, cfg.nodes + 1)]
            return all(c == want for c in counts)

        await until(
            counted,
            REPLICATION_DELAY_MS / 1000 + 10,
            lambda: f"every node should hold {want} sessions, not {counts}",
            error=NotShown,
        )
        shown = ", ".join(f"node{i} {c}" for i, c in enumerate(counts, start=1))
        self.show(self.t("copies", n=want, counts=shown, nodes=cfg.nodes))

    async def _status(self, base: str, token: str, status: int) -> bool:
        return (await call(self.http, "GET", base + PATHS["user.me"], token=token)).status == status

    async def _sessions(self, base: str) -> int:
        info = await call(self.http, "GET", base + PATHS["cluster.info"])
        return int(info.body["data"]["stats"]["sessions"])

    # --- 3. Redis ------------------------------------------------------------
    async def shared(self) -> None:
        cfg = self.base
        self.part("fix", "SESSION_STORE=redis")
        api, phone = cfg.url + "/api", new_phone()
        sent, code = await self.code(api, phone, "A")
        async with self.redis() as redis:
            self.show(self.t("redis_holds", keys=await described(redis, [LOGIN_CODE_KEY + phone_tag(phone)])))
            holder = int(sent.node.removeprefix("node"))
            other = holder % cfg.nodes + 1
            self.show(self.t("next_node", node=f"node{other}"))
            login = await self.log_in(cfg.node_url(other), phone, code, self.t("logs_in", who="A"))
            if login.status != 200:
                raise NotShown(f"a code sent through {sent.node} was refused on node{other}")
            token = str(login.body["data"])
            key = LOGIN_USER_KEY + session_id(token)
            self.show(self.t("redis_holds", keys=await described(redis, [key])))
        for i in range(1, cfg.nodes + 1):
            if (
                await self.me(cfg.node_url(i), token, self.t("me_on", who="A", node=f"node{i}"))
            ).status != 200:
                raise NotShown(f"node{i} did not know the user")

    # --- 4. one key for every code -----------------------------------------
    async def fixed_code_key(self) -> None:
        for cfg, mistake in (
            (await self.clusters.get("fixed-code-key"), True),
            (self.base, False),
        ):
            self.part("mistake" if mistake else "fix", "login:code" if mistake else "login:code:{phone}")
            api, a, b = cfg.url + "/api", new_phone(), new_phone()
            _, code_a = await self.code(api, a, "A")
            _, code_b = await self.code(api, b, "B")
            async with self.redis() as redis:
                keys = [FIXED_CODE_KEY, LOGIN_CODE_KEY + phone_tag(a), LOGIN_CODE_KEY + phone_tag(b)]
                self.show(self.t("redis_holds", keys=await described(redis, keys)))
            first = await self.log_in(api, a, code_a, self.t("logs_in", who="A"))
            second = await self.log_in(api, b, code_b, self.t("logs_in", who="B"))
            if mistake and (first.body.get("errorMsg") != WRONG_CODE or second.status != 200):
                raise NotShown("B's code did not overwrite A's")
            if not mistake and (first.status, second.status) != (200, 200):
                raise NotShown("with a key per phone, A and B did not both log in")

    # --- 5. the phone as token ---------------------------------------------
    async def phone_token(self) -> None:
        for cfg, mistake in (
            (await self.clusters.get("phone-token"), True),
            (self.base, False),
        ):
            self.part("mistake" if mistake else "fix", "token = phone" if mistake else "token = random")
            phone, token = await self.login_user(cfg, "A")
            self.show(self.t("token_is", token=token) if mistake else self.t("token_random"))
            stranger = await self.me(cfg.url + "/api", phone, self.t("stranger", who="A"))
            if stranger.status != (200 if mistake else 401):
                raise NotShown(f"a stranger with A's phone number got {stranger.status}")

    # --- 6. a JSON string or a hash ------------------------------------------
    async def json_or_hash(self) -> None:
        # Every cluster up first: a node connecting meanwhile would add its
        # connection's buffers to the used_memory weighed here.
        await self.clusters.all_started()
        async with self.redis() as redis:
            usage: dict[str, int] = {}
            for cfg, mistake in (
                (await self.clusters.get("json-string"), True),
                (self.base, False),
            ):
                self.part("mistake" if mistake else "fix", "SET json" if mistake else "HSET")
                _, token = await self.login_user(cfg, "A")
                key = LOGIN_USER_KEY + session_id(token)
                usage["json" if mistake else "hash"] = int(await redis.memory_usage(key) or 0)
                self.show(self.t("redis_holds", keys=await described(redis, [key])))
                writes = await writes_to(redis, key, self._rename(cfg.url + "/api", token))
                self.show(self.t("rename"))
                for command in writes:
                    self.show(f"  {shortened(command)}  ({len(command.encode())} B)")
                self.show(self.t("rename_bytes", bytes=sum(len(c.encode()) for c in writes)))
                # The mistake reads the value and writes it back whole; the
                # fix writes the one field.
                names = [c.split(" ", 1)[0] for c in writes]
                whole = names == ["GET", "SET"] and '"exp"' in writes[1]
                alone = names == ["HSET"] and "exp" not in writes[0]
                if (mistake and not whole) or (not mistake and not alone):
                    raise NotShown(f"the rename's writes were not as the format makes them: {writes}")
            self.show(self.t("usage", **usage))
            async with ballast(redis):
                used = {fmt: await used_memory(redis, fmt) for fmt in ("hash", "json")}
            n = SESSIONS
            self.show(
                self.t(
                    "used",
                    n=n,
                    hash=size(used["hash"]),
                    json=size(used["json"]),
                    hash_each=used["hash"] // n,
                    json_each=used["json"] // n,
                )
            )

    async def _rename(self, api: str, token: str) -> None:
        step = await call(
            self.http, "PATCH", api + PATHS["user.me"], token=token, json={"nickName": "renamed"}
        )
        if step.status != 200:
            raise NotShown(f"the rename was refused: {step.status} {step.body.get('errorMsg')}")

    # --- 7. the TTL counted from login ---------------------------------------
    async def no_refresh(self) -> None:
        mistake, fix = await self.clusters.get("no-refresh"), await self.clusters.get("short-ttl")
        tokens = await self._side_by_side_logins(mistake, fix)
        self.show(self.t("active", path="/user/me", every=EVERY, for_=ACTIVE_FOR, ttl=SHORT_TTL))
        pages = itertools.repeat(PATHS["user.me"])
        statuses = await self._active([mistake, fix], tokens, pages)
        if 401 not in statuses[0]:
            raise NotShown("the session outlived its TTL without a refresh")
        if set(statuses[1]) != {200}:
            raise NotShown("an active user was logged out though every request refreshed the TTL")

    async def _side_by_side_logins(self, mistake: ClusterConfig, fix: ClusterConfig) -> list[str]:
        """A user logged in on each cluster; their tokens."""
        tokens = []
        for cfg, part in ((mistake, "mistake"), (fix, "fix")):
            self.part(
                part, f"LOGIN_USER_TTL={SHORT_TTL}, {cfg.mistakes[0] if cfg.mistakes else '2 interceptors'}"
            )
            tokens.append((await self.login_user(cfg, "A"))[1])
        return tokens

    async def _active(
        self, clusters: list[ClusterConfig], tokens: list[str], pages: Iterator[str]
    ) -> list[list[int]]:
        """The user of each cluster asks the next of ``pages`` every EVERY
        seconds for ACTIVE_FOR seconds, both at once; each one's statuses,
        shown side by side."""
        started = time.monotonic()
        statuses: list[list[int]] = [[] for _ in clusters]
        print(f"      {pad('', 10)} {pad(self.t('mistake'), 10)} {self.t('fix')}", flush=True)
        for i in range(int(ACTIVE_FOR / EVERY) + 1):
            await asyncio.sleep(max(0.0, started + i * EVERY - time.monotonic()))  # a user's pace
            path = next(pages)
            answers = await asyncio.gather(
                *(
                    call(self.http, "GET", cfg.url + "/api" + path, token=token)
                    for cfg, token in zip(clusters, tokens, strict=True)
                )
            )
            cells = []
            for seen, answer in zip(statuses, answers, strict=True):
                seen.append(answer.status)
                good = answer.status == 200
                cells.append(colour("32" if good else "31", f"{'✔' if good else '✘'} {answer.status:<6}"))
            at = self.t("at", t=time.monotonic() - started)
            print(f"      {pad(at, 10)} {'  '.join(cells)}  {path}", flush=True)
        return statuses

    # --- 8. one interceptor, then two ------------------------------------------
    async def one_interceptor(self) -> None:
        mistake, fix = await self.clusters.get("one-interceptor"), await self.clusters.get("short-ttl")
        tokens = await self._side_by_side_logins(mistake, fix)
        public = [PATHS["shop.get"].replace("{id}", "1"), PATHS["blog.hot"]]
        self.show(self.t("browse", paths=", ".join(public), every=EVERY, for_=ACTIVE_FOR, ttl=SHORT_TTL))
        await self._active([mistake, fix], tokens, itertools.cycle(public))
        after = [
            await self.me(cfg.url + "/api", token, f"{self.t(part)}: {self.t('then_me')}")
            for cfg, token, part in zip((mistake, fix), tokens, ("mistake", "fix"), strict=True)
        ]
        if [step.status for step in after] != [401, 200]:
            raise NotShown(f"after browsing public pages, /user/me answered {[s.status for s in after]}")


# Each mistake -> the step that shows it.
STEP_OF: dict[str, int] = {name: n for n, names in STEP_CLUSTERS.items() for name in names if name in NAMES}
# Step number -> the step, in the seed's order.
STEP_RUNS: dict[int, Callable[[Lesson], Awaitable[None]]] = {
    1: Lesson.in_process,
    2: Lesson.session_copy,
    3: Lesson.shared,
    4: Lesson.fixed_code_key,
    5: Lesson.phone_token,
    6: Lesson.json_or_hash,
    7: Lesson.no_refresh,
    8: Lesson.one_interceptor,
}


async def run(base: ClusterConfig, steps: list[int], lang: Lang) -> list[Outcome]:
    """The ``steps`` on ``base`` and clusters beside it; what each showed."""
    outcomes = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        lesson = Lesson(base, http, lang)
        lesson.clusters.prepare(steps)
        try:
            for n in steps:
                lesson.heading(n, len(STEP_RUNS))
                try:
                    await STEP_RUNS[n](lesson)
                except NotShown as exc:
                    outcomes.append(Outcome(n, False, str(exc)))
                    print(f"    {colour('1;31', lesson.t('not_shown', why=exc))}", flush=True)
                    continue
                outcomes.append(Outcome(n, True))
                print(f"    {colour('2', STEPS[lang][n]['take'])}")
                print(f"    {colour('32', lesson.t('shown'))}", flush=True)
        finally:
            await lesson.clusters.close()
    return outcomes
