"""Rules created through the Linkly API route visitors at a running redirector: a
rotator, a geo rule (trusted country header) and a device rule."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Workspace
from tests.support.services import Stack, edge_addressed_stack

COUNTRY_HEADER = "CF-IPCountry"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"
WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0"
LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


@pytest.fixture(scope="module")
def edge_stack(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Stack]:
    """Management and redirector; the default short domain is the redirector's address,
    so every full_url the API answers is directly reachable."""
    logs = tmp_root / "linkly-edge-logs"
    stack = edge_addressed_stack(database_url, redis_url, logs, KURZ_COUNTRY_HEADER=COUNTRY_HEADER)
    yield stack
    stack.stop()


@pytest.fixture
async def edge_api(edge_stack: Stack, workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=edge_stack["management"].url,
        timeout=10,
        headers={"X-API-KEY": workspace.key, "X-WORKSPACE-ID": str(workspace.id)},
    ) as client:
        yield client


async def _create(api: httpx.AsyncClient, rules: list[dict[str, str]]) -> str:
    response = await api.post("/api/v1/link", json={"url": "https://main.example/", "rules": rules})
    assert response.status_code == 200, response.text
    full_url: str = response.json()["full_url"]
    return full_url


async def _visit(url: str, **headers: str) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(url, headers=headers, follow_redirects=False)
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["location"]


async def test_rotator_splits_visits(edge_api: httpx.AsyncClient) -> None:
    url = await _create(
        edge_api,
        [
            {"what": "rotator", "url": "https://www.microsoft.com/", "percentage": "50"},
            {"what": "rotator", "url": "https://www.apple.com/", "percentage": "50"},
        ],
    )
    async with httpx.AsyncClient(timeout=10, headers={"User-Agent": LINUX}) as visitor:
        answers = [await visitor.get(url) for _ in range(120)]
    seen = Counter(a.headers["location"] for a in answers)
    assert set(seen) == {"https://www.microsoft.com/", "https://www.apple.com/"}
    # 120 fair draws: each side far from 0 (the chance of <30 is about 1e-8).
    assert min(seen.values()) >= 30, seen


async def test_geo_rule_follows_the_trusted_country_header(edge_api: httpx.AsyncClient) -> None:
    url = await _create(
        edge_api,
        [
            {"what": "country", "url": "https://uk.example/", "matches": "UK"},
            {"what": "country", "url": "https://us.example/", "matches": "US"},
        ],
    )
    assert await _visit(url, **{COUNTRY_HEADER: "GB"}) == "https://uk.example/"
    assert await _visit(url, **{COUNTRY_HEADER: "US"}) == "https://us.example/"
    assert await _visit(url, **{COUNTRY_HEADER: "FR"}) == "https://main.example/"
    assert await _visit(url) == "https://main.example/"


async def test_device_rule_follows_the_platform(edge_api: httpx.AsyncClient) -> None:
    url = await _create(
        edge_api,
        [
            {"what": "platform", "url": "https://windows.example/", "matches": "windows"},
            {"what": "platform", "url": "https://ios.example/", "matches": "ios"},
        ],
    )
    assert await _visit(url, **{"User-Agent": IPHONE}) == "https://ios.example/"
    assert await _visit(url, **{"User-Agent": WINDOWS}) == "https://windows.example/"
    assert await _visit(url, **{"User-Agent": LINUX}) == "https://main.example/"


async def test_rules_changed_through_the_api_reach_the_edge(edge_api: httpx.AsyncClient) -> None:
    created = (await edge_api.post("/api/v1/link", json={"url": "https://main.example/"})).json()
    assert await _visit(created["full_url"], **{COUNTRY_HEADER: "DE"}) == "https://main.example/"
    update = await edge_api.post(
        "/api/v1/link",
        json={
            "id": created["id"],
            "rules": [{"what": "country", "url": "https://de.example/", "matches": "DE"}],
        },
    )
    assert update.status_code == 200, update.text
    # The redirector's own cache learns of the change by pub/sub: allow it a moment.
    deadline = time.monotonic() + 5
    while (location := await _visit(created["full_url"], **{COUNTRY_HEADER: "DE"})) != (
        "https://de.example/"
    ) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert location == "https://de.example/"
