"""The in-process store keeps Redis's TTL semantics (time from a fake clock)."""

from node.models import UserDTO
from node.sessions import MemorySessionStore

ALICE = UserDTO(id=1, nick_name="user_alice00000", icon="")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_store() -> tuple[MemorySessionStore, Clock]:
    clock = Clock()
    return MemorySessionStore(code_ttl=120, user_ttl=1800, clock=clock), clock


async def test_a_code_lives_for_its_ttl_and_not_a_moment_longer() -> None:
    store, clock = make_store()
    await store.save_code("13800000001", "123456")
    clock.now += 119.9
    assert await store.get_code("13800000001") == "123456"
    clock.now += 0.1
    assert await store.get_code("13800000001") is None


async def test_a_new_code_replaces_the_old_one_and_restarts_its_ttl() -> None:
    store, clock = make_store()
    await store.save_code("13800000001", "111111")
    clock.now += 100
    await store.save_code("13800000001", "222222")
    clock.now += 100
    assert await store.get_code("13800000001") == "222222"


async def test_reading_a_session_pushes_its_expiry_back() -> None:
    store, clock = make_store()
    await store.save_user("t", ALICE)
    for _ in range(5):  # 5 x 1500 s: far past one TTL, alive because used
        clock.now += 1500
        assert await store.load_user("t") == ALICE
    clock.now += 1800
    assert await store.load_user("t") is None


async def test_reading_a_code_does_not_extend_it() -> None:
    store, clock = make_store()
    await store.save_code("13800000001", "123456")
    clock.now += 100
    await store.get_code("13800000001")
    clock.now += 20
    assert await store.get_code("13800000001") is None


async def test_deleting_a_session_ends_it() -> None:
    store, _ = make_store()
    await store.save_user("t", ALICE)
    await store.delete_user("t")
    assert await store.load_user("t") is None
    await store.delete_user("t")  # a second logout is harmless


async def test_unknown_keys_are_none() -> None:
    store, _ = make_store()
    assert await store.load_user("nope") is None
    assert await store.get_code("13800000001") is None


async def test_abandoned_sessions_are_swept_not_kept_forever() -> None:
    store, clock = make_store()
    for i in range(1000):
        await store.save_user(f"t{i}", ALICE)
    await store.save_user("kept", ALICE)
    clock.now += 1000
    assert await store.load_user("kept") == ALICE  # refreshed: now due at +2800
    clock.now += 1000  # the 1000 others are past due
    await store.save_code("13800000001", "123456")  # any write sweeps
    assert len(store) == 2
    assert await store.load_user("kept") == ALICE


async def test_a_refreshed_session_survives_the_sweep_of_its_first_deadline() -> None:
    store, clock = make_store()
    await store.save_user("t", ALICE)
    clock.now += 1700
    await store.load_user("t")
    clock.now += 200  # past the first deadline, within the refreshed one
    await store.save_code("13800000001", "123456")
    assert await store.load_user("t") == ALICE
    clock.now += 1800
    await store.save_code("13800000002", "123456")
    assert len(store) == 1  # only the second code is left
