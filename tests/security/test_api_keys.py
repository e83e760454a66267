"""API keys: never stored in clear, revoked at once, rate limited per key with the
standard headers and 429 + Retry-After, in every family."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz.workspaces import create_key, revoke_key

from tests.conftest import Workspace
from tests.security.conftest import MANAGEMENT_ENV, family_headers, start
from tests.support.services import Service

RATE_LIMIT = 5
FAMILY_READS = {
    "native": "/api/v1/links",
    "vivoldi": "/api/link-group/v2/list",
    "linkly": "/api/v1/workspace/{ws}/links/export",
}


def unauthorized(family: str, response: httpx.Response) -> bool:
    if family == "vivoldi":
        return response.status_code == 401 and response.json()["code"] == 401
    return response.status_code == 401 and "error" in response.json()


async def test_no_key_is_stored_in_clear(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace
) -> None:
    async with pool.acquire() as conn:
        second = await create_key(conn, workspace.id)
    for key in (workspace.key, second):  # used, so every place a key could land is written
        for family, path in FAMILY_READS.items():
            ws = Workspace(workspace.id, key)
            answer = await http.get(path.format(ws=ws.id), headers=family_headers(family, ws))
            assert answer.status_code == 200, answer.text
    tables = await pool.fetch(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    assert len(tables) > 5
    for key in (workspace.key, second):
        secret = key.removeprefix("kurz_")
        forms = [secret, secret.encode().hex(), base64.b64encode(key.encode()).decode()]
        for table in tables:
            name = table["table_name"]
            for form in forms:
                hits = await pool.fetchval(
                    f'SELECT count(*) FROM "{name}" t WHERE strpos(t::text, $1) > 0', form
                )
                assert hits == 0, f"key found in clear in table {name}"
        async for redis_key in redis.scan_iter(count=1000):
            assert secret.encode() not in redis_key
    digests = await pool.fetch(
        "SELECT key_hash FROM api_keys WHERE workspace_id = $1", workspace.id
    )
    assert len(digests) == 2 and all(len(d["key_hash"]) == 32 for d in digests)


@pytest.mark.parametrize("family", sorted(FAMILY_READS))
async def test_a_revoked_key_is_refused_on_the_next_request(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace, family: str
) -> None:
    path = FAMILY_READS[family].format(ws=workspace.id)
    headers = family_headers(family, workspace)
    assert (await http.get(path, headers=headers)).status_code == 200
    async with pool.acquire() as conn:
        assert await revoke_key(conn, workspace.key)
    assert unauthorized(family, await http.get(path, headers=headers))
    other = "kurz_" + "A" * 43  # well-formed, unknown
    assert unauthorized(family, await http.get(path, headers=family_headers(
        family, Workspace(workspace.id, other))))  # fmt: skip


@pytest.fixture(scope="module")
def limited_server(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    env = {**MANAGEMENT_ENV, "KURZ_API_RATE_LIMIT": str(RATE_LIMIT)}
    stack, service = start("management", database_url, redis_url, tmp_root / "security-rl", env)
    yield service
    stack.stop()


@pytest.fixture
async def limited(limited_server: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=limited_server.url, timeout=30) as client:
        yield client


async def burst(
    client: httpx.AsyncClient, family: str, ws: Workspace, n: int
) -> list[httpx.Response]:
    path = FAMILY_READS[family].format(ws=ws.id)
    return list(await asyncio.gather(
        *(client.get(path, headers=family_headers(family, ws)) for _ in range(n))
    ))  # fmt: skip


@pytest.mark.parametrize("family", sorted(FAMILY_READS))
async def test_each_key_is_rate_limited_with_standard_headers(
    limited: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace, family: str
) -> None:
    answers = await burst(limited, family, workspace, 3 * RATE_LIMIT)
    passed = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(passed) + len(refused) == len(answers)
    # Fixed one-second windows: a burst may straddle two of them, never more.
    assert RATE_LIMIT <= len(passed) <= 2 * RATE_LIMIT and refused
    for answer in answers:
        assert answer.headers["X-RateLimit-Limit"] == str(RATE_LIMIT)
        assert 0 <= int(answer.headers["X-RateLimit-Remaining"]) < RATE_LIMIT
        assert int(answer.headers["X-RateLimit-Reset"]) > 1_700_000_000
    for answer in refused:
        assert 1 <= int(answer.headers["Retry-After"]) <= 2
        body = answer.json()
        assert body["code"] == 429 if family == "vivoldi" else body["error"]
    # Another key of another workspace has its own budget, untouched by the burst.
    async with pool.acquire() as conn:
        from kurz.workspaces import create_workspace

        other_id, other_key = await create_workspace(conn, "rate-other")
    fresh = await burst(limited, family, Workspace(other_id, other_key), 1)
    assert fresh[0].status_code == 200, fresh[0].text
