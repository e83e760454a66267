"""The envelope under pressure: rate limiting per key (HTTP 429) and Redis away (the
write still lands in Postgres, the truth)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from kurz.dev.servers import free_port

from tests.conftest import DEFAULT_DOMAIN, plan_workspace
from tests.support.services import Service, Stack, service_env


@pytest.fixture(scope="module")
def stack(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Stack]:
    logs = tmp_root / "vivoldi-limits"
    logs.mkdir(exist_ok=True)
    stack = Stack(service_env(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN), logs)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def strict(stack: Stack) -> Service:
    return stack.add("management", KURZ_API_RATE_LIMIT="3").start()


async def test_rate_limited_with_envelope(strict: Service, pool: asyncpg.Pool[Any]) -> None:
    ws = await plan_workspace(pool, "selfhosted")
    async with httpx.AsyncClient(
        base_url=strict.url, headers={"Authorization": f"APIKey {ws.key}"}
    ) as api:
        responses = await asyncio.gather(*(api.get("/api/link-group/v1/list") for _ in range(12)))
    limited = [r for r in responses if r.status_code == 429]
    assert limited, [r.status_code for r in responses]
    for response in limited:
        body = response.json()
        assert body["code"] == 429 and body["result"] is None and "rate limit" in body["message"]
        assert int(response.headers["retry-after"]) >= 1
        assert response.headers["x-ratelimit-limit"] == "3"
    served = [r for r in responses if r.status_code == 200]
    assert served and all(r.headers["x-ratelimit-limit"] == "3" for r in served)


async def test_redis_away_still_writes_postgres(
    database_url: str, tmp_root: Path, pool: asyncpg.Pool[Any]
) -> None:
    env = service_env(
        database_url, f"redis://127.0.0.1:{free_port()}/0", KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN
    )
    logs = tmp_root / "vivoldi-no-redis"
    logs.mkdir(exist_ok=True)
    stack = Stack(env, logs)
    svc = stack.add("management").start()
    try:
        ws = await plan_workspace(pool, "selfhosted")
        async with httpx.AsyncClient(
            base_url=svc.url, headers={"Authorization": f"APIKey {ws.key}"}
        ) as api:
            body = (await api.post("/api/link-group/v1/create", json={"nm": "offline"})).json()
            assert body["code"] == 0, body
            listed = (await api.get("/api/link-group/v1/list")).json()
    finally:
        stack.stop()
    assert [g["nm"] for g in listed["result"]] == ["offline"]
    assert (
        await pool.fetchval("SELECT name FROM link_groups WHERE id = $1", body["result"]["grpIdx"])
        == "offline"
    )
