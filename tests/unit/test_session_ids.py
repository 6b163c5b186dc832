"""tokens.SessionIds: the session id of each authorization header seen
lately, the same as hashing the token each time."""

from node.tokens import SessionIds, new_token, session_id
from node.validation import is_phone_valid, is_token_well_formed


def test_a_header_seen_again_gives_the_session_id_of_its_token() -> None:
    ids = SessionIds(is_token_well_formed)
    token = new_token()
    assert ids.known(token) is None
    assert ids.of(token) == session_id(token)
    assert ids.known(token) == session_id(token)


def test_a_bearer_header_gives_the_session_id_of_its_token() -> None:
    ids = SessionIds(is_token_well_formed)
    token = new_token()
    for header in (f"Bearer {token}", f"bearer   {token}", f" {token} "):
        assert ids.of(header) == session_id(token)
        assert ids.known(header) == session_id(token)


def test_a_header_with_no_token_of_our_shape_is_neither_looked_up_nor_kept() -> None:
    ids = SessionIds(is_token_well_formed)
    for header in (
        "",
        "nope",
        "0" * 31,
        "0" * 33,
        "Bearer",
        "Basic " + "0" * 32,
        "login:token:*",
        "x" * 4000,
    ):
        assert ids.of(header) is None
        assert ids.known(header) is None
    assert len(ids) == 0


def test_a_phone_as_token_gives_the_session_id_of_the_phone() -> None:
    ids = SessionIds(is_phone_valid)  # MISTAKE=phone-token
    assert ids.of("13800000001") == session_id("13800000001")
    assert ids.of(new_token()) is None


def test_a_long_or_non_ascii_header_is_answered_but_not_kept() -> None:
    # aiohttp lets a header run to 8 KB: spaces around a token are allowed
    # (Unicode ones too), and a cache of such keys would fill the node's memory.
    ids = SessionIds(is_token_well_formed)
    token = new_token()
    for header in ("Bearer " + " " * 100 + token, "\u3000" * 8 + token):
        assert ids.of(header) == session_id(token)
        assert ids.known(header) is None
    assert len(ids) == 0


def test_at_most_two_generations_are_kept_and_a_header_in_use_is_checked_once() -> None:
    checked: list[str] = []

    def well_formed(header: str) -> bool:
        checked.append(header)
        return bool(is_token_well_formed(header))

    ids = SessionIds(well_formed, kept=100)
    in_use = new_token()
    for _ in range(1_000):  # a flood of new headers, and one user's requests between them
        assert (ids.known(in_use) or ids.of(in_use)) == session_id(in_use)
        ids.of(new_token())
        assert len(ids) <= 200
    assert checked.count(in_use) == 1  # then found in one generation or the other, never hashed again


def test_a_header_kept_after_a_generation_turned_is_found_at_once() -> None:
    # The pipeline binds `known` once: the newer generation must stay the same dict.
    ids = SessionIds(is_token_well_formed, kept=100)
    for _ in range(250):
        ids.of(new_token())
    latest = new_token()
    ids.of(latest)
    assert ids.known(latest) == session_id(latest)
