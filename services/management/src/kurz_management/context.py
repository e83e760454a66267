"""What request handlers share: settings, the Postgres pool, Redis and the edge cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz.edge_cache import EdgeCache
from kurz.settings import Settings
from starlette.requests import Request


@dataclass
class AppContext:
    settings: Settings
    pool: asyncpg.Pool[Any]
    redis: aioredis.Redis
    cache: EdgeCache


def context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx
