"""The in-process store's TTLs and sweeping, on a fake clock.  (The login
rules, the same for both stores, are in tests/cluster/test_store_rules.py.)"""

from node.models import UserDTO
from node.sessions import Limits, MemorySessionStore
from tests.helpers import Clock

ALICE = UserDTO(id=1, nick_name="user_alice00000", icon="")


def make_store(**limits: float) -> tuple[MemorySessionStore, Clock]:
    clock = Clock()
    return MemorySessionStore(Limits(**limits), clock=clock), clock  # type: ignore[arg-type]


async def test_a_code_lives_for_its_ttl_and_not_a_moment_longer() -> None:
    store, clock = make_store(code_ttl=120)
    await store.save_code("13800000001", "mac")
    clock.now += 119.9
    assert (await store.take_attempt("13800000001")).status == "judge"
    clock.now += 0.1
    assert (await store.take_attempt("13800000001")).status == "none"


async def test_reading_a_session_pushes_its_idle_expiry_back() -> None:
    store, clock = make_store(user_ttl=1800, session_max_age=10**6)
    await store.save_user("s", ALICE)
    for _ in range(5):  # 5 x 1500 s: far past one idle TTL, alive because used
        clock.now += 1500
        assert await store.load_user("s") == ALICE
    clock.now += 1800
    assert await store.load_user("s") is None


async def test_abandoned_entries_are_swept_not_kept_forever() -> None:
    store, clock = make_store(user_ttl=1800, session_max_age=10**6)
    for i in range(1000):
        await store.save_user(f"s{i}", ALICE)
    await store.save_user("kept", ALICE)
    clock.now += 1000
    assert await store.load_user("kept") == ALICE  # refreshed: now due at +2800
    clock.now += 1000  # the 1000 others are past due
    await store.save_code("13800000001", "mac")  # any write sweeps
    assert await store.load_user("kept") == ALICE
    # Left: the kept session, the code and its send history.
    assert len(store) == 3


async def test_a_refreshed_session_survives_the_sweep_of_its_first_deadline() -> None:
    store, clock = make_store(user_ttl=1800, session_max_age=10**6)
    await store.save_user("s", ALICE)
    clock.now += 1700
    await store.load_user("s")
    clock.now += 200  # past the first deadline, within the refreshed one
    await store.save_code("13800000001", "mac")
    assert await store.load_user("s") == ALICE
