"""Who may call, and how often, is one policy for every API family: bursts with a valid
key, without a key and with a wrong key are all rate limited with the standard headers,
and a flood of wrong keys stops costing database queries once its address is over the
limit. The plan gate on group statistics holds in every family that has groups."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import new_workspace, plan_workspace
from tests.support.families import FAMILIES, LINKLY, Family
from tests.support.inprocess import management_client

LIMIT = 5
RATE_HEADERS = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}


async def _burst(
    family: Family, http: httpx.AsyncClient, key: str | None, workspace_id: int
) -> list[httpx.Response]:
    """LIMIT * 3 creates inside one rate-limit window (a second), started together."""
    calls = [
        family.create(http, key, workspace_id, f"https://example.com/{n}") for n in range(LIMIT * 3)
    ]
    return list(await asyncio.gather(*calls))


def _assert_limited(family: Family, answers: list[httpx.Response], allowed: int) -> None:
    refused = [a for a in answers if a.status_code == 429]
    # A burst may straddle a window boundary, letting at most a second budget through.
    assert LIMIT * 3 - 2 * allowed <= len(refused) <= LIMIT * 3 - allowed, [
        a.status_code for a in answers
    ]
    for answer in refused:
        family.assert_refused(answer, 429)
        assert set(answer.headers) >= RATE_HEADERS and int(answer.headers["retry-after"]) >= 1
        assert answer.headers["x-ratelimit-remaining"] == "0"


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
async def test_bursts_with_a_valid_key_are_limited(
    family: Family, pool: asyncpg.Pool[Any], database_url: str, redis_url: str
) -> None:
    tenant = await new_workspace(pool)
    env = {"KURZ_API_RATE_LIMIT": str(LIMIT)}
    async with management_client(database_url, redis_url, client="198.51.100.1", **env) as http:
        answers = await _burst(family, http, tenant.key, tenant.id)
    assert sum(family.created(a) for a in answers) >= LIMIT
    _assert_limited(family, answers, LIMIT)
    for answer in answers:
        assert set(answer.headers) >= RATE_HEADERS


@pytest.mark.parametrize("key", [None, "kurz_not-a-key"], ids=["no key", "wrong key"])
@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
async def test_bursts_without_a_valid_key_are_limited_by_address(
    family: Family, key: str | None, database_url: str, redis_url: str
) -> None:
    address = f"198.51.100.{10 + FAMILIES.index(family) * 2 + (key is None)}"
    env = {"KURZ_API_RATE_LIMIT": str(LIMIT)}
    async with management_client(database_url, redis_url, client=address, **env) as http:
        answers = await _burst(family, http, key, 1)
    unauthorized = [a for a in answers if a.status_code == 401]
    assert len(unauthorized) >= LIMIT - 1
    for answer in unauthorized:
        family.assert_refused(answer, 401)
        assert set(answer.headers) >= RATE_HEADERS
    _assert_limited(family, answers, LIMIT)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
async def test_an_address_over_its_limit_is_refused_before_any_key_lookup(
    family: Family, database_url: str, redis_url: str, tmp_path: Any
) -> None:
    """Once an address has spent its budget on wrong keys, its next wrong key is
    refused without asking Postgres: here Postgres is not even reachable."""
    address = f"198.51.100.{40 + FAMILIES.index(family)}"
    env = {"KURZ_API_RATE_LIMIT": str(LIMIT)}
    nowhere = "postgresql://postgres@127.0.0.1:9/kurz"  # nothing listens on port 9
    async with (
        management_client(database_url, redis_url, client=address, **env) as http,
        management_client(
            nowhere, redis_url, client=address, DATABASE_POOL_MIN="0", **env
        ) as cut_off,
    ):
        # Budgets are per one-second window: spend one and probe in the same window (on
        # a busy machine a window may end midway; then the round is run again).
        for _ in range(5):
            await asyncio.sleep(1.001 - time.time() % 1)
            window = int(time.time())
            for n in range(LIMIT + 1):
                await family.create(http, f"kurz_wrong-{n}", 1, "https://example.com/")
            answer = await family.create(cut_off, "kurz_wrong-again", 1, "https://example.com/")
            if int(time.time()) == window:
                break
    family.assert_refused(answer, 429)


@pytest.mark.parametrize("family", [f for f in FAMILIES if f is not LINKLY], ids=lambda f: f.name)
async def test_group_statistics_need_a_plan_that_has_them(
    family: Family, pool: asyncpg.Pool[Any], database_url: str, redis_url: str
) -> None:
    """Linkly's API has no groups; the other two gate statistics by group alike."""
    free = await plan_workspace(pool, "free")
    personal = await plan_workspace(pool, "personal")
    async with management_client(database_url, redis_url) as http:
        groups = {}
        for tenant in (free, personal):
            async with pool.acquire() as conn:
                groups[tenant.id] = await conn.fetchval(
                    "INSERT INTO link_groups (workspace_id, name) VALUES ($1, 'g') RETURNING id",
                    tenant.id,
                )
        refused = await family.group_clicks(http, free.key, free.id, groups[free.id])
        allowed = await family.group_clicks(http, personal.key, personal.id, groups[personal.id])
    family.assert_refused(refused, 403)
    assert "plan" in refused.text.lower() or "personal" in refused.text.lower()
    assert allowed.status_code == 200, allowed.text
