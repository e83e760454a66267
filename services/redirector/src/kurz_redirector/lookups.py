"""Redis GETs of concurrent cache misses, sent together: one MGET per round trip (on a
Redis Cluster, one MGET per slot: never a multi-key command across slots).

Under mixed traffic many addresses miss the local cache at once; each asks for its key
and awaits its own future, and one task sends every key asked for since its previous
round trip. The task ends when nothing is left to ask and starts again on demand.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import RedisClusterException, RedisError

from kurz_redirector.tasks import stop_task
from kurz_redirector.wire import ClusterWire, Wire

_CHUNK = 1000  # keys per MGET


class BatchedGets:
    def __init__(self, wire: Wire | ClusterWire) -> None:
        self._wire = wire
        self._keys: list[str] = []
        self._waiters: list[asyncio.Future[bytes | None]] = []
        self._task: asyncio.Task[None] | None = None

    async def get(self, key: str) -> bytes | None:
        """The value, or None; RedisError when Redis could not be asked."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bytes | None] = loop.create_future()
        self._keys.append(key)
        self._waiters.append(waiter)
        if self._task is None:
            self._task = loop.create_task(self._run(), name="edge-lookups")
        return await waiter

    async def _run(self) -> None:
        try:
            while self._keys:
                # One more turn of the loop first: misses read in that turn join the MGET.
                await asyncio.sleep(0)
                keys, waiters = self._keys[:_CHUNK], self._waiters[:_CHUNK]
                del self._keys[:_CHUNK], self._waiters[:_CHUNK]
                await self._answer(keys, waiters)
        finally:
            self._task = None

    async def _answer(self, keys: list[str], waiters: list[asyncio.Future[bytes | None]]) -> None:
        try:
            values: list[Any] = await self._wire.mget(keys)
        except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            failure = exc if isinstance(exc, RedisError) else RedisError(repr(exc))
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(failure)
                    waiter.exception()  # a cancelled visit may never look: mark it seen
            return
        except BaseException:
            for waiter in waiters:
                waiter.cancel()
            raise
        for waiter, value in zip(waiters, values, strict=True):
            if not waiter.done():
                waiter.set_result(value)

    async def close(self) -> None:
        if self._task is not None:
            await stop_task(self._task)
        for waiter in self._waiters:
            waiter.cancel()
        self._keys, self._waiters = [], []
        await self._wire.close()
