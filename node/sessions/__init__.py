"""Where login state lives: one interface, a backend per store.

The handlers and middlewares talk only to :class:`SessionStore`; which
backend they get is decided by ``SESSION_STORE`` alone, so the two modes
differ in where the state lives and in nothing else.
"""

from .base import LOGIN_CODE_KEY, LOGIN_USER_KEY, SessionStore
from .memory_store import MemorySessionStore
from .redis_store import RedisSessionStore

__all__ = [
    "LOGIN_CODE_KEY",
    "LOGIN_USER_KEY",
    "MemorySessionStore",
    "RedisSessionStore",
    "SessionStore",
]
