"""End to end: visits through the running redirector, counted by the running aggregator,
read back through every family's statistics endpoint with the same exact figures.

Visits to one link of a group with blockOverseasSticsYn=Y, in a workspace at home in DE:
visitor A three times and visitor B once from DE (counted: 4 clicks, 2 visitors), visitor
C from the US (overseas: left out), Googlebot, and a HEAD request (neither counted)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace
from tests.integration.analytics.conftest import GOOGLEBOT, new_workspace
from tests.support.services import Stack, edge_addressed_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Stack]:
    logs = tmp_root / "analytics-pipeline-logs"
    stack = edge_addressed_stack(
        database_url,
        redis_url,
        logs,
        "aggregator",
        KURZ_COUNTRY_HEADER="CF-IPCountry",
        KURZ_API_RATE_LIMIT="100000",
    )
    yield stack
    stack.stop()


async def _visits(short_url: str) -> None:
    def agent(name: str) -> str:
        return f"Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.{name}"

    visits: list[tuple[str, str, str]] = [
        ("GET", agent("a"), "DE"), ("GET", agent("a"), "DE"), ("GET", agent("a"), "DE"),
        ("GET", agent("b"), "DE"), ("GET", agent("c"), "US"), ("GET", GOOGLEBOT, "DE"),
        ("HEAD", agent("d"), "DE"),
    ]  # fmt: skip
    async with httpx.AsyncClient(timeout=10) as client:
        for method, user_agent, country in visits:
            r = await client.request(
                method,
                short_url,
                follow_redirects=False,
                headers={"User-Agent": user_agent, "CF-IPCountry": country},
            )
            assert r.status_code in (301, 302), r.text


async def _eventually(read: Any, expected: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await read()
        if value == expected or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.2)


async def test_visits_counted_once_in_every_family(
    pipeline: Stack, pool: asyncpg.Pool[Any]
) -> None:
    ws: Workspace = await new_workspace(pool, home_country="DE")
    today = datetime.now(UTC).date().isoformat()
    vivoldi = {"Authorization": f"APIKey {ws.key}"}
    async with httpx.AsyncClient(base_url=pipeline["management"].url, timeout=10) as api:
        made = await api.post(
            "/api/link-group/v1/create",
            headers=vivoldi,
            json={"nm": "Pipeline", "blockOverseasSticsYn": "Y"},
        )
        assert made.status_code == 200, made.text
        group = made.json()["result"]["grpIdx"]
        link = await api.post(
            "/api/link/v2/create",
            headers=vivoldi,
            json={"url": "https://example.com/landing", "grpIdx": group},
        )
        assert link.status_code == 200, link.text
        short_url = link.json()["result"]
        await _visits(short_url)

        async def by_group() -> tuple[int, int]:
            r = await api.get(
                "/api/link/v1/clicks-by-group",
                headers=vivoldi,
                params={"ymd": today, "grpIdxList": str(group)},
            )
            item = r.json()["result"]["list"][0]
            return item["acesCnt"], item["pernCnt"]

        assert await _eventually(by_group, (4, 2)) == (4, 2)
        await asyncio.sleep(1.5)  # nothing more arrives: the rest was not counted
        assert await by_group() == (4, 2)

        v2 = await api.get(
            "/api/link/v2/clicks-by-group",
            headers=vivoldi,
            params={"startYmd": today, "endYmd": today},
        )
        assert [(i["acesCnt"], i["pernCnt"]) for i in v2.json()["result"]["list"]] == [(4, 2)]
        slug = short_url.rsplit("/", 1)[1]
        by_date = await api.get(
            "/api/statistics/v2/clicks-by-date",
            headers=vivoldi,
            params={
                "startYmd": today,
                "endYmd": today,
                "linkId": slug,
                "domain": short_url.rsplit("/", 1)[0],
            },
        )
        assert [(d["acesCnt"], d["pernCnt"]) for d in by_date.json()["result"]] == [(4, 2)]
        hours = await api.get(
            "/api/statistics/v2/clicks-by-hour", headers=vivoldi, params={"ymd": today}
        )
        assert sum(h["acesCnt"] for h in hours.json()["result"]) == 4

        linkly = {"X-API-KEY": ws.key}
        path = f"/api/v1/workspace/{ws.id}/clicks"
        people = {"start": today, "end": today, "bots": "exclude"}
        clicks = await api.get(path, headers=linkly, params=people)
        assert clicks.json()["total"] == 4
        unique = await api.get(path, headers=linkly, params={**people, "unique": "true"})
        assert unique.json()["total"] == 2
        # Linkly counts bots unless told otherwise.
        everyone = await api.get(path, headers=linkly, params={"start": today, "end": today})
        assert everyone.json()["total"] == 5
        only_bots = await api.get(
            path, headers=linkly, params={"start": today, "end": today, "bots": "only"}
        )
        assert only_bots.json()["total"] == 1

        summary = await api.get(
            "/api/v1/analytics/summary",
            headers=ws.bearer,
            params={"start": today, "end": today, "group_id": group},
        )
        assert (
            summary.json()["summary"]["clicks"],
            summary.json()["summary"]["unique_visitors"],
        ) == (4, 2)
        geo = await api.get(
            "/api/v1/analytics/geo", headers=ws.bearer, params={"start": today, "end": today}
        )
        assert geo.json()["geo"] == [{"name": "DE", "clicks": 4}]


async def test_linkly_isp_and_top_params_from_real_visits(
    pipeline: Stack, pool: asyncpg.Pool[Any]
) -> None:
    """Linkly's counters isp and top_params (its API reference; Linkly's MCP client's
    get_analytics_by offers isp): the edge records the visitor's network (not the
    address) and the query parameters, the aggregator names the provider."""
    ws: Workspace = await new_workspace(pool)
    today = datetime.now(UTC).date().isoformat()
    linkly = {"X-API-KEY": ws.key}
    async with httpx.AsyncClient(base_url=pipeline["management"].url, timeout=10) as api:
        made = await api.post(f"/api/v1/workspace/{ws.id}/links", headers=linkly,
                              json={"url": "https://example.com/isp"})  # fmt: skip
        assert made.status_code == 200, made.text
        short_url = made.json()["full_url"]
        async with httpx.AsyncClient(timeout=10) as client:
            for source in ("news", "news", "mail"):
                r = await client.get(
                    f"{short_url}?utm_source={source}&ref=a",
                    headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) "
                             "Gecko/20100101 Firefox/130.0", "X-Forwarded-For": "8.8.8.8"},
                )  # fmt: skip
                assert r.status_code in (301, 302), r.text

        async def counter(name: str) -> list[tuple[Any, int]]:
            r = await api.get(
                f"/api/v1/workspace/{ws.id}/clicks/counters/{name}", headers=linkly,
                params={"start": today, "end": today},
            )  # fmt: skip
            assert r.status_code == 200, r.text
            return [(c["value"], c["count"]) for c in r.json()["results"]]

        isp = await _eventually(lambda: counter("isp"), [("GOOGLE", 3)])
        assert isp == [("GOOGLE", 3)]
        params = await counter("top_params")
        assert params == [("ref=a", 3), ("utm_source=news", 2), ("utm_source=mail", 1)]
    raw = await pool.fetch("SELECT * FROM clicks WHERE workspace_id = $1", ws.id)
    assert all("8.8.8.8" not in str(dict(row)) for row in raw)  # the address is nowhere
