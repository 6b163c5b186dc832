import pytest

from node.validation import is_code_well_formed, is_phone_valid, is_token_well_formed


@pytest.mark.parametrize(
    "phone",
    ["13800000001", "14512345678", "15012345678", "15912345678", "16612345678", "17012345678", "19912345678"],
)
def test_phone_numbers_of_the_seed_pattern_are_valid(phone: str) -> None:
    assert is_phone_valid(phone)


@pytest.mark.parametrize(
    "phone",
    [
        "15,12345678",  # the seed's stray comma in 5[0-3,5-9] let this through
        "15412345678",  # 154 is not a mobile prefix in the seed's pattern
        "1380000000",  # 10 digits
        "138000000012",  # 12 digits
        "23800000001",
        "1380000000a",
        "13800000001\n",  # `$` would allow a trailing newline; fullmatch does not
        "１３８００００００００１",  # full-width digits: \d would take them
        "",
        None,
        13800000001,
    ],
)
def test_phone_numbers_outside_the_pattern_are_invalid(phone: object) -> None:
    assert not is_phone_valid(phone)


def test_a_code_is_exactly_six_ascii_digits() -> None:
    assert is_code_well_formed("012345")
    for bad in ("12345", "1234567", "12345a", "１２３４５６", 123456, None):
        assert not is_code_well_formed(bad)


def test_only_tokens_shaped_like_ours_are_looked_up() -> None:
    assert is_token_well_formed("0123456789abcdef0123456789abcdef")
    for bad in ("", "short", "0123456789ABCDEF0123456789ABCDEF", "x" * 32, "0" * 33, "login:code:1"):
        assert not is_token_well_formed(bad)
