"""Faults of the services the management API depends on, named once for every family.

Postgres down, restarting, shutting down, read-only or out of connections, and Redis
refusing in any way (unreachable, loading, read-only replica, a cluster slot moved or
down), are "unavailable": each family answers 503 in its own envelope and the client
retries. A value only the database refuses is bad input (400), never a 500 or a 503.
Nothing here imports a web framework: the use cases raise, the API layer renders."""

from __future__ import annotations

import asyncpg
import redis.exceptions
from asyncpg.exceptions import _base as asyncpg_base

DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # "the database system is starting up / shutting down", "terminating connection due
    # to administrator command", a crash restart: all operator interventions.
    asyncpg.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
    # A primary demoted to a standby while connections stay open.
    asyncpg.ReadOnlySQLTransactionError,
    # A pooled session the server terminated can leave asyncpg's protocol mid-state
    # ("cannot switch to state 12; another operation is in progress"): seen while
    # Postgres shuts down, and gone once the pool reconnects.
    asyncpg.InternalClientError,
)

# Every Redis refusal: the management service only caches, counts and rate limits
# there, so no Redis reply is a client's fault (MOVED, ASK, READONLY, LOADING,
# CLUSTERDOWN and TRYAGAIN included).
# The cluster client's own errors (no slot map, a slot no node covers) are no RedisError.
REDIS_UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.RedisError,
    redis.exceptions.RedisClusterException,
)

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (*DATABASE_UNAVAILABLE, *REDIS_UNAVAILABLE)
UNAVAILABLE_MESSAGE = "a dependency (database or cache) is unavailable, try again later"

# Values only the database refuses: an integer outside bigint (asyncpg refuses it before
# sending; its class is also an InterfaceError, so catch these before UNAVAILABLE_ERRORS)
# or text Postgres cannot store, such as a NUL character.
BAD_VALUE_ERRORS: tuple[type[BaseException], ...] = (asyncpg.DataError, asyncpg_base.DataError)
BAD_VALUE_MESSAGE = "a value is out of range or holds a character that cannot be stored (NUL)"
