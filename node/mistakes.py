"""The seed's wrong turns, each a switch of the same code: ``MISTAKE``.

The seed (黑马点评's 基于Redis实现共享session登录) argues against each of
these before it reaches its design.  Here they can be made and watched
failing: ``make up MISTAKE=no-refresh LOGIN_USER_TTL=10``.  The settings
check them and the policy they build holds them; each is then read once,
where the part it changes is built (a key, a script, the middleware, the
token maker), never per request in a handler.
"""

from __future__ import annotations

from typing import Literal, get_args

Mistake = Literal["fixed-code-key", "phone-token", "no-refresh", "one-interceptor", "json-string"]
NAMES: tuple[Mistake, ...] = get_args(Mistake)

# What each one does, and what it breaks: for the warning, the page and /cluster/info.
WHAT: dict[Mistake, str] = {
    "fixed-code-key": "every code under one key (login:code): one user's code overwrites another's",
    "phone-token": "the phone number is the token: whoever knows a number is that user",
    "no-refresh": "the session's TTL is set once at login: an active user is logged out when it runs out",
    "one-interceptor": (
        "the TTL is refreshed on protected paths only: a user browsing public pages is logged out"
    ),
    "json-string": "the user is one JSON string, not a hash: a field changes only with the whole value",
}


def mistake_names(raw: str) -> tuple[Mistake, ...]:
    """``MISTAKE``: names, comma-separated, in any order; ``none`` or empty for none."""
    given = {p.strip() for p in raw.split(",") if p.strip() and p.strip() != "none"}
    unknown = sorted(given - set(NAMES))
    if unknown:
        raise ValueError(f"unknown mistake {', '.join(unknown)}: the mistakes are {', '.join(NAMES)}")
    return tuple(name for name in NAMES if name in given)
