"""What one replicated node sends and another applies, without the network:
the state of one store applied to another, and malformed changes refused."""

from __future__ import annotations

import dataclasses

import pytest

from node.models import UserDTO
from node.sessions import MemoryLoginGuard, MemorySessionStore, Policy, ReplicatedDict
from tests.helpers import Clock

ALICE = UserDTO(id=7, nick_name="user_alice00000", icon="/a.png")


@dataclasses.dataclass
class Node:
    """What a replicated node holds: its copy, and the backends over it."""

    data: ReplicatedDict
    guard: MemoryLoginGuard
    store: MemorySessionStore


def node(clock: Clock) -> Node:
    data = ReplicatedDict(node_name="n", peers=(), secret_key="k", clock=clock)
    policy = Policy(login_user_ttl=1800)
    return Node(data, MemoryLoginGuard(policy, data), MemorySessionStore(policy, data))


async def test_a_peer_given_the_state_knows_every_session_and_code_with_its_expiry() -> None:
    clock = Clock()
    first, second = node(clock), node(clock)
    await first.store.save_user("s1", ALICE)
    await first.guard.save_code("13800000001", "mac")
    second.data.apply(first.data.state())
    assert await second.store.load_user("s1") == ALICE
    assert (await second.guard.take_attempt("13800000001")).mac == "mac"
    clock.now += 1801  # the same deadline on every copy
    assert await second.store.load_user("s1") is None


async def test_a_peer_given_the_marks_refuses_the_save_and_keeps_the_rename_they_stand_for() -> None:
    # Logout-all and a rename on one node, a login's save on another.
    clock = Clock()
    first, second = node(clock), node(clock)
    await first.store.end_for_good({"s1": 3})
    await first.store.update_user(["s2"], {"nickName": "user_renamed00"})
    second.data.apply(first.data.state())
    assert not await second.store.save_user("s1", ALICE, row=3)
    assert await second.store.save_user("s2", ALICE, row=4)
    assert await second.store.load_user("s2") == dataclasses.replace(ALICE, nick_name="user_renamed00")


async def test_a_mark_beats_the_session_of_its_row_stored_later_on_another_node() -> None:
    # Logout-all on one node ends a login's row; the login's node, which has
    # not heard yet, stores the session after it.  The mark wins both ways.
    clock = Clock()
    first, second = node(clock), node(clock)
    await first.store.end_for_good({"s1": 3})
    clock.now += 0.01
    assert await second.store.save_user("s1", ALICE, row=3)
    marked, stored = first.data.state(), second.data.state()
    first.data.apply(stored)
    second.data.apply(marked)
    assert [await n.store.load_user("s1") for n in (first, second)] == [None, None]
    # A later login's session (a later row: MISTAKE=phone-token) is not the mark's.
    clock.now += 0.01
    assert await second.store.save_user("s1", ALICE, row=4)
    first.data.apply(second.data.state())
    assert await first.store.load_user("s1") == ALICE


async def test_a_deletion_travels_as_a_change_without_a_value() -> None:
    clock = Clock()
    first, second = node(clock), node(clock)
    await first.store.save_user("s1", ALICE)
    second.data.apply(first.data.state())
    second.data.apply([["token:s1", None, None, [first.data.entries()[0][2], "z"]]])
    assert await second.store.load_user("s1") is None


@pytest.mark.parametrize(
    "changes",
    [
        [["token:s1"]],
        [[1, {"v": 1}, 2.0, [1.0, "n"]]],
        [["token:s1", {"session": {"id": "x"}}, 2e9, [1.0, "n"]]],
        [["token:s1", {"session": {"id": 1e999, "nickName": "u", "icon": "", "exp": 1}}, 2e9, [1.0, "n"]]],
        [["token:s1", "not an object", 2e9, [1.0, "n"]]],
        [["token:s1", {"ended": "a row"}, 2e9, [1.0, "n"]]],
        [["token:s1", {"pending": 5}, 2e9, [1.0, "n"]]],
        [["token:s1", {"v": 1}, "soon", [1.0, "n"]]],
        [["token:s1", {"v": 1}, 2e9, "yesterday"]],
        [["token:s1", {"v": 1}, 2e9, None]],
    ],
)
async def test_a_malformed_change_is_refused_and_nothing_is_applied(changes: list[object]) -> None:
    store = node(Clock())
    good = ["token:s2", {"session": {"id": 1, "nickName": "u", "icon": "", "exp": 2e9}}, 2e9, [1.0, "n"]]
    with pytest.raises(ValueError):
        store.data.apply([good, *changes])  # type: ignore[list-item]
    assert await store.store.load_user("s2") is None


async def test_a_late_change_never_undoes_a_later_one() -> None:
    # A refresh on one node racing a logout on another must not bring the
    # session back: the deletion is newer, and a refresh only moves a deadline.
    clock = Clock()
    first, second = node(clock), node(clock)
    await first.store.save_user("s1", ALICE)
    second.data.apply(first.data.state())
    set_version = first.data.state()[0][3]
    second.data.apply([["token:s1", None, None, [clock.now + 1, "b"]]])  # logged out on b
    second.data.apply([["token:s1", {"touch": True}, clock.now + 1800, None]])  # a refresh, late
    second.data.apply(first.data.state())  # the login again, late
    assert set_version[0] < clock.now + 1
    assert await second.store.load_user("s1") is None


async def test_a_refresh_moves_the_deadline_in_place() -> None:
    clock = Clock()
    first, second = node(clock), node(clock)
    await first.store.save_user("s1", ALICE)
    second.data.apply(first.data.state())
    for _ in range(1000):
        clock.now += 1
        second.data.apply([["token:s1", {"touch": True}, clock.now + 1800, None]])
    assert len(second.data._deadlines) <= 2  # not one heap item per refresh
    clock.now += 1799
    assert await second.store.load_user("s1") == ALICE
