"""The login rules and sessions, the same in both backends: each test runs on
the in-process ones and on the Redis ones (the test cluster's Redis, database 2, on each
topology), with one fake clock, since the rules take their time from the
store's clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from node.models import UserDTO
from node.sessions import (
    LoginGuard,
    MemoryLoginGuard,
    MemorySessionStore,
    Policy,
    RedisLoginGuard,
    RedisSessionStore,
    SessionStore,
    TTLDict,
)
from scripts.cluster import ClusterConfig
from tests.helpers import Clock, random_phone, redis_of

pytestmark = pytest.mark.every_topology

USER = UserDTO(id=0, nick_name="user_contract01")


@pytest.fixture
async def make(store_kind: str, redis_cluster: ClusterConfig) -> AsyncIterator[object]:
    async with redis_of(redis_cluster, db=2) as client:

        def make_backends(clock: Clock, **policy: object) -> tuple[LoginGuard, SessionStore]:
            rules = Policy(**policy)  # type: ignore[arg-type]
            if store_kind == "memory":
                data = TTLDict(clock=clock)
                return MemoryLoginGuard(rules, data), MemorySessionStore(rules, data)
            return RedisLoginGuard(client, rules, clock=clock), RedisSessionStore(client, rules, clock=clock)

        yield make_backends


def user() -> UserDTO:
    """A user id no other test uses (the Redis database is shared)."""
    return UserDTO(id=int(random_phone()), nick_name="user_contract01")


async def test_a_code_is_consumed_once_and_only_by_its_own_hash(make) -> None:  # type: ignore[no-untyped-def]
    guard, _ = make(Clock())
    phone = random_phone()
    await guard.save_code(phone, "mac-1")
    attempt = await guard.take_attempt(phone)
    assert attempt.status == "judge" and attempt.mac == "mac-1"
    assert not await guard.consume_code(phone, "mac-2")
    assert await guard.consume_code(phone, "mac-1")
    assert not await guard.consume_code(phone, "mac-1")  # replay
    assert (await guard.take_attempt(phone)).status == "none"


async def test_of_many_racing_consumers_exactly_one_wins(make) -> None:  # type: ignore[no-untyped-def]
    guard, _ = make(Clock())
    phone = random_phone()
    await guard.save_code(phone, "mac")
    wins = await asyncio.gather(*(guard.consume_code(phone, "mac") for _ in range(50)))
    assert wins.count(True) == 1


async def test_of_100_parallel_tries_only_max_tries_are_judged(make) -> None:  # type: ignore[no-untyped-def]
    guard, _ = make(Clock(), code_max_tries=5)
    phone = random_phone()
    await guard.save_code(phone, "mac")
    attempts = await asyncio.gather(*(guard.take_attempt(phone) for _ in range(100)))
    statuses = [a.status for a in attempts]
    assert (statuses.count("judge"), statuses.count("burned")) == (5, 95)
    assert (await guard.take_attempt(phone)).status == "burned"  # refused, still not judged


async def test_a_judged_right_try_still_logs_in_after_later_tries_were_refused(make) -> None:  # type: ignore[no-untyped-def]
    # Parallel copies of the right code (a user clicking twice), or a right
    # try racing wrong ones: the tries past the fifth, and the wrong ones
    # judged meanwhile, must not destroy the code a right try is judging.
    guard, _ = make(Clock(), code_max_tries=5)
    phone = random_phone()
    await guard.save_code(phone, "mac")
    attempts = [await guard.take_attempt(phone) for _ in range(8)]
    assert [a.status for a in attempts] == ["judge"] * 5 + ["burned"] * 3
    for _ in range(4):  # four of the five judged were wrong
        assert not await guard.record_failure(phone)
    assert await guard.consume_code(phone, attempts[0].mac)
    assert (await guard.take_attempt(phone)).status == "none"  # consumed: gone


async def test_the_last_wrong_try_burns_the_code(make) -> None:  # type: ignore[no-untyped-def]
    guard, _ = make(Clock(), code_max_tries=3)
    phone = random_phone()
    await guard.save_code(phone, "mac")
    for _ in range(3):
        assert (await guard.take_attempt(phone)).status == "judge"
        assert not await guard.record_failure(phone)
    assert (await guard.take_attempt(phone)).status == "none"


async def test_failures_survive_a_new_code_and_lock_the_phone(make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    guard, _ = make(clock, code_max_tries=5, phone_max_failures=7, phone_lockout=600, send_interval=0)
    phone = random_phone()
    locked = False
    for i in range(7):
        if i % 3 == 0:
            assert await guard.save_code(phone, f"mac-{i}") is None  # a resend
        assert (await guard.take_attempt(phone)).status == "judge"
        locked = await guard.record_failure(phone)
        assert locked == (i == 6)
    attempt = await guard.take_attempt(phone)
    assert attempt.status == "locked" and 590 < attempt.retry_after <= 600
    refusal = await guard.save_code(phone, "mac-new")
    assert refusal is not None and refusal.reason == "locked"


async def test_a_success_clears_the_failure_count(make) -> None:  # type: ignore[no-untyped-def]
    guard, _ = make(Clock(), phone_max_failures=3, send_interval=0)
    phone = random_phone()
    for _round in range(3):  # 2 failures a round: 6 in all, never 3 in a row
        assert await guard.save_code(phone, "mac") is None
        for _ in range(2):
            await guard.take_attempt(phone)
            assert not await guard.record_failure(phone)
        await guard.take_attempt(phone)
        assert await guard.consume_code(phone, "mac")


async def test_one_code_a_minute_five_an_hour_ten_a_day(make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    guard, _ = make(clock)
    phone = random_phone()
    assert await guard.save_code(phone, "m0") is None
    clock.now += 59
    refusal = await guard.save_code(phone, "m1")
    assert refusal is not None and refusal.reason == "interval" and 0 < refusal.retry_after <= 1
    start = clock.now - 59
    for i in range(1, 5):  # codes 2..5 within the hour
        clock.now = start + 61 * i
        assert await guard.save_code(phone, f"m{i}") is None
    clock.now = start + 61 * 5
    refusal = await guard.save_code(phone, "m5")
    assert refusal is not None and refusal.reason == "hour"
    assert abs(refusal.retry_after - (start + 3600 - clock.now)) < 0.01  # when the first ages out
    for i in range(5, 10):  # codes 6..10, an hour apart
        clock.now = start + 3600 * (i - 3)
        assert await guard.save_code(phone, f"m{i}") is None
    clock.now += 3600
    refusal = await guard.save_code(phone, "m10")
    assert refusal is not None and refusal.reason == "day"
    assert abs(refusal.retry_after - (start + 86400 - clock.now)) < 0.01
    clock.now = start + 86400 + 1  # the first code of the day has aged out
    assert await guard.save_code(phone, "m10") is None


async def test_a_wait_is_never_longer_than_its_window(make) -> None:  # type: ignore[no-untyped-def]
    # Two requests on two nodes: the second read the clock first but ran
    # second.  It must not be told to wait 61 s for a one-minute rule.
    for rules, reason, window in (
        ({"send_interval": 60}, "interval", 60),
        ({"send_interval": 0, "send_per_hour": 1}, "hour", 3600),
    ):
        clock = Clock()
        (guard, _), phone = make(clock, **rules), random_phone()
        assert await guard.save_code(phone, "mac") is None
        clock.now -= 0.5
        refusal = await guard.save_code(phone, "mac2")
        assert refusal is not None and (refusal.reason, refusal.retry_after) == (reason, window)


async def test_refreshes_never_extend_a_session_past_its_max_age(make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    _, store = make(clock, login_user_ttl=1800, session_max_age=3000)
    alice = user()
    await store.save_user("sid-" + random_phone(), alice)
    sid = "sid-" + random_phone()
    await store.save_user(sid, alice)
    for _ in range(2):
        clock.now += 1400
        assert await store.load_user(sid) == alice  # used: alive
    clock.now += 201  # 3001 s after login, though used 201 s ago
    assert await store.load_user(sid) is None


async def test_ending_sessions_ends_those_and_no_other(make) -> None:  # type: ignore[no-untyped-def]
    _, store = make(Clock())
    alice, bob = user(), user()
    mine = ["a-" + random_phone() for _ in range(3)]
    for sid in mine:
        await store.save_user(sid, alice)
    theirs = "b-" + random_phone()
    await store.save_user(theirs, bob)
    assert await store.end_sessions([mine[0]]) == 1
    assert await store.live_sessions([*mine, theirs]) == [*mine[1:], theirs]
    assert await store.end_sessions(mine) == 2  # the first had ended already
    assert [await store.load_user(sid) for sid in mine] == [None, None, None]
    assert await store.load_user(theirs) == bob
    assert (await store.end_sessions([]), await store.live_sessions([])) == (0, [])


async def test_guesses_from_one_address_never_lock_the_owner_out(make) -> None:  # type: ignore[no-untyped-def]
    # Whoever knows the phone number can make it get codes and guess at them:
    # the lock that stops the guessing is theirs, not the owner's.
    guard, _ = make(Clock(), code_max_tries=5, phone_max_failures=10, send_interval=0)
    phone = random_phone()
    for i in range(10):
        if i % 5 == 0:
            assert await guard.save_code(phone, f"attacker-{i}", source="10.0.0.66") is None
        await guard.take_attempt(phone, source="10.0.0.66")
        await guard.record_failure(phone, source="10.0.0.66")
    assert (await guard.take_attempt(phone, source="10.0.0.66")).status == "locked"
    refused = await guard.save_code(phone, "attacker-new", source="10.0.0.66")
    assert refused is not None and refused.reason == "locked"
    assert await guard.save_code(phone, "owner", source="10.0.0.7") is None  # the owner's fresh code
    attempt = await guard.take_attempt(phone, source="10.0.0.7")
    assert attempt.status == "judge" and await guard.consume_code(phone, attempt.mac, source="10.0.0.7")


async def test_one_address_cannot_use_up_a_phones_codes_but_all_of_them_are_bounded(make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    guard, _ = make(clock, send_interval=0, send_per_hour=100, send_per_day=3, phone_sends_per_day=5)
    phone = random_phone()
    for i in range(3):
        assert await guard.save_code(phone, f"a{i}", source="10.0.0.66") is None
    refused = await guard.save_code(phone, "a3", source="10.0.0.66")
    assert refused is not None and refused.reason == "day"
    assert await guard.save_code(phone, "owner1", source="10.0.0.7") is None  # another address
    assert await guard.save_code(phone, "owner2", source="10.0.0.7") is None
    refused = await guard.save_code(phone, "b", source="10.0.0.8")  # 5 a day, whoever asks
    assert refused is not None and refused.reason == "phone-day" and refused.retry_after > 86000


async def test_the_cluster_sends_at_most_its_budget_a_minute(make) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    # The start of a minute no other test sends in (the Redis database is shared).
    clock.now = 60.0 * (40_000_000 + int(random_phone()) % 10**6)
    guard, _ = make(clock, sms_per_minute=3)
    phones = [random_phone() for _ in range(4)]
    for phone in phones[:3]:
        assert await guard.save_code(phone, "m") is None
    clock.now += 10
    refused = await guard.save_code(phones[3], "m")
    assert refused is not None and (refused.reason, refused.retry_after) == ("busy", 50)
    assert (await guard.take_attempt(phones[3])).status == "none"  # refused: nothing kept
    refused = await guard.save_code(phones[0], "other")  # a phone with a live code asks again
    assert refused is not None and refused.reason == "busy"
    assert (await guard.take_attempt(phones[0])).mac == "m"  # its code is as it was
    clock.now += 50  # the next minute
    assert await guard.save_code(phones[3], "m") is None


async def test_a_cancelled_send_is_no_send_and_leaves_no_code(make) -> None:  # type: ignore[no-untyped-def]
    guard, _ = make(Clock(), send_interval=60, send_per_hour=1)
    phone = random_phone()
    assert await guard.save_code(phone, "lost", source="10.0.0.7") is None
    await guard.cancel_send(phone, "lost", source="10.0.0.7")
    assert (await guard.take_attempt(phone, source="10.0.0.7")).status == "none"
    assert await guard.save_code(phone, "sent", source="10.0.0.7") is None  # no interval, no hour used


async def test_a_refunded_try_is_not_counted_and_a_used_code_never_comes_back(make) -> None:  # type: ignore[no-untyped-def]
    guard, _ = make(Clock(), code_max_tries=2)
    phone = random_phone()
    assert await guard.save_code(phone, "mac") is None
    for _ in range(5):  # five logins our outage cut short
        assert (await guard.take_attempt(phone)).status == "judge"
        await guard.refund_attempt(phone, "mac")
    assert (await guard.take_attempt(phone)).status == "judge"
    assert await guard.consume_code(phone, "mac")
    await guard.refund_attempt(phone, "mac")
    assert (await guard.take_attempt(phone)).status == "none"


@pytest.mark.parametrize("mistakes", [(), ("json-string",)], ids=["hash", "json-string"])
async def test_a_rename_changes_that_field_of_the_live_sessions_only(make, mistakes) -> None:  # type: ignore[no-untyped-def]
    # In memory the format is the process's own: both runs are the same.
    _, store = make(Clock(), mistakes=mistakes)
    alice, bob = user(), user()
    mine = ["a-" + random_phone() for _ in range(2)]
    for sid in mine:
        await store.save_user(sid, alice)
    theirs, gone = "b-" + random_phone(), "g-" + random_phone()
    await store.save_user(theirs, bob)
    assert await store.update_user([*mine, gone], {"nickName": "user_renamed1"}) == 2
    renamed = UserDTO(id=alice.id, nick_name="user_renamed1", icon=alice.icon)
    assert [await store.load_user(sid) for sid in mine] == [renamed, renamed]
    assert await store.load_user(theirs) == bob
    assert await store.load_user(gone) is None  # a rename brings no session back
    assert await store.update_user([], {"nickName": "x"}) == 0


@pytest.mark.parametrize("mistakes", [(), ("json-string",)], ids=["hash", "json-string"])
async def test_a_login_whose_row_a_logout_all_ended_is_not_stored_but_a_later_row_is(make, mistakes) -> None:  # type: ignore[no-untyped-def]
    # A login writes its row, then stores the session: a logout-all in
    # between leaves a mark that refuses the save of that row, and only that.
    _, store = make(Clock(), mistakes=mistakes)
    alice, sid = user(), "a-" + random_phone()
    assert await store.end_for_good({sid: 7}) == 0
    assert not await store.save_user(sid, alice, row=7)
    assert (await store.load_user(sid), await store.live_sessions([sid])) == (None, [])
    # The same id with a later row: a token made of the phone (MISTAKE=phone-token).
    assert await store.save_user(sid, alice, row=8)
    assert await store.load_user(sid) == alice
    assert await store.end_for_good({sid: 8, "b-" + random_phone(): 9}) == 1
    assert (await store.load_user(sid), await store.live_sessions([sid])) == (None, [])


@pytest.mark.parametrize("mistakes", [(), ("json-string",)], ids=["hash", "json-string"])
async def test_a_rename_before_a_session_is_stored_reaches_it_when_it_is(make, mistakes) -> None:  # type: ignore[no-untyped-def]
    _, store = make(Clock(), mistakes=mistakes)
    alice, sid = user(), "a-" + random_phone()
    assert await store.update_user([sid], {"nickName": "user_renamed1"}) == 0
    assert await store.update_user([sid], {"icon": "/imgs/icons/renamed.png"}) == 0
    assert (await store.load_user(sid), await store.live_sessions([sid])) == (None, [])
    assert await store.save_user(sid, alice, row=1)
    renamed = UserDTO(id=alice.id, nick_name="user_renamed1", icon="/imgs/icons/renamed.png")
    assert await store.load_user(sid) == renamed
    assert await store.update_user([sid], {"nickName": "user_renamed2"}) == 1
    assert (await store.load_user(sid)).nick_name == "user_renamed2"
    # A mark of logout-all takes no rename.
    assert await store.end_for_good({sid: 1}) == 1
    assert await store.update_user([sid], {"nickName": "user_renamed3"}) == 0
    assert not await store.save_user(sid, alice, row=1)
