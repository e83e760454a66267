"""What the use cases share: settings, the Postgres pool, Redis and the edge cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz.edge_cache import EdgeCache
from kurz.settings import Settings


@dataclass
class AppContext:
    settings: Settings
    pool: asyncpg.Pool[Any]
    redis: aioredis.Redis
    cache: EdgeCache
