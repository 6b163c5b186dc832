"""What one replicated node sends and another applies, without the network:
the state of one store applied to another, and malformed changes refused."""

from __future__ import annotations

import pytest

from node.models import UserDTO
from node.sessions import Limits
from node.sessions.replicated_store import ReplicatedSessionStore

ALICE = UserDTO(id=7, nick_name="user_alice00000", icon="/a.png")


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def node(clock: Clock) -> ReplicatedSessionStore:
    return ReplicatedSessionStore(Limits(user_ttl=1800), node_name="n", peers=(), secret_key="k", clock=clock)


async def test_a_peer_given_the_state_knows_every_session_and_code_with_its_expiry() -> None:
    clock = Clock()
    first, second = node(clock), node(clock)
    await first.save_user("s1", ALICE)
    await first.save_code("13800000001", "mac")
    second.apply(first.state())
    assert await second.load_user("s1") == ALICE
    assert (await second.take_attempt("13800000001")).mac == "mac"
    clock.now += 1801  # the same deadline on every copy
    assert await second.load_user("s1") is None


async def test_a_deletion_travels_as_a_change_without_a_value() -> None:
    clock = Clock()
    first, second = node(clock), node(clock)
    await first.save_user("s1", ALICE)
    second.apply(first.state())
    second.apply([["token:s1", None, None]])
    assert await second.load_user("s1") is None


@pytest.mark.parametrize(
    "changes",
    [
        [["token:s1"]],
        [[1, {"v": 1}, 2.0]],
        [["token:s1", {"session": {"id": "x"}}, 2e9]],
        [["token:s1", "not an object", 2e9]],
        [["token:s1", {"v": 1}, "soon"]],
    ],
)
async def test_a_malformed_change_is_refused_and_nothing_is_applied(changes: list[object]) -> None:
    store = node(Clock())
    good = ["token:s2", {"session": {"id": 1, "nickName": "u", "icon": "", "exp": 2e9}}, 2e9]
    with pytest.raises(ValueError):
        store.apply([good, *changes])  # type: ignore[list-item]
    assert await store.load_user("s2") is None
