"""Per-key rate limits in Redis (fixed one-second windows), with the standard headers."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from kurz import keys


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


async def hit(redis: aioredis.Redis, ident: str, limit: int) -> RateLimit:
    window = int(time.time())
    key = keys.rate_limit("api", ident, window)
    pipe = redis.pipeline(transaction=False)
    pipe.incr(key)
    pipe.expire(key, 2)
    count, _ = await pipe.execute()
    return RateLimit(limit, limit - int(count), window + 1)
