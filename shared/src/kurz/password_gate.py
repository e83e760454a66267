"""The one gate in front of every password a visitor types: a link's at the edge, a
group's statistics page at the management service.

Each attempt is counted in Redis before the password is verified, so concurrent guesses
cannot slip past the limit; a right answer clears the count. When Redis cannot count,
the gate is closed (GateUnavailable): without the counter there is no throttle, and
guessing must not become free during an outage."""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from kurz.passwords import verify_password

_COUNTER_FAULTS: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)


class Throttled(Exception):
    """Too many attempts in the window; `retry_after` seconds until it ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class GateUnavailable(Exception):
    """Redis, which counts the attempts, does not answer: no attempt can be checked."""


class PasswordGate:
    def __init__(self, redis: aioredis.Redis, attempts: int, window: int) -> None:
        self._redis = redis
        self._attempts = attempts
        self._window = window

    async def check(self, counter_key: str, password_hash: str, password: str) -> bool:
        """Whether `password` is right, after counting the attempt under `counter_key`
        (one visitor and one protected thing). Raises Throttled or GateUnavailable."""
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.incr(counter_key)
            pipe.expire(counter_key, self._window, nx=True)
            pipe.ttl(counter_key)
            count, _, ttl = await pipe.execute()
        except _COUNTER_FAULTS as exc:
            raise GateUnavailable from exc
        if count > self._attempts:
            raise Throttled(max(int(ttl), 1))
        # argon2 takes tens of milliseconds by design: off the event loop.
        right = await asyncio.to_thread(verify_password, password_hash, password)
        if right:
            with contextlib.suppress(*_COUNTER_FAULTS):
                await self._redis.delete(counter_key)
        return right
