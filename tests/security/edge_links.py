"""Links written the way the management service writes them (a row in Postgres, then
the edge record in Redis), with any column set directly: the edge must be safe with
whatever is stored, whether or not an API would have accepted it."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz.models import EdgeLink

from tests.conftest import DEFAULT_DOMAIN
from tests.integration.redirector.conftest import create_link


def new_slug() -> str:
    return "x" + uuid.uuid4().hex[:10]


async def stored_link(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace_id: int, **fields: Any
) -> EdgeLink:
    fields.setdefault("slug", new_slug())
    return await create_link(pool, redis, workspace_id, host=DEFAULT_DOMAIN, **fields)
