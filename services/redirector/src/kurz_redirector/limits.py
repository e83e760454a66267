"""Exact click limits: one atomic Redis script per limited visit."""

from __future__ import annotations

import redis.asyncio as aioredis
from kurz import keys
from kurz.models import EdgeLink

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
        self._script = redis.register_script(_TAKE)

    async def admit(self, link: EdgeLink, *, counted: bool) -> bool:
        """True if the visit may go through. Uncounted visits (bots, HEAD) only look.
        Raises RedisError when Redis is away: the caller must not guess."""
        assert link.max_clicks is not None
        allowed = await self._script(
            keys=[keys.click_counter(link.id)], args=[link.max_clicks, 1 if counted else 0]
        )
        return bool(allowed)
