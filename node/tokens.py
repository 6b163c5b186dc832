"""Codes, tokens, and what the store keeps of them.

The store never holds a code or a token, only what cannot be turned back
into one: a keyed hash (HMAC-SHA256) of each code, and a SHA-256 of each
token.  A dump of Redis (or a look at it) therefore logs nobody in.  A
token has 128 random bits, so a plain hash is enough for it; a code has
only a million values, so its hash needs a key the store does not have.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
from collections.abc import Callable

from .sessions.policy import Policy
from .validation import is_phone_valid, is_token_well_formed

# CPython's own SHA-256, the one hashlib falls back to without OpenSSL: on
# every request, for 32 bytes, OpenSSL's set-up cost more than the hash
# (1.0 against 0.6 µs).  The same function: the same digest.
_sha256: Callable[[bytes], hashlib._Hash]
try:
    from _sha2 import sha256 as _sha256  # type: ignore[import-not-found,no-redef]  # Python 3.12 and later
except ImportError:
    try:
        from _sha256 import sha256 as _sha256  # type: ignore[import-not-found,no-redef]  # Python 3.11
    except ImportError:
        _sha256 = hashlib.sha256


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def new_token() -> str:
    """128 random bits, as 32 hex digits (the seed's UUID has 122)."""
    return secrets.token_hex(16)


def code_mac(key: bytes, phone: str, code: str) -> str:
    # The phone is in the message so a hash cannot be replayed for another phone.
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def session_id(token: str) -> str:
    """The key a session is stored under: the first 128 bits of its token's
    SHA-256, as 32 hex digits.  The token has 128 random bits, so more of
    the hash would add no strength, only bytes to every session in Redis."""
    return _sha256(token.encode()).hexdigest()[:32]


# The most headers each of SessionIds' two generations keeps: 10,000
# users' tokens, about 2 MB a generation.
SESSION_IDS_KEPT = 10_000
# A longer header, or one with a character outside ASCII, is never kept:
# a token and its scheme take under 64 ASCII characters, and a header may
# take 8 KB (padded with Unicode spaces, which `_bearer` strips).
_KEPT_HEADER_MAX = 64


class SessionIds:
    """The session id of each ``authorization`` header seen lately, so a
    user's every request does not check and hash their token again: that
    was 8,700 of the 179,000 instructions of a memory-mode request (`make
    bench-instr`), and a user sends the same header for half an hour.

    ``known(header)`` is the session id of a header seen lately, or None;
    ``of(header)`` checks and hashes one not seen (None: no token of our
    shape in it).  Two generations of at most ``kept`` headers: when the
    newer is full it becomes the older and the oldest goes, and a header
    found in the older moves back up.  So the headers in use stay, and a
    flood of new ones costs a check and a hash each, as it would without
    this.  The node keeps these tokens in its own memory (it holds them in
    every request anyway); the store still holds only their hashes."""

    def __init__(self, well_formed: Callable[[str], object], kept: int = SESSION_IDS_KEPT) -> None:
        self._well_formed = well_formed
        self._kept = kept
        self._newer: dict[str, str] = {}
        self._older: dict[str, str] = {}
        # The newer generation's own lookup, bound once: the dict is
        # emptied in place, never replaced (the pipeline binds this).
        self.known = self._newer.get

    def of(self, header: str) -> str | None:
        sid = self._older.get(header)
        if sid is None:
            token = header if self._well_formed(header) else _bearer(header, self._well_formed)
            if token is None:
                return None
            sid = session_id(token)
        if len(header) <= _KEPT_HEADER_MAX and header.isascii():
            newer = self._newer
            if len(newer) >= self._kept:
                self._older = newer.copy()
                newer.clear()
            newer[header] = sid
        return sid

    def __len__(self) -> int:
        return len(self._newer) + len(self._older)


def _bearer(value: str, well_formed: Callable[[str], object]) -> str | None:
    """The token in an authorization header that is not the bare token,
    as the seed's front end sends it: `Bearer <token>`, or spaces around
    it; None if there is none of our shape.  (Never from the query string:
    URLs end up in logs and histories.)"""
    scheme, _, rest = value.strip().partition(" ")
    value = rest.strip() if scheme.lower() == "bearer" else value.strip()
    return value if well_formed(value) else None


def same_mac(a: str, b: str) -> bool:
    """Compare two hashes in constant time."""
    # surrogateescape: a header aiohttp could not decode arrives with lone
    # surrogates, which plain encode() would turn into a 500.
    return hmac.compare_digest(a.encode("utf-8", "surrogateescape"), b.encode("utf-8", "surrogateescape"))


@dataclasses.dataclass(frozen=True, slots=True)
class TokenRules:
    """What a login hands out and what a request may present."""

    new: Callable[[str], str]  # the phone logging in -> its token
    well_formed: Callable[[str], object]  # truthy: a token of this shape may be looked up


def token_rules(policy: Policy) -> TokenRules:
    if policy.makes("phone-token"):
        # The seed's reason for a random token, made runnable: the token goes
        # to the browser and comes back on every request, so a phone number
        # as token is a password that anyone who knows the number can say.
        return TokenRules(new=lambda phone: phone, well_formed=is_phone_valid)
    return TokenRules(new=lambda phone: new_token(), well_formed=is_token_well_formed)
