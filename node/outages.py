"""Which exceptions mean "a store is down" rather than "a bug".

A request that hits one of these answers 503 with the envelope: never a
500 (it is not our bug) and, above all, never a 401 (a 401 would log the
user out because of our outage).
"""

from __future__ import annotations

import asyncpg
import redis.exceptions

# Refused, reset, timed out, still loading its AOF after a restart; and
# the moments of a failover: no master known to the sentinels yet (a
# ConnectionError), a demoted master refusing a write, a Redis Cluster
# whose dead master's slots no server serves yet, or that is moving them.
SESSION_STORE_DOWN: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.ClusterError,
    redis.exceptions.SlotNotCoveredError,
    redis.exceptions.TryAgainError,
    # At maxmemory (the launcher's Redis evicts nothing): no new state.
    redis.exceptions.OutOfMemoryError,
)

# Refused (OSError), timed out (command_timeout), lost mid-query, shutting
# down or starting up, out of connection slots.
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)

# A store's answer that came too late to be trusted, whatever the store.
SessionStoreTimeout = redis.exceptions.TimeoutError

SESSION_STORE_UNAVAILABLE = "session store unavailable"
DATABASE_UNAVAILABLE = "database unavailable"
