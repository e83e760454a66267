"""Wrong statistics-page passwords, counted in Redis per visitor and group: after
KURZ_PASSWORD_ATTEMPTS wrong answers in KURZ_PASSWORD_WINDOW seconds, the form refuses
every answer, right or wrong, until the window ends."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis
from kurz import keys


def visitor_of(client_ip: str, secret: str) -> str:
    """A keyed hash of the client address: Redis never holds the raw IP."""
    return hashlib.blake2b(
        client_ip.encode(), key=hashlib.sha256(secret.encode()).digest(), digest_size=12
    ).hexdigest()


async def wait_seconds(redis: aioredis.Redis, group_id: int, visitor: str, attempts: int) -> int:
    """0 when the visitor may try; else seconds until the window ends."""
    key = keys.stats_password_attempts(group_id, visitor)
    pipe = redis.pipeline(transaction=False)
    pipe.get(key)
    pipe.ttl(key)
    count, ttl = await pipe.execute()
    if count is None or int(count) < attempts:
        return 0
    return max(int(ttl), 1)


async def record_failure(redis: aioredis.Redis, group_id: int, visitor: str, window: int) -> int:
    """Counts one wrong answer; the window starts with the first one."""
    key = keys.stats_password_attempts(group_id, visitor)
    pipe = redis.pipeline(transaction=True)
    pipe.incr(key)
    pipe.expire(key, window, nx=True)
    count, _ = await pipe.execute()
    return int(count)


async def forget(redis: aioredis.Redis, group_id: int, visitor: str) -> None:
    await redis.delete(keys.stats_password_attempts(group_id, visitor))
