"""Rate limits in Redis (fixed one-second windows), with the standard headers.

A limit fails open: Redis being away, slow or refusing (a moved slot, a read-only
replica) must not stop the API, whose truth is Postgres."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from kurz import keys

from kurz_management.core.faults import REDIS_UNAVAILABLE

log = logging.getLogger(__name__)
_FAILS_OPEN: tuple[type[BaseException], ...] = (*REDIS_UNAVAILABLE, OSError, TimeoutError)
TIMEOUT = 1.0  # seconds a limit may take before the request goes on unlimited


@dataclass(frozen=True)
class RateLimit:
    limit: int
    remaining: int
    reset: int  # Unix seconds when the window resets

    @property
    def exceeded(self) -> bool:
        return self.remaining < 0

    def headers(self) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(self.reset),
        }
        if self.exceeded:
            headers["Retry-After"] = str(max(1, self.reset - int(time.time())))
        return headers


async def hit(redis: aioredis.Redis, ident: str, limit: int) -> RateLimit | None:
    """Counts one request against `ident`; None when Redis does not answer in time."""
    window = int(time.time())
    key = keys.rate_limit("api", ident, window)
    try:
        async with asyncio.timeout(TIMEOUT):
            pipe = redis.pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, 2)
            count, _ = await pipe.execute()
    except _FAILS_OPEN as exc:
        log.warning("rate limiter unavailable, request let through: %r", exc)
        return None
    return RateLimit(limit, limit - int(count), window + 1)


async def peek(redis: aioredis.Redis, ident: str, limit: int) -> RateLimit | None:
    """`ident`'s standing in this window without counting a request."""
    window = int(time.time())
    try:
        async with asyncio.timeout(TIMEOUT):
            count = await redis.get(keys.rate_limit("api", ident, window))
    except _FAILS_OPEN as exc:
        log.warning("rate limiter unavailable, request let through: %r", exc)
        return None
    return RateLimit(limit, limit - int(count or 0), window + 1)
