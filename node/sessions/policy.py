"""The rules' numbers, built once from the settings and handed to the
session store and the login guard alike; and the sending rules themselves,
which the in-process guard runs (the Redis guard runs them in Lua)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, NamedTuple

from ..settings import Settings, default_of

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def _default(name: str) -> Any:
    return default_of(Settings, name)


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """Seconds and counts, each the setting of the same name (node/settings.py)."""

    login_code_ttl: float = _default("login_code_ttl")
    login_user_ttl: float = _default("login_user_ttl")
    session_max_age: float = _default("session_max_age")
    max_sessions_per_user: int = _default("max_sessions_per_user")
    code_max_tries: int = _default("code_max_tries")
    phone_max_failures: int = _default("phone_max_failures")
    phone_lockout: float = _default("phone_lockout")
    failure_window: float = _default("failure_window")
    send_interval: float = _default("send_interval")
    send_per_hour: int = _default("send_per_hour")
    send_per_day: int = _default("send_per_day")

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})


class Refusal(NamedTuple):
    """Why a phone may not have what it asked for now, and for how long."""

    reason: Literal["interval", "hour", "day", "locked"]
    retry_after: float  # seconds


class Attempt(NamedTuple):
    """One login try on a phone's code, counted before it is judged."""

    status: Literal["judge", "none", "burned", "locked"]
    mac: str = ""  # the stored keyed hash to judge against, when status is "judge"
    retry_after: float = 0.0  # when status is "locked"


def send_refusal(sent_ms: list[int], now_ms: int, policy: Policy) -> Refusal | None:
    """The sending rules over a phone's send times (ascending, last 24 h):
    one code per ``send_interval``, ``send_per_hour`` an hour,
    ``send_per_day`` a day, sliding windows.  A wait is never longer than
    its window, even for a ``now`` a little before the last send (a request
    that read the clock first and ran second)."""
    if sent_ms and policy.send_interval > 0:
        wait = sent_ms[-1] + policy.send_interval * 1000 - now_ms
        if wait > 0:
            return Refusal("interval", min(wait, policy.send_interval * 1000) / 1000)
    for reason, window, limit in (
        ("hour", HOUR_MS, policy.send_per_hour),
        ("day", DAY_MS, policy.send_per_day),
    ):
        inside = [t for t in sent_ms if t > now_ms - window]
        if len(inside) >= limit:
            # The one that must age out for a send to fit again.
            wait = min(inside[len(inside) - limit] + window - now_ms, window)
            return Refusal(reason, wait / 1000)  # type: ignore[arg-type]
    return None
