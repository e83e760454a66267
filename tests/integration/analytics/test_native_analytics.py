"""Native analytics: every endpoint's figures and shape, the link/group/tag filters, the
streamed export, `{"error": ...}` refusals and workspace isolation; plus local days in a
workspace's own time zone."""

from __future__ import annotations

import csv
import io
from typing import Any

import asyncpg
import httpx

from tests.integration.analytics.conftest import Seeded, add_link, click, new_workspace, record

RANGE = {"start": "2025-08-01", "end": "2025-08-02"}


async def get(http: httpx.AsyncClient, s: Seeded, name: str, **params: Any) -> httpx.Response:
    return await http.get(
        f"/api/v1/analytics/{name}", params={**RANGE, **params}, headers=s.ws.bearer
    )


async def ok(http: httpx.AsyncClient, s: Seeded, name: str, **params: Any) -> Any:
    r = await get(http, s, name, **params)
    assert r.status_code == 200, r.text
    assert r.headers["x-ratelimit-limit"]
    return r.json()


async def test_summary_by_workspace_group_link_and_tag(
    http: httpx.AsyncClient, seeded: Seeded
) -> None:
    assert await ok(http, seeded, "summary") == {
        "summary": {
            "start": "2025-08-01",
            "end": "2025-08-02",
            "time_zone": "UTC",
            "clicks": 8,
            "unique_visitors": 6,
            "unique_visitors_exact": True,
        }
    }
    group = (await ok(http, seeded, "summary", group_id=seeded.a))["summary"]
    assert (group["clicks"], group["unique_visitors"]) == (7, 5)
    link = (await ok(http, seeded, "summary", link_id=seeded.l2))["summary"]
    assert (link["clicks"], link["unique_visitors"], link["unique_visitors_exact"]) == (2, 2, True)
    # A tag's links: visitors are each link's, summed (v1 visited both l1 and l2 on day 1).
    tag = (await ok(http, seeded, "summary", tag="promo"))["summary"]
    assert (tag["clicks"], tag["unique_visitors"], tag["unique_visitors_exact"]) == (7, 6, False)


async def test_timeseries(http: httpx.AsyncClient, seeded: Seeded) -> None:
    days = await ok(http, seeded, "timeseries", start="2025-07-31")
    assert days == {
        "interval": "day",
        "time_zone": "UTC",
        "timeseries": [
            {"period": "2025-07-31", "clicks": 0, "unique_visitors": 0},
            {"period": "2025-08-01", "clicks": 6, "unique_visitors": 4},
            {"period": "2025-08-02", "clicks": 2, "unique_visitors": 2},
        ],
    }
    hours = (
        await ok(http, seeded, "timeseries", interval="hour", end="2025-08-01", group_id=seeded.b)
    )["timeseries"]
    assert len(hours) == 24
    assert [(p["period"], p["clicks"]) for p in hours if p["clicks"]] == [("2025-08-01T11:00", 1)]


async def test_rankings(http: httpx.AsyncClient, seeded: Seeded) -> None:
    geo = (await ok(http, seeded, "geo"))["geo"]
    assert geo == [
        {"name": "DE", "clicks": 6},
        {"name": "FR", "clicks": 1},
        {"name": "US", "clicks": 1},
    ]
    devices = (await ok(http, seeded, "devices"))["devices"]
    assert devices["device"] == [{"name": "desktop", "clicks": 7}, {"name": "mobile", "clicks": 1}]
    assert devices["os"] == [{"name": "Linux", "clicks": 7}, {"name": "iOS", "clicks": 1}]
    assert [b["clicks"] for b in devices["browser"]] == [7, 1]
    assert (await ok(http, seeded, "referrers"))["referrers"] == [
        {"name": None, "clicks": 6},
        {"name": "news.example.com", "clicks": 2},
    ]
    assert (await ok(http, seeded, "referrers", link_id=seeded.l2))["referrers"] == [
        {"name": None, "clicks": 2}
    ]
    assert (await ok(http, seeded, "utm"))["utm"] == [
        {
            "utm_source": "newsletter",
            "utm_medium": None,
            "utm_campaign": "aug",
            "clicks": 5,
            "unique_visitors": 4,
        }
    ]
    assert (await ok(http, seeded, "geo", group_id=seeded.b))["geo"] == [
        {"name": "DE", "clicks": 1}
    ]  # the overseas click is left out
    assert len((await ok(http, seeded, "geo", limit=1))["geo"]) == 1


async def test_export_streams_csv_and_json(http: httpx.AsyncClient, seeded: Seeded) -> None:
    r = await get(http, seeded, "export")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 8 and {row["link_id"] for row in rows} == {
        str(seeded.l1),
        str(seeded.l2),
        str(seeded.l3),
    }
    assert sum(row["referrer_host"] == "news.example.com" for row in rows) == 2
    as_json = (await get(http, seeded, "export", format="json", group_id=seeded.a)).json()
    assert len(as_json) == 7 and all(c["group_id"] == seeded.a for c in as_json)


async def test_refusals(http: httpx.AsyncClient, seeded: Seeded, pool: asyncpg.Pool[Any]) -> None:
    async def refused(status: int, name: str = "summary", **params: Any) -> None:
        r = await get(http, seeded, name, **params)
        assert r.status_code == status, r.text
        assert set(r.json()) == {"error"} and r.json()["error"]

    await refused(400, start="2025-8-1")
    await refused(400, start="2025-08-03")  # after end
    await refused(400, start="2024-01-01", end="2025-08-01")
    await refused(400, "timeseries", interval="hour", start="2025-07-01")
    await refused(400, "timeseries", interval="minute")
    await refused(400, link_id="x")
    await refused(400, link_id=seeded.l1, group_id=seeded.a)
    await refused(400, "geo", limit=0)
    await refused(400, "export", format="xlsx")
    await refused(404, tag="no-such-tag")
    await refused(404, group_id=99_999_999_999)
    other = await new_workspace(pool)
    for params in ({"link_id": seeded.l1}, {"group_id": seeded.a}, {"tag": "promo"}):
        r = await http.get("/api/v1/analytics/summary", params=params, headers=other.bearer)
        assert r.status_code == 404, r.text
    r = await http.get("/api/v1/analytics/summary")
    assert r.status_code == 401 and "error" in r.json()


async def test_days_are_local_to_the_workspace(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    ws = await new_workspace(pool, time_zone="America/New_York")
    link, _ = await add_link(pool, ws.id, None)
    # 02:30 UTC on Aug 2 is 22:30 on Aug 1 in New York.
    await record(
        pool,
        [
            click(ws.id, link, None, "2025-08-02T02:30:00+00:00", "n1"),
            click(ws.id, link, None, "2025-08-02T14:00:00+00:00", "n2"),
        ],
    )
    r = await http.get("/api/v1/analytics/timeseries", params={**RANGE}, headers=ws.bearer)
    assert [(p["period"], p["clicks"]) for p in r.json()["timeseries"]] == [
        ("2025-08-01", 1),
        ("2025-08-02", 1),
    ]
    hours = await http.get(
        "/api/v1/analytics/timeseries",
        headers=ws.bearer,
        params={"interval": "hour", "start": "2025-08-01", "end": "2025-08-01"},
    )
    assert [p["period"] for p in hours.json()["timeseries"] if p["clicks"]] == ["2025-08-01T22:00"]
    export = await http.get(
        "/api/v1/analytics/export", params={**RANGE, "format": "json"}, headers=ws.bearer
    )
    assert [c["day"] for c in export.json()] == ["2025-08-01", "2025-08-02"]
