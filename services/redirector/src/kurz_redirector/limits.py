"""Exact click limits: an atomic Redis script per limited visit, the visits of a moment
sent together in one pipelined round trip (one command per visit, each on its own key,
so Redis Cluster can route them)."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisClusterException, RedisError

from kurz_redirector.cache import Counters
from kurz_redirector.tasks import stop_task

# Let a visit through while the counter is below the limit; a counted visit takes its
# slot in the same step, so with a limit of N exactly N get through however many race.
_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
if ARGV[2] == '1' then redis.call('INCR', KEYS[1]) end
return 1
"""


class ClickLimiter:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis
        self._script = redis.register_script(_TAKE)
        self._pending: list[tuple[str, int, int, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="click-limiter")

    async def close(self) -> None:
        if self._task is not None:
            await stop_task(self._task)

    async def admit(self, counters: Counters, *, counted: bool) -> bool:
        """True if the visit may go through every one of `counters` (the link's own limit
        and its group's): it takes a slot of each. Uncounted visits (bots, HEAD) only
        look. Raises RedisError when Redis is away: the caller must not guess."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[bool]] = []
        for key, limit in counters:
            futures.append(loop.create_future())
            self._pending.append((key, limit, int(counted), futures[-1]))
        self._wake.set()
        allowed = await asyncio.gather(*futures)
        if all(allowed):
            return True
        if counted and any(allowed):
            # One limit said no: give back the slots the others took. Meanwhile a racing
            # visitor may have been refused for them: fewer get through, never more.
            # One DECR per counter, not a script over several keys: a link's counters
            # may sit in different Redis Cluster slots.
            pipe = self._redis.pipeline(transaction=False)
            for (key, _), ok in zip(counters, allowed, strict=True):
                if ok:
                    pipe.decr(key)
            await pipe.execute()
        return False

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await self._take(batch)
                except (RedisError, RedisClusterException, OSError) as exc:
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(RedisError(repr(exc)))
                            future.exception()  # a cancelled visitor need not read it
                    continue
                for (*_, future), allowed in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(bool(allowed))

    async def _take(self, batch: list[tuple[str, int, int, asyncio.Future[bool]]]) -> list[int]:
        for attempt in (1, 2):
            pipe = self._redis.pipeline(transaction=False)
            for key, limit, counted, _ in batch:
                # As a plain command: a cluster pipeline refuses its evalsha() method,
                # yet routes EVALSHA by its one key like any other command.
                pipe.execute_command("EVALSHA", self._script.sha, 1, key, limit, counted)
            try:
                return list(await pipe.execute())
            except NoScriptError:
                if attempt == 2:
                    raise
                # Redis lost its script cache (restart or SCRIPT FLUSH): load it again.
                await self._redis.script_load(_TAKE)
        raise AssertionError("unreachable")
