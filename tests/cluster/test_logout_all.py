""" "Log out everywhere" ends every session that exists when it answers
success, whatever a login racing it is doing, and a failed attempt can be
retried to the same end; a rename racing a login reaches its session
too.  A login is paused at each of its steps (the real
app in this process, on the test cluster's Redis and Postgres), and each
store is made to fail at each step of both."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any, NamedTuple

import asyncpg
import pytest
import redis.exceptions

from node import db
from node.routes import PATHS
from node.sessions import IN_FLIGHT, LOGIN_USER_KEY
from node.tokens import session_id
from node.typedefs import GUARD, REDIS, STORE
from node.views import ENDED_IN_FLIGHT
from scripts.lab.journey import read_sms, send_code
from tests.conftest import Client, MakeClient
from tests.helpers import random_phone

# A login's row is written (and committed) by one statement, then its
# session is stored, then its code taken.  A logout-all or a rename waits
# for none of them: it leaves its mark where the session is not stored yet.
STEPS = ("row written", "session stored", "code taken")


@pytest.fixture
async def client(make_client: MakeClient) -> Client:
    # Two codes for one phone within a minute: no send interval here.
    return await make_client(send_interval=0)


async def code_for(client: Client, phone: str) -> str:
    base = str(client.make_url("")).rstrip("/")
    assert (await send_code(client.session, base, phone)).status == 200
    return str((await read_sms(client.session, base, phone)).body["data"]["code"])


async def login(client: Client, phone: str, code: str) -> tuple[int, dict[str, Any]]:
    resp = await client.post(PATHS["user.login"], json={"phone": phone, "code": code})
    return resp.status, await resp.json()


async def logged_in(client: Client, phone: str) -> str:
    status, body = await login(client, phone, await code_for(client, phone))
    assert status == 200, body
    return str(body["data"])


async def logout_all(client: Client, token: str) -> tuple[int, dict[str, Any]]:
    resp = await client.post(PATHS["user.logout.all"], headers={"authorization": token})
    return resp.status, await resp.json()


async def me(client: Client, token: str) -> int:
    return (await client.get(PATHS["user.me"], headers={"authorization": token})).status


def pause_at(
    step: str, client: Client, monkeypatch: pytest.MonkeyPatch
) -> tuple[asyncio.Event, asyncio.Event]:
    """Make the next login stop after ``step``: (reached, release)."""
    reached, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        reached.set()
        await release.wait()

    def after(call: Callable[..., Any]) -> Callable[..., Any]:
        async def paused(*args: Any, **kwargs: Any) -> Any:
            result = await call(*args, **kwargs)
            await hold()
            return result

        return paused

    if step == "row written":
        monkeypatch.setattr(db, "new_session", after(db.new_session))
    elif step == "session stored":
        store = client.app[STORE]
        monkeypatch.setattr(store, "save_user", after(store.save_user))
    else:
        guard = client.app[GUARD]
        monkeypatch.setattr(guard, "consume_code", after(guard.consume_code))
    return reached, release


class SecondLogin(NamedTuple):
    first: str  # the token of the user's first login
    phone: str
    code: str  # the second login's
    task: asyncio.Task[tuple[int, dict[str, Any]]]
    release: asyncio.Event


async def second_login_paused_at(step: str, client: Client, monkeypatch: pytest.MonkeyPatch) -> SecondLogin:
    """A user logged in once, and their second login stopped after ``step``."""
    phone = random_phone()
    first = await logged_in(client, phone)
    code = await code_for(client, phone)
    reached, release = pause_at(step, client, monkeypatch)
    task = asyncio.create_task(login(client, phone, code))
    await asyncio.wait_for(reached.wait(), 10)
    return SecondLogin(first, phone, code, task, release)


@pytest.mark.parametrize("step", STEPS)
async def test_a_login_racing_logout_all_at_any_step_leaves_no_session_it_cannot_end(
    client: Client, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    first, phone, code, second, release = await second_login_paused_at(step, client, monkeypatch)
    out_status, out = await logout_all(client, first)  # nothing waits for the login
    release.set()
    status, body = await second
    monkeypatch.undo()
    assert await me(client, first) == 401
    if step == "row written":
        # Its row ended before its session was stored: refused, and said
        # why; the code, not spent, logs in now.
        assert (out_status, out["data"]["ended"]) == (200, 1)
        assert (status, body["errorMsg"]) == (409, ENDED_IN_FLIGHT)
        status, body = await login(client, phone, code)
        assert status == 200, body
        assert await me(client, str(body["data"])) == 200
    else:
        # Stored before logout-all answered: ended with the rest.
        assert (out_status, out["data"]["ended"]) == (200, 2)
        assert status == 200, body
        assert await me(client, str(body["data"])) == 401


async def test_with_phone_tokens_a_login_refused_by_logout_all_leaves_its_mark_and_the_next_login_works(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MISTAKE=phone-token: every login of the phone has one session id, and
    # the second login's row is the first's.  The mark refuses that row, not
    # a later one, and the refused login takes away neither.
    client = await make_client(send_interval=0, mistakes=("phone-token",))
    first, phone, code, second, release = await second_login_paused_at("row written", client, monkeypatch)
    assert (await logout_all(client, first))[0] == 200
    release.set()
    status, body = await second
    monkeypatch.undo()
    assert (status, body["errorMsg"]) == (409, ENDED_IN_FLIGHT)
    key = LOGIN_USER_KEY + session_id(first)
    assert await client.app[REDIS].hget(key, "ended") is not None
    status, body = await login(client, phone, code)
    assert status == 200, body
    assert await me(client, str(body["data"])) == 200


async def test_a_rename_racing_a_login_reaches_the_new_session_too(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The login read the old name; the rename, which finds its row but no
    # session yet, leaves the new name for the login's save.
    second = await second_login_paused_at("row written", client, monkeypatch)
    renamed = await client.patch(
        PATHS["user.me.update"], json={"nickName": "renamed"}, headers={"authorization": second.first}
    )
    assert renamed.status == 200
    second.release.set()
    status, body = await second.task
    monkeypatch.undo()
    assert status == 200, body
    resp = await client.get(PATHS["user.me"], headers={"authorization": str(body["data"])})
    assert (await resp.json())["data"]["nickName"] == "renamed"


async def test_a_login_under_the_cap_drops_the_rows_of_sessions_gone_but_not_of_logins_in_flight(
    make_client: MakeClient, pg: asyncpg.Connection
) -> None:
    # A row whose session the store does not hold is a session gone, or a
    # login between its row and its save: dropping that one's row would
    # leave its session out of a logout-all's reach.
    client = await make_client(send_interval=0, max_sessions_per_user=3)
    phone = random_phone()
    await logged_in(client, phone)
    user_id = await pg.fetchval("SELECT id FROM tb_user WHERE phone = $1", phone)
    in_flight, gone = secrets.token_hex(16), secrets.token_hex(16)
    await pg.execute(
        "INSERT INTO tb_session (sid, user_id, create_time) VALUES ($1, $3, now()), ($2, $3, $4)",
        in_flight,
        gone,
        user_id,
        datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=IN_FLIGHT + 60),
    )
    await logged_in(client, phone)  # lists both, finds neither in the store
    rows = {r["sid"] for r in await pg.fetch("SELECT sid FROM tb_session WHERE user_id = $1", user_id)}
    assert in_flight in rows and gone not in rows


def failing(error: BaseException) -> Callable[..., Any]:
    async def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    return fail


def failing_block(error: BaseException) -> Callable[..., Any]:
    """A stand-in for one of db's transaction blocks that fails as it opens."""

    @contextlib.asynccontextmanager
    async def block(*args: Any, **kwargs: Any) -> AsyncIterator[dict[str, int]]:
        raise error
        yield {}  # never reached: a generator, for asynccontextmanager

    return block


def answer_lost(call: Callable[..., Any], error: BaseException) -> Callable[..., Any]:
    async def lost(*args: Any, **kwargs: Any) -> Any:
        await call(*args, **kwargs)
        raise error

    return lost


PG_DOWN = asyncpg.ConnectionDoesNotExistError("the database went away")
REDIS_DOWN = redis.exceptions.ConnectionError("the session store went away")


@pytest.mark.parametrize("where", ["postgres before", "session store", "postgres at commit"])
async def test_a_logout_all_that_failed_is_retried_to_the_same_end(
    client: Client, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    phone = random_phone()
    tokens = [await logged_in(client, phone) for _ in range(3)]
    if where == "postgres before":
        monkeypatch.setattr(db, "all_sessions", failing_block(PG_DOWN))
    elif where == "session store":
        monkeypatch.setattr(client.app[STORE], "end_for_good", failing(REDIS_DOWN))
    else:
        real = db.all_sessions

        @contextlib.asynccontextmanager
        async def lost_commit(*args: Any, **kwargs: Any) -> AsyncIterator[dict[str, int]]:
            async with real(*args, **kwargs) as rows:
                yield rows
                raise PG_DOWN  # after the store ended them: the rows stay

        monkeypatch.setattr(db, "all_sessions", lost_commit)
    status, body = await logout_all(client, tokens[0])
    assert status == 503, body
    monkeypatch.undo()
    alive = [t for t in tokens if await me(client, t) == 200]
    if alive:
        status, body = await logout_all(client, alive[0])
        assert (status, body["data"]["ended"]) == (200, len(alive))
    else:  # the store ended them all: the rows a retry needs are gone with them
        assert where == "postgres at commit"
    assert [await me(client, t) for t in tokens] == [401, 401, 401]


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("user and row", PG_DOWN),
        ("row written", PG_DOWN),
        ("session stored", REDIS_DOWN),
        ("code taken", REDIS_DOWN),
    ],
)
async def test_a_login_that_failed_for_a_store_leaves_no_session_and_the_code_still_works(
    client: Client, monkeypatch: pytest.MonkeyPatch, step: str, error: BaseException
) -> None:
    phone = random_phone()
    code = await code_for(client, phone)
    if step == "user and row":
        monkeypatch.setattr(db, "new_session", failing(error))
    elif step == "row written":  # committed, and the answer lost
        monkeypatch.setattr(db, "new_session", answer_lost(db.new_session, error))
    elif step == "session stored":
        monkeypatch.setattr(client.app[STORE], "save_user", failing(error))
    else:
        monkeypatch.setattr(client.app[GUARD], "consume_code", failing(error))
    for _ in range(6):  # more than the code's tries: none of them was the user's
        status, body = await login(client, phone, code)
        assert status == 503, body
    monkeypatch.undo()
    status, body = await login(client, phone, code)
    assert status == 200, body
    token = str(body["data"])
    # The failed logins left nothing behind: logout-all ends exactly this one.
    assert await logout_all(client, token) == (200, {"success": True, "data": {"ended": 1}})


async def test_a_logout_with_the_database_down_still_ends_the_session(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await logged_in(client, random_phone())
    monkeypatch.setattr(db, "end_sessions", failing(PG_DOWN))
    resp = await client.post(PATHS["user.logout"], headers={"authorization": token})
    assert (resp.status, await resp.json()) == (200, {"success": True})
    assert await me(client, token) == 401


async def test_a_code_that_could_not_be_sent_is_no_send(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = random_phone()
    monkeypatch.setattr(db, "record_sms", failing(PG_DOWN))
    base = str(client.make_url("")).rstrip("/")
    for _ in range(6):  # more than an hour's sends
        assert (await send_code(client.session, base, phone)).status == 503
    monkeypatch.undo()
    assert (await send_code(client.session, base, phone)).status == 200
