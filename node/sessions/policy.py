"""The rules' numbers, built once from the settings and handed to the
session store and the login guard alike; and the sending rules themselves,
which the in-process guard runs (the Redis guard runs them in Lua)."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, NamedTuple

from ..mistakes import Mistake
from ..settings import Settings, default_of
from .keys import FIXED_CODE_KEY, LOGIN_CODE_KEY, phone_tag

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# Seconds a logout-all's or a rename's mark waits at a session id for the
# login that wrote its row in Postgres and has not stored the session yet
# (SessionStore.end_for_good, update_user).  A login slower than this is
# refused (views._start_session): the mark may have gone.
IN_FLIGHT = 60.0


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
    phone_sends_per_day: int = _default("phone_sends_per_day")
    sms_per_minute: int = _default("sms_per_minute")
    # The seed's wrong turns this cluster makes (node/mistakes.py): read
    # where what they change is built, never per request.
    mistakes: tuple[Mistake, ...] = ()

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})

    def makes(self, mistake: Mistake) -> bool:
        return mistake in self.mistakes

    def code_key(self, phone: str) -> str:
        """Where a phone's code lives in Redis: one key per phone, or (the
        mistake) one key for all, which the next code sent overwrites."""
        return FIXED_CODE_KEY if self.makes("fixed-code-key") else LOGIN_CODE_KEY + phone_tag(phone)


class Refusal(NamedTuple):
    """Why a phone may not have what it asked for now, and for how long."""

    reason: Literal["interval", "hour", "day", "phone-day", "locked", "busy"]
    retry_after: float  # seconds


class Attempt(NamedTuple):
    """One login try on a phone's code, counted before it is judged."""

    status: Literal["judge", "none", "burned", "locked"]
    mac: str = ""  # the stored keyed hash to judge against, when status is "judge"
    retry_after: float = 0.0  # when status is "locked"


def send_refusal(phone_ms: list[int], source_ms: list[int], now_ms: int, policy: Policy) -> Refusal | None:
    """The sending rules over the send times (ascending, last 24 h) of a
    phone from every address and from the asking one: one code per
    ``send_interval`` whoever asks, ``send_per_hour`` an hour and
    ``send_per_day`` a day from one address, ``phone_sends_per_day`` from
    all (so that one address cannot use up the owner's codes).  A wait is
    never longer than its window, even for a ``now`` a little before the
    last send (a request that read the clock first and ran second)."""
    if phone_ms and policy.send_interval > 0:
        wait = phone_ms[-1] + policy.send_interval * 1000 - now_ms
        if wait > 0:
            return Refusal("interval", min(wait, policy.send_interval * 1000) / 1000)
    for reason, sent, window, limit in (
        ("hour", source_ms, HOUR_MS, policy.send_per_hour),
        ("day", source_ms, DAY_MS, policy.send_per_day),
        ("phone-day", phone_ms, DAY_MS, policy.phone_sends_per_day),
    ):
        inside = [t for t in sent if t > now_ms - window]
        if len(inside) >= limit:
            # The one that must age out for a send to fit again.
            wait = min(inside[len(inside) - limit] + window - now_ms, window)
            return Refusal(reason, wait / 1000)  # type: ignore[arg-type]
    return None


def budget_wait(sent_this_minute: int, now_ms: int, policy: Policy) -> Refusal | None:
    """The cluster's SMS budget: at most ``sms_per_minute`` codes in each
    calendar minute, all phones together (what anyone can make us spend)."""
    if sent_this_minute <= policy.sms_per_minute:
        return None
    return Refusal("busy", (MINUTE_MS - now_ms % MINUTE_MS) / 1000)
