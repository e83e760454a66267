"""A Redis connection of the hot path's own, spoken to below redis-py's command layer.

redis-py's full call path (retry wrapper, pool checkout, a task per socket write for its
timeout, observability hooks) costs about 80 µs of Python per command: as much as a dozen
redirects. Here hiredis packs the command, one asyncio timeout covers the round trip, and
redis-py's Connection still does the connecting (TLS, auth, RESP parsing).
"""

from __future__ import annotations

import asyncio
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError, ResponseError


class Wire:
    def __init__(self, redis: aioredis.Redis, *, timeout: float = 2.0) -> None:
        pool = redis.connection_pool
        # No socket timeout of its own: the timeout below covers the whole exchange.
        kwargs = {**pool.connection_kwargs, "socket_timeout": None}
        self._connection: AbstractConnection = pool.connection_class(**kwargs)
        self._timeout = timeout

    async def call(self, *args: bytes | str | int) -> Any:
        """One command, one reply. A connection found broken (Redis restarted since its
        last use) is replaced once; other failures raise (RedisError, OSError,
        TimeoutError) and leave the connection closed, to be made again next time."""
        connection = self._connection
        command = hiredis.pack_command(args)  # type: ignore[arg-type]  # its stub says 1-tuple
        for attempt in (1, 2):
            was_connected = connection.is_connected
            try:
                async with asyncio.timeout(self._timeout):
                    if not was_connected:
                        # connect() itself, as redis-py's pools do: a Sentinel-managed
                        # connection asks for the master's address there (sending on an
                        # unconnected one would reach its default address instead).
                        await connection.connect()  # type: ignore[no-untyped-call]  # untyped in redis-py
                    await connection.send_packed_command(command, check_health=False)
                    return await connection.read_response()
            except ResponseError:
                raise  # a complete exchange: the connection stays usable
            except ConnectionError:
                await connection.disconnect(nowait=True)
                if not was_connected or attempt == 2:
                    raise
            except BaseException:
                # The reply may still be on its way: never reuse a connection mid-exchange.
                await connection.disconnect(nowait=True)
                raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        await self._connection.disconnect()
