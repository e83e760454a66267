"""The console's statistics pages over the rollups, signed in through the real form:
a link's page shows what the native analytics API answers for the same range, the CSV
export holds the same numbers, a custom range leaves out the days outside it, another
workspace's link or group is missing, and values from outside are escaped."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace, plan_workspace
from tests.integration.analytics.conftest import IPHONE, add_group, add_link, click, record
from tests.support.console import new_user, sign_in
from tests.support.inprocess import InProcessApp

RANGE = {"start": "2025-08-01", "end": "2025-08-03"}  # leaves out 2025-08-05
WIDE = {"start": "2025-08-01", "end": "2025-08-05"}


class Site:
    def __init__(self, ws: Workspace, group: int, link: int, other: int) -> None:
        self.ws, self.group, self.link, self.other = ws, group, link, other


@pytest.fixture
async def site(pool: asyncpg.Pool[Any]) -> Site:
    """A workspace on a plan with statistics by group; clicks written by the aggregator:

    - 2025-08-01, link (group): v1 DE x2 (referrer news.example.com), v2 US iPhone
    - 2025-08-01, other (no group): v3 FR
    - 2025-08-02, link: v1 DE, scanned from the QR code
    - 2025-08-05, link: v4 DE (outside RANGE)

    RANGE: link 4 clicks / 3 visitors (day 1: 3/2, day 2: 1/1); workspace 5/4."""
    ws = await plan_workspace(pool, "business")
    group = await add_group(pool, ws.id, "Launch")
    link, _ = await add_link(pool, ws.id, group)
    other, _ = await add_link(pool, ws.id, None)
    w, ref = ws.id, "https://news.example.com/story"
    await record(pool, [
        click(w, link, group, "2025-08-01T09:00:00+00:00", "v1", referrer=ref),
        click(w, link, group, "2025-08-01T09:30:00+00:00", "v1", referrer=ref),
        click(w, link, group, "2025-08-01T14:00:00+00:00", "v2", country="US",
              user_agent=IPHONE),
        click(w, other, None, "2025-08-01T16:00:00+00:00", "v3", country="FR"),
        click(w, link, group, "2025-08-02T10:00:00+00:00", "v1", qr=True),
        click(w, link, group, "2025-08-05T10:00:00+00:00", "v4"),
    ])  # fmt: skip
    return Site(ws, group, link, other)


@pytest.fixture
async def console(
    app: InProcessApp, pool: asyncpg.Pool[Any], site: Site
) -> AsyncIterator[httpx.AsyncClient]:
    """A member (not an owner) of the site's workspace, signed in."""
    async with app.client() as client:
        email, password = await new_user(pool, site.ws.id, "member")
        assert (await sign_in(client, email, password)).status_code == 303
        yield client


def _total(html: str, ident: str) -> int:
    found = re.search(rf'id="{ident}" data-value="(\d+)"', html)
    assert found, ident
    return int(found.group(1))


def _series(html: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(r'data-day="([\d-]+)" data-clicks="(\d+)" data-visitors="(\d+)"', html)
    return {day: (int(c), int(v)) for day, c, v in rows}


def _ranking(html: str, ident: str) -> dict[str, int]:
    section = re.search(rf'<section class="panel rank" id="{ident}">(.*?)</section>', html)
    assert section, ident
    items = re.findall(r'<li data-value="([^"]*)" data-clicks="(\d+)">', section.group(1))
    return {value: int(clicks) for value, clicks in items}


def _api_ranking(items: list[dict[str, Any]]) -> dict[str, int]:
    return {item["name"] or "": item["clicks"] for item in items}


async def test_a_link_page_shows_what_the_native_api_answers(
    console: httpx.AsyncClient, app: InProcessApp, site: Site
) -> None:
    page = await console.get(f"/console/links/{site.link}/stats", params=RANGE)
    assert page.status_code == 200, page.text
    html = page.text
    query = {**RANGE, "link_id": str(site.link)}
    async with app.client(site.ws.bearer) as api:
        summary = (await api.get("/api/v1/analytics/summary", params=query)).json()["summary"]
        series = (await api.get("/api/v1/analytics/timeseries", params=query)).json()
        geo = (await api.get("/api/v1/analytics/geo", params=query)).json()["geo"]
        devices = (await api.get("/api/v1/analytics/devices", params=query)).json()["devices"]
        refs = (await api.get("/api/v1/analytics/referrers", params=query)).json()["referrers"]
    assert (summary["clicks"], summary["unique_visitors"]) == (4, 3)
    assert _total(html, "total-clicks") == summary["clicks"]
    assert _total(html, "total-visitors") == summary["unique_visitors"]
    assert _total(html, "total-scans") == 1
    assert _series(html) == {
        p["period"]: (p["clicks"], p["unique_visitors"]) for p in series["timeseries"]
    }
    assert _ranking(html, "countries") == _api_ranking(geo) == {"DE": 3, "US": 1}
    assert _ranking(html, "devices") == _api_ranking(devices["device"])
    assert _ranking(html, "browsers") == _api_ranking(devices["browser"])
    assert _ranking(html, "systems") == _api_ranking(devices["os"])
    assert _ranking(html, "referrers") == _api_ranking(refs)
    assert _ranking(html, "sources") == {"link": 3, "qr": 1}
    # The chart is the public statistics page's, drawn from the numbers table.
    assert '<div id="chart"' in html and '<table id="series"' in html
    assert "/stats/static/stats.js" in html and "/stats/static/figures.css" in html


async def test_the_csv_export_holds_the_same_numbers(
    console: httpx.AsyncClient, site: Site
) -> None:
    page = await console.get(f"/console/groups/{site.group}/stats", params=RANGE)
    assert page.status_code == 200, page.text
    export = await console.get(
        f"/console/groups/{site.group}/stats", params={**RANGE, "format": "csv"}
    )
    assert export.status_code == 200
    assert export.headers["content-type"].startswith("text/csv")
    assert export.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    by_section: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_section.setdefault(row["section"], []).append(row)
    [total] = by_section["total"]
    clicks, visitors = int(total["clicks"]), int(total["unique_visitors"])
    shown = (_total(page.text, "total-clicks"), _total(page.text, "total-visitors"))
    assert (clicks, visitors) == shown == (4, 3)
    days = by_section["day"]
    assert [d["value"] for d in days] == ["2025-08-01", "2025-08-02", "2025-08-03"]
    assert sum(int(d["clicks"]) for d in days) == clicks
    assert sum(int(d["unique_visitors"]) for d in days) == visitors
    for section in ("country", "device", "browser", "os", "referrer", "source"):
        assert sum(int(r["clicks"]) for r in by_section[section]) == clicks, section


async def test_a_custom_range_leaves_out_the_days_outside_it(
    console: httpx.AsyncClient, site: Site
) -> None:
    narrow = (await console.get("/console/stats", params=RANGE)).text
    wide = (await console.get("/console/stats", params=WIDE)).text
    assert (_total(narrow, "total-clicks"), _total(narrow, "total-visitors")) == (5, 4)
    assert (_total(wide, "total-clicks"), _total(wide, "total-visitors")) == (6, 5)
    assert list(_series(narrow)) == ["2025-08-01", "2025-08-02", "2025-08-03"]
    assert _series(wide)["2025-08-05"] == (1, 1)
    assert 'value="2025-08-01"' in narrow and 'value="2025-08-03"' in narrow
    refused = await console.get(
        "/console/stats", params={"start": "2025-08-03", "end": "2025-08-01"}
    )
    assert refused.status_code == 400


async def test_another_workspaces_link_or_group_is_missing(
    console: httpx.AsyncClient, pool: asyncpg.Pool[Any], site: Site
) -> None:
    stranger = await plan_workspace(pool, "business")
    group = await add_group(pool, stranger.id, "Theirs")
    link, _ = await add_link(pool, stranger.id, group)
    await record(pool, [click(stranger.id, link, group, "2025-08-01T09:00:00+00:00", "s1")])
    for kind, theirs in (("links", link), ("groups", group)):
        missing = await console.get(f"/console/{kind}/987654321012/stats", params=RANGE)
        other = await console.get(f"/console/{kind}/{theirs}/stats", params=RANGE)
        exported = await console.get(
            f"/console/{kind}/{theirs}/stats", params={**RANGE, "format": "csv"}
        )
        assert missing.status_code == other.status_code == exported.status_code == 404
        assert other.text == missing.text
        assert "Theirs" not in other.text
    own = await console.get(f"/console/groups/{site.group}/stats", params=RANGE)
    assert own.status_code == 200 and _total(own.text, "total-clicks") == 4


async def test_values_from_outside_are_escaped(
    console: httpx.AsyncClient, pool: asyncpg.Pool[Any], site: Site
) -> None:
    evil = '<script>alert("x")</script>'
    # Dimension values as a rollup may hold them: referrer hosts and countries come
    # from the visitor's request.
    await pool.executemany(
        """INSERT INTO link_daily_dims (link_id, day, dimension, value, clicks)
           VALUES ($1, '2025-08-03', $2, $3, 7)""",
        [(site.link, "referrer", evil), (site.link, "country", evil),
         (site.link, "browser", evil)],
    )  # fmt: skip
    for path in (f"/console/links/{site.link}/stats", "/console/stats"):
        page = await console.get(path, params=RANGE)
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page.text
        assert (
            _ranking(page.text, "referrers")["&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"]
            == 7
        )


async def test_days_are_the_workspaces_local_days(
    app: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    ws = await plan_workspace(pool, "business", time_zone="America/New_York")
    link, _ = await add_link(pool, ws.id, None)
    # 02:00 UTC on 2 August is still 1 August in New York.
    await record(pool, [click(ws.id, link, None, "2025-08-02T02:00:00+00:00", "n1")])
    async with app.client() as client:
        assert (await sign_in(client, *await new_user(pool, ws.id))).status_code == 303
        page = await client.get(f"/console/links/{link}/stats", params=RANGE)
        export = await client.get(f"/console/links/{link}/stats", params={**RANGE, "format": "csv"})
    assert "days in America/New_York" in page.text
    assert _series(page.text)["2025-08-01"] == (1, 1)
    assert _series(page.text)["2025-08-02"] == (0, 0)
    days = [r for r in csv.DictReader(io.StringIO(export.text)) if r["section"] == "day"]
    assert [(d["value"], d["clicks"]) for d in days][:2] == [
        ("2025-08-01", "1"),
        ("2025-08-02", "0"),
    ]
