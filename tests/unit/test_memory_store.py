"""The in-process store's TTLs and sweeping, on a fake clock.  (The login
rules, the same for both stores, are in tests/cluster/test_store_rules.py.)"""

from node.models import UserDTO
from node.sessions import MemoryLoginGuard, MemorySessionStore, Policy, TTLDict
from tests.helpers import Clock

ALICE = UserDTO(id=1, nick_name="user_alice00000", icon="")


def make_store(**policy: float) -> tuple[MemoryLoginGuard, MemorySessionStore, TTLDict, Clock]:
    """The in-process guard and store, over one dict, as a memory-mode node has them."""
    clock = Clock()
    data = TTLDict(clock=clock)
    rules = Policy(**policy)  # type: ignore[arg-type]
    return MemoryLoginGuard(rules, data), MemorySessionStore(rules, data), data, clock


async def test_a_code_lives_for_its_ttl_and_not_a_moment_longer() -> None:
    guard, _, _, clock = make_store(login_code_ttl=120)
    await guard.save_code("13800000001", "mac")
    clock.now += 119.9
    assert (await guard.take_attempt("13800000001")).status == "judge"
    clock.now += 0.1
    assert (await guard.take_attempt("13800000001")).status == "none"


async def test_reading_a_session_pushes_its_idle_expiry_back() -> None:
    _guard, store, _data, clock = make_store(login_user_ttl=1800, session_max_age=10**6)
    await store.save_user("s", ALICE)
    for _ in range(5):  # 5 x 1500 s: far past one idle TTL, alive because used
        clock.now += 1500
        assert await store.load_user("s") == ALICE
    clock.now += 1800
    assert await store.load_user("s") is None


async def test_abandoned_entries_are_swept_not_kept_forever() -> None:
    guard, store, data, clock = make_store(login_user_ttl=1800, session_max_age=10**6)
    for i in range(1000):
        await store.save_user(f"s{i}", ALICE)
    await store.save_user("kept", ALICE)
    clock.now += 1000
    assert await store.load_user("kept") == ALICE  # refreshed: now due at +2800
    clock.now += 1000  # the 1000 others are past due
    await guard.save_code("13800000001", "mac")  # any write sweeps
    assert await store.load_user("kept") == ALICE
    # Left: the kept session, the code, its send histories (by phone, and by
    # phone and address) and the minute's count of codes sent.
    assert len(data) == 5


async def test_a_refreshed_session_survives_the_sweep_of_its_first_deadline() -> None:
    guard, store, _data, clock = make_store(login_user_ttl=1800, session_max_age=10**6)
    await store.save_user("s", ALICE)
    clock.now += 1700
    await store.load_user("s")
    clock.now += 200  # past the first deadline, within the refreshed one
    await guard.save_code("13800000001", "mac")
    assert await store.load_user("s") == ALICE
