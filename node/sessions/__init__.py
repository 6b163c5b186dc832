"""Where login state lives: one interface, a backend per store.

The handlers and middlewares talk only to :class:`SessionStore`; which
backend they get is decided by ``SESSION_STORE`` alone (redis, memory or
replicated), so the modes differ in where the state lives and in nothing
else.
"""

from .base import (
    LOGIN_CODE_KEY,
    LOGIN_FAIL_KEY,
    LOGIN_LOCK_KEY,
    LOGIN_SENT_KEY,
    LOGIN_USER_KEY,
    Attempt,
    Limits,
    Refusal,
    SessionStore,
    phone_tag,
)
from .memory_store import MemorySessionStore
from .redis_store import RedisSessionStore
from .replicated_store import ReplicatedSessionStore

__all__ = [
    "LOGIN_CODE_KEY",
    "LOGIN_FAIL_KEY",
    "LOGIN_LOCK_KEY",
    "LOGIN_SENT_KEY",
    "LOGIN_USER_KEY",
    "Attempt",
    "Limits",
    "MemorySessionStore",
    "RedisSessionStore",
    "Refusal",
    "ReplicatedSessionStore",
    "SessionStore",
    "phone_tag",
]
