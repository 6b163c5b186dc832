"""Input checks, from the seed project's RegexUtils."""

from __future__ import annotations

import re

# The seed's RegexPatterns.PHONE_REGEX with its stray comma removed:
# `5[0-3,5-9]` also matched "15,12345678".  [0-9], not \d, which would
# accept any Unicode digit; fullmatch, as `$` would allow a trailing "\n".
PHONE_RE = re.compile(r"1([38][0-9]|4[579]|5[0-35-9]|6[6]|7[0135678]|9[89])[0-9]{8}")
CODE_RE = re.compile(r"[0-9]{6}")
# What a token from this project looks like; anything else is not looked
# up at all, so junk in the header never becomes a store key.
TOKEN_RE = re.compile(r"[0-9a-f]{32}")


def is_phone_valid(phone: object) -> bool:
    return isinstance(phone, str) and PHONE_RE.fullmatch(phone) is not None


def is_code_well_formed(code: object) -> bool:
    return isinstance(code, str) and CODE_RE.fullmatch(code) is not None


# Truthy for a token of our shape.  Asked on every request, so the compiled
# pattern's own method, with no frame of ours around it: half the
# instructions of a set's issuperset over the characters (`make bench-instr`).
is_token_well_formed = TOKEN_RE.fullmatch
