"""Shared fixtures: throwaway Postgres and Redis processes for the whole test session,
started by the suite itself on free ports (never the machine's own services)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz.db import create_pool
from kurz.dev.servers import Postgres, Redis, free_port
from kurz.migrate import apply_migrations
from kurz.workspaces import create_workspace, ensure_default_domain

DEFAULT_DOMAIN = "kurz.test"


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kurz")


@pytest.fixture(scope="session")
def postgres(tmp_root: Path) -> Iterator[Postgres]:
    pg = Postgres(tmp_root / "postgres", free_port(), ephemeral=True).start()
    apply_migrations(pg.url)
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def redis_server(tmp_root: Path) -> Iterator[Redis]:
    rd = Redis(tmp_root / "redis", free_port()).start()
    yield rd
    rd.stop()


@pytest.fixture(scope="session")
def database_url(postgres: Postgres) -> str:
    return postgres.url


@pytest.fixture(scope="session")
def redis_url(redis_server: Redis) -> str:
    return redis_server.url


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool[Any]]:
    p = await create_pool(database_url, max_size=10)
    async with p.acquire() as conn:
        await ensure_default_domain(conn, DEFAULT_DOMAIN)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


class Workspace:
    def __init__(self, id: int, key: str) -> None:
        self.id = id
        self.key = key

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def new_workspace(pool: asyncpg.Pool[Any], prefix: str = "test", **extra: Any) -> Workspace:
    """A workspace of its own, named `<prefix>-<random>`; `extra` as create_workspace takes
    it (plan, time_zone, ...)."""
    async with pool.acquire() as conn:
        ws_id, key = await create_workspace(conn, f"{prefix}-{uuid.uuid4().hex[:8]}", **extra)
    return Workspace(ws_id, key)


async def plan_workspace(pool: asyncpg.Pool[Any], plan: str, **extra: Any) -> Workspace:
    """A workspace of its own on `plan`."""
    return await new_workspace(pool, plan, plan=plan, **extra)


@pytest.fixture
async def workspace(pool: asyncpg.Pool[Any]) -> Workspace:
    """A fresh workspace per test keeps tests apart without truncating tables."""
    return await new_workspace(pool)
