"""Where login state lives: two interfaces, a backend of each per store.

:class:`LoginGuard` (codes and the login rules) and :class:`SessionStore`
(sessions), both built from one :class:`Policy`.  ``SESSION_STORE`` alone
picks the backends (redis, memory or replicated), so the modes differ in
where the state lives and in nothing else.
"""

from .base import LoginGuard, SessionStore
from .keys import (
    LOGIN_CODE_KEY,
    LOGIN_FAIL_KEY,
    LOGIN_LOCK_KEY,
    LOGIN_SENT_KEY,
    LOGIN_USER_KEY,
    SMS_BUDGET_KEY,
    phone_source,
    phone_tag,
)
from .memory import MemoryLoginGuard, MemorySessionStore
from .policy import IN_FLIGHT, Attempt, Policy, Refusal
from .redis_io import RoundTrips, TickBatch
from .redis_store import RedisLoginGuard, RedisSessionStore
from .replicated import ReplicatedDict
from .ttl_dict import TTLDict

__all__ = [
    "IN_FLIGHT",
    "LOGIN_CODE_KEY",
    "LOGIN_FAIL_KEY",
    "LOGIN_LOCK_KEY",
    "LOGIN_SENT_KEY",
    "LOGIN_USER_KEY",
    "SMS_BUDGET_KEY",
    "Attempt",
    "LoginGuard",
    "MemoryLoginGuard",
    "MemorySessionStore",
    "Policy",
    "RedisLoginGuard",
    "RedisSessionStore",
    "Refusal",
    "ReplicatedDict",
    "RoundTrips",
    "SessionStore",
    "TTLDict",
    "TickBatch",
    "phone_source",
    "phone_tag",
]
