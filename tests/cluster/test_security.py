"""The attacks the seed's SMS login falls to, each shown to fail, with the
honest user unaffected (SECURITY.md lists them).  Most run on the shared
cluster; those that need other limits (no send interval, a 3-second session
lifetime, a cap of 2 sessions) on one cluster of this module's own.  Those
that rest on the store's rules run on each Redis topology as well."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Iterator

import aiohttp
import asyncpg
import pytest

from node.redis_client import RedisClient
from node.routes import PATHS
from node.sessions import LOGIN_FAIL_KEY, LOGIN_USER_KEY, phone_source
from node.tokens import session_id
from scripts.cluster import ClusterConfig, down, up
from tests.conftest import RunDirs, make_config, running
from tests.helpers import call, log_in_via, login, me_status, random_phone, read_sms, send_code, wait_for


@pytest.fixture(scope="module")
def strict(run_dirs: RunDirs) -> Iterator[ClusterConfig]:
    yield from running(
        make_config(
            run_dirs("strict"),
            nodes=2,
            node_env={"SEND_INTERVAL": "0", "SESSION_MAX_AGE": "3", "MAX_SESSIONS_PER_USER": "2"},
        )
    )


def wrong_codes(right: str, count: int) -> list[str]:
    return [f"{n:06d}" for n in range(1, count + 2) if f"{n:06d}" != right][:count]


async def sms_count(pg: asyncpg.Connection, phone: str) -> int:
    return int(await pg.fetchval("SELECT count(*) FROM sms_outbox WHERE phone = $1", phone))


# --- guessing codes ------------------------------------------------------------


@pytest.mark.every_topology
async def test_brute_force_100_parallel_guesses_are_judged_at_most_5_times(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, redis: RedisClient
) -> None:
    victim, honest = random_phone(), random_phone()
    await send_code(http, redis_cluster.node_url(1), victim)
    right = await read_sms(http, redis_cluster.node_url(1), victim)
    nodes = [redis_cluster.node_url(1 + i % 3) for i in range(100)]
    guesses = [
        login(http, node, victim, guess) for node, guess in zip(nodes, wrong_codes(right, 100), strict=True)
    ]
    results, (token, _) = await asyncio.gather(
        asyncio.gather(*guesses), log_in_via(http, redis_cluster.url + "/api", honest)
    )
    assert all(status in (400, 429) for status, _, _ in results)
    # Only judged guesses count as failures: 5, and then the code was burned.
    # Counted for the phone from the guesser's address (nginx's, here).
    assert await redis.get(LOGIN_FAIL_KEY + phone_source(victim, "127.0.0.1")) == "5"
    status, body, _ = await login(http, redis_cluster.node_url(2), victim, right)
    assert (status, body["errorMsg"]) == (400, "wrong code")  # too late: burned
    assert len(token) == 32  # the honest user logged in meanwhile


async def test_guessing_across_resends_locks_the_phone_out(
    strict: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    victim = random_phone()
    answers = []
    for _ in range(4):  # 4 codes x 5 wrong guesses: 20 failures
        await send_code(http, strict.node_url(1), victim)
        right = await read_sms(http, strict.node_url(1), victim)
        for guess in wrong_codes(right, 5):
            answers.append(await login(http, strict.node_url(2), victim, guess))
    assert [s for s, _, _ in answers[:19]] == [400] * 19
    status, body, _ = answers[19]
    assert status == 429 and body["data"]["retryAfter"] > 60
    # Locked: no new code is sent, and no code is judged.
    status, body, _ = await call(
        http, "POST", strict.node_url(1) + PATHS["user.code"], params={"phone": victim}
    )
    assert status == 429 and "locked" in body["errorMsg"]
    status, _, _ = await login(http, strict.node_url(1), victim, right)
    assert status == 429
    token, _ = await log_in_via(http, strict.node_url(2))  # someone else: fine
    assert token


# --- replaying codes -------------------------------------------------------------


@pytest.mark.every_topology
async def test_a_replayed_code_is_refused(redis_cluster: ClusterConfig, http: aiohttp.ClientSession) -> None:
    phone = random_phone()
    await send_code(http, redis_cluster.node_url(1), phone)
    code = await read_sms(http, redis_cluster.node_url(1), phone)
    assert (await login(http, redis_cluster.node_url(1), phone, code))[0] == 200
    for index in (1, 2, 3):
        status, body, _ = await login(http, redis_cluster.node_url(index), phone, code)
        assert (status, body["errorMsg"]) == (400, "wrong code")


@pytest.mark.every_topology
async def test_50_parallel_copies_of_a_right_code_across_nodes_yield_one_token(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    await send_code(http, redis_cluster.node_url(1), phone)
    code = await read_sms(http, redis_cluster.node_url(1), phone)
    results = await asyncio.gather(
        *(login(http, redis_cluster.node_url(1 + i % 3), phone, code) for i in range(50))
    )
    tokens = [body["data"] for status, body, _ in results if status == 200]
    assert len(tokens) == 1
    status, _, _ = await call(http, "GET", redis_cluster.url + "/api" + PATHS["user.me"], token=tokens[0])
    assert status == 200


# --- sending codes -----------------------------------------------------------------


@pytest.mark.every_topology
async def test_a_send_flood_sends_one_sms_and_says_when_to_retry(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, pg: asyncpg.Connection
) -> None:
    phone = random_phone()
    url = redis_cluster.url + "/api" + PATHS["user.code"]
    results = await asyncio.gather(*(call(http, "POST", url, params={"phone": phone}) for _ in range(20)))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] + [429] * 19
    refused = next(body for status, body, _ in results if status == 429)
    assert 55 <= refused["data"]["retryAfter"] <= 60 and "ask again later" in refused["errorMsg"]
    assert await sms_count(pg, phone) == 1


async def test_more_than_five_codes_an_hour_are_refused(
    strict: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    for _ in range(5):
        await send_code(http, strict.node_url(1 + _ % 2), phone)
    async with http.post(strict.node_url(1) + PATHS["user.code"], params={"phone": phone}) as resp:
        body = await resp.json()
        assert resp.status == 429 and "this hour" in body["errorMsg"]
        assert 3500 < body["data"]["retryAfter"] <= 3600
        assert resp.headers["Retry-After"] == str(body["data"]["retryAfter"])


async def test_asking_for_a_code_tells_nothing_of_accounts_and_creates_no_user(
    strict: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    known, stranger = random_phone(), random_phone()
    await log_in_via(http, strict.node_url(1), known)  # has an account now
    answers = [
        await call(http, "POST", strict.node_url(2) + PATHS["user.code"], params={"phone": phone})
        for phone in (known, stranger)
    ]
    assert answers[0][:2] == answers[1][:2] == (200, {"success": True})
    status, _, _ = await login(http, strict.node_url(2), stranger, "000000")
    assert status == 400
    pg = await asyncpg.connect(strict.effective_database_url())
    try:
        assert await pg.fetchval("SELECT count(*) FROM tb_user WHERE phone = $1", stranger) == 0
        assert await pg.fetchval("SELECT count(*) FROM tb_user WHERE phone = $1", known) == 1
    finally:
        await pg.close()


async def test_nginx_limits_code_and_login_requests_per_address(
    run_dirs: RunDirs, http: aiohttp.ClientSession
) -> None:
    cfg = make_config(run_dirs("ratelimit"), nodes=1, login_rate="5r/s", login_burst=5)
    await asyncio.to_thread(up, cfg, quiet=True)
    try:
        api = cfg.url + "/api"
        logins = await asyncio.gather(
            *(call(http, "POST", api + PATHS["user.login"], json={"phone": "13800000001", "code": "123456"})
              for _ in range(40))
        )  # fmt: skip
        limited = [(status, body, node) for status, body, node in logins if status == 429]
        assert len(limited) >= 30
        assert all(body["success"] is False and node == "" for _, body, node in limited)  # nginx, not a node
        pages = await asyncio.gather(*(call(http, "GET", api + "/shop/1") for _ in range(40)))
        assert all(status == 200 for status, _, _ in pages)  # other routes are not limited
    finally:
        await asyncio.to_thread(down, cfg, quiet=True)


# --- tokens ---------------------------------------------------------------------------


@pytest.mark.every_topology
async def test_a_redis_dump_holds_no_token_and_no_code(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession, redis: RedisClient
) -> None:
    phone = random_phone()
    await send_code(http, redis_cluster.node_url(1), phone)
    code = await read_sms(http, redis_cluster.node_url(1), phone)
    other = random_phone()
    await send_code(http, redis_cluster.node_url(1), other)  # a code still waiting in Redis
    waiting = await read_sms(http, redis_cluster.node_url(1), other)
    _, body, _ = await login(http, redis_cluster.node_url(1), phone, code)
    token = body["data"]
    dump = []
    read = {
        "hash": redis.hgetall,
        "string": redis.get,
        "zset": lambda k: redis.zrange(k, 0, -1, withscores=True),
    }
    async for key in redis.scan_iter("*"):
        kind = await redis.type(key)
        if kind != "none":  # "none": a key of an earlier test that expired since the scan
            dump.append(f"{key} {await read[kind](key)}")
    text = "\n".join(dump)
    # The code as a word of its own: inside the dump's longer numbers (times
    # in ms, phones) and hex digests, six given digits turn up by chance.
    assert token not in text and not re.search(rf"\b{waiting}\b", text)
    # A session key from the dump is no token.
    stolen = LOGIN_USER_KEY + session_id(token)
    assert stolen in text
    status, _, _ = await call(
        http, "GET", redis_cluster.url + "/api" + PATHS["user.me"], token=session_id(token)
    )
    assert status == 401


async def test_bearer_and_bare_tokens_work_and_a_query_token_is_ignored(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, redis_cluster.node_url(1))
    me = redis_cluster.url + "/api" + PATHS["user.me"]
    for header in (token, f"Bearer {token}", f"bearer   {token}"):
        assert (await call(http, "GET", me, headers={"authorization": header}))[0] == 200
    for params in ({"token": token}, {"authorization": token}):
        assert (await call(http, "GET", me, params=params))[0] == 401


async def test_every_login_issues_a_new_token(strict: ClusterConfig, http: aiohttp.ClientSession) -> None:
    phone = random_phone()
    tokens = {(await log_in_via(http, strict.node_url(1), phone))[0] for _ in range(2)}
    assert len(tokens) == 2


async def test_no_log_line_holds_a_token_or_a_code(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    api = redis_cluster.url + "/api"
    phone = random_phone()
    await send_code(http, api, phone)
    code = await read_sms(http, api, phone)
    _, body, _ = await login(http, api, phone, code)
    token = body["data"]
    await call(http, "GET", api + PATHS["user.me"], token=token)
    await call(http, "GET", api + PATHS["user.me"], params={"token": token})  # put in a URL by a client
    # A header nginx passes and aiohttp's parser refuses: aiohttp would log
    # the raw header line (and answer with it).
    for port, prefix in ((redis_cluster.port, "/api"), (redis_cluster.node_ports[0], "")):
        for bad in (token + "\x01", token + "\x7f", token + "\x0b", "\x1b" + token):
            answer = await _raw_exchange(
                port, f"GET {prefix}{PATHS['user.me']} HTTP/1.1\r\nHost: x\r\nauthorization: {bad}\r\n"
            )
            assert answer[9:12] == b"400" and token.encode() not in answer
    await call(http, "POST", api + PATHS["user.logout"], token=token)
    lines = [line for log in redis_cluster.log_dir.glob("*.log") for line in log.read_text().splitlines()]
    assert not [line for line in lines if token in line]
    assert not [line for line in lines if re.search(rf"\b{code}\b", line)]


# --- session lifetime and logout ---------------------------------------------------


async def test_a_session_ends_at_its_max_age_however_busy(
    strict: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    token, _ = await log_in_via(http, strict.node_url(1))
    answers: list[int] = []

    async def ended() -> bool:
        answers.append(await me_status(http, strict, 1 + len(answers) % 2, token))
        return answers[-1] == 401

    # SESSION_MAX_AGE=3 with a 30-minute idle TTL: only the absolute limit ends it.
    await wait_for(ended, within=10, what="the session to reach its max age")
    assert answers[0] == 200 and set(answers[:-1]) == {200}


async def test_logout_all_ends_every_session_on_every_node(
    strict: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    first, _ = await log_in_via(http, strict.node_url(1), phone)
    second, _ = await log_in_via(http, strict.node_url(2), phone)
    status, body, _ = await call(http, "POST", strict.node_url(2) + PATHS["user.logout.all"], token=second)
    assert (status, body["data"]) == (200, {"ended": 2})
    for token in (first, second):
        for index in (1, 2):
            assert await me_status(http, strict, index, token) == 401


async def test_past_the_cap_the_oldest_session_is_dropped(
    strict: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    tokens = [(await log_in_via(http, strict.node_url(1 + i % 2), phone))[0] for i in range(3)]
    alive = [await me_status(http, strict, 1, t) for t in tokens]
    assert alive == [401, 200, 200]


async def test_a_session_that_ended_takes_no_place_under_the_cap(
    strict: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    phone = random_phone()
    first, _ = await log_in_via(http, strict.node_url(1), phone)
    second, _ = await log_in_via(http, strict.node_url(2), phone)
    assert (await call(http, "POST", strict.node_url(1) + PATHS["user.logout"], token=second))[0] == 200
    third, _ = await log_in_via(http, strict.node_url(2), phone)
    alive = [await me_status(http, strict, 1, t) for t in (first, second, third)]
    assert alive == [200, 401, 200]


# --- the memory store keeps the same rules within its node ---------------------------


async def test_memory_mode_refuses_a_replay_and_a_flood_on_its_node(
    memory_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    node = memory_cluster.node_url(1)
    phone = random_phone()
    await send_code(http, node, phone)
    status, _, _ = await call(http, "POST", node + PATHS["user.code"], params={"phone": phone})
    assert status == 429
    code = await read_sms(http, node, phone)
    assert (await login(http, node, phone, code))[0] == 200
    assert (await login(http, node, phone, code))[1]["errorMsg"] == "wrong code"


# --- logs -------------------------------------------------------------------------------


async def _raw_exchange(port: int, head: str) -> bytes:
    """``head`` (a request without its blank line) sent as bytes, with
    Connection: close; the whole answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode("latin-1") + b"Connection: close\r\n\r\n")
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def test_every_log_is_readable_by_its_owner_only(redis_cluster: ClusterConfig) -> None:
    logs = sorted(redis_cluster.log_dir.iterdir())
    names = {log.name for log in logs}
    assert {"supervisord.log", "nginx-access.log", "nginx-error.log", "node1.log", "redis.log"} <= names
    assert {log.name: oct(log.stat().st_mode & 0o777) for log in logs} == {name: "0o600" for name in names}


async def test_nginx_error_log_holds_no_query_string(
    redis_cluster: ClusterConfig, http: aiohttp.ClientSession
) -> None:
    # nginx's error lines end with the request line, query string and all:
    # a refused body is one of them.
    phone = random_phone()
    url = redis_cluster.url + "/api" + PATHS["user.code"]
    async with http.post(url, params={"phone": phone}, data=b"x" * 40_000) as resp:
        assert resp.status == 413
    await call(http, "GET", redis_cluster.url + "/api" + PATHS["dev.sms.latest"], params={"phone": phone})
    assert phone not in (redis_cluster.log_dir / "nginx-error.log").read_text()
    assert phone not in (redis_cluster.log_dir / "nginx-access.log").read_text()
