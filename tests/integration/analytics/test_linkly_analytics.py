"""Linkly's clicks, counters and export: rollup and raw-click paths give the same exact
figures, filters work, errors are Linkly's `{"error": ...}`, other workspaces' links are
"not found"."""

from __future__ import annotations

import csv
import io
from typing import Any

import asyncpg
import httpx

from tests.integration.analytics.conftest import Seeded, new_workspace

RANGE = {"start": "2025-08-01", "end": "2025-08-02"}
# People's clicks only: Linkly counts bots unless told (its client: "include (default)").
HUMANS = {**RANGE, "bots": "exclude"}


async def get(http: httpx.AsyncClient, s: Seeded, path: str, **params: Any) -> httpx.Response:
    return await http.get(
        f"/api/v1/workspace/{s.ws.id}{path}", params=params, headers={"X-API-KEY": s.ws.key}
    )


def series(response: httpx.Response) -> list[tuple[str, int]]:
    assert response.status_code == 200, response.text
    return [(p["t"], p["count"]) for p in response.json()["results"]]


async def test_clicks_by_day_from_rollups(http: httpx.AsyncClient, seeded: Seeded) -> None:
    r = await get(http, seeded, "/clicks", **HUMANS)
    assert r.json() == {
        "start": "2025-08-01",
        "end": "2025-08-02",
        "time_zone": "UTC",
        "frequency": "day",
        "unique": False,
        "bots": "exclude",
        "total": 8,
        "results": [{"t": "2025-08-01", "count": 6}, {"t": "2025-08-02", "count": 2}],
    }
    assert series(await get(http, seeded, "/clicks", unique="true", **HUMANS)) == [
        ("2025-08-01", 4),
        ("2025-08-02", 2),
    ]
    assert series(await get(http, seeded, "/clicks", link_id=str(seeded.l1), **HUMANS)) == [
        ("2025-08-01", 3),
        ("2025-08-02", 2),
    ]
    assert series(
        await get(http, seeded, "/clicks", link_id=f"{seeded.l2},{seeded.l3}", **HUMANS)
    ) == [("2025-08-01", 3), ("2025-08-02", 0)]
    # Linkly's MCP client (get_analytics): "bots: include (default), exclude, or only".
    default = (await get(http, seeded, "/clicks", **RANGE)).json()
    assert (default["bots"], default["total"]) == ("include", 9)


async def test_clicks_by_hour(http: httpx.AsyncClient, seeded: Seeded) -> None:
    points = series(
        await get(
            http, seeded, "/clicks", frequency="hour", start="2025-08-01", end="2025-08-01",
            bots="exclude",
        )
    )  # fmt: skip
    assert len(points) == 24
    assert {t: n for t, n in points if n} == {
        "2025-08-01T09:00": 3,
        "2025-08-01T11:00": 1,
        "2025-08-01T14:00": 1,
        "2025-08-01T20:00": 1,
    }
    raw = series(
        await get(
            http,
            seeded,
            "/clicks",
            frequency="hour",
            start="2025-08-01",
            end="2025-08-01",
            country="DE",
            bots="exclude",
        )
    )
    assert {t: n for t, n in raw if n} == {"2025-08-01T09:00": 3, "2025-08-01T11:00": 1}


async def test_filters_served_from_raw_clicks(http: httpx.AsyncClient, seeded: Seeded) -> None:
    def clicks(**params: Any) -> Any:
        return get(http, seeded, "/clicks", **{**HUMANS, **params})

    assert series(await clicks(country="de")) == [("2025-08-01", 4), ("2025-08-02", 2)]
    assert series(await clicks(platform="ios")) == [("2025-08-01", 1), ("2025-08-02", 0)]
    assert series(await clicks(browser="firefox")) == [("2025-08-01", 5), ("2025-08-02", 2)]
    assert series(await clicks(bots="only")) == [("2025-08-01", 1), ("2025-08-02", 0)]
    assert series(await clicks(bots="include")) == [("2025-08-01", 7), ("2025-08-02", 2)]
    # Raw clicks and rollups agree on unique visitors.
    assert series(await clicks(country="DE", unique="1")) == [("2025-08-01", 2), ("2025-08-02", 2)]
    assert series(await clicks(bots="include", unique="true")) == [
        ("2025-08-01", 5),
        ("2025-08-02", 2),
    ]


async def test_counters(http: httpx.AsyncClient, seeded: Seeded) -> None:
    async def counter(name: str, **params: Any) -> list[tuple[Any, int]]:
        r = await get(http, seeded, f"/clicks/counters/{name}", **{**HUMANS, **params})
        assert r.status_code == 200, r.text
        assert r.json()["counter"] == name
        return [(c["value"], c["count"]) for c in r.json()["results"]]

    assert await counter("country") == [("DE", 6), ("FR", 1), ("US", 1)]
    assert await counter("platform") == [("linux", 7), ("ios", 1)]
    assert await counter("browser_name") == [("Firefox", 7), ("Mobile Safari", 1)]
    assert await counter("referer") == [(None, 6), ("news.example.com", 2)]
    assert await counter("link_id") == [(seeded.l1, 5), (seeded.l2, 2), (seeded.l3, 1)]
    assert await counter("destination") == [("https://example.com/", 8)]
    bots = await counter("bot_name")
    assert len(bots) == 1 and bots[0][1] == 1 and bots[0][0]
    assert await counter("country", link_id=str(seeded.l2)) == [("DE", 1), ("FR", 1)]
    assert await counter("country", limit="1") == [("DE", 6)]
    unknown = await get(http, seeded, "/clicks/counters/shoe_size", **RANGE)
    assert unknown.status_code == 404 and "error" in unknown.json()
    # Linkly's MCP client (get_analytics_by) sends the counter again in the query, with
    # filters, unique and bots; bots are included by default.
    everyone = await counter("browser", counter="browser", bots="include")
    assert sum(n for _, n in everyone) == 9  # the bot's click too
    assert await counter("browser") == await counter("browser_name")
    mismatch = await get(http, seeded, "/clicks/counters/country", counter="isp", **RANGE)
    assert mismatch.status_code == 400


async def test_export_json_and_csv(http: httpx.AsyncClient, seeded: Seeded) -> None:
    r = await get(http, seeded, "/clicks/export", format="json", **HUMANS)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    rows = r.json()
    assert len(rows) == 8 and all(row["counted"] for row in rows)
    assert "visitor" not in rows[0]
    assert {row["link_id"] for row in rows} == {seeded.l1, seeded.l2, seeded.l3}
    assert [row["clicked_at"] for row in rows] == sorted(row["clicked_at"] for row in rows)
    with_bots = (await get(http, seeded, "/clicks/export", **RANGE)).json()  # the default
    assert len(with_bots) == 9 and sum(row["bot"] for row in with_bots) == 1
    text = (await get(http, seeded, "/clicks/export", format="csv", **HUMANS)).text
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 8 and table[0]["day"] == "2025-08-01"
    empty = await get(http, seeded, "/clicks/export", start="2024-01-01", end="2024-01-02")
    assert empty.json() == []


async def test_errors_and_isolation(
    http: httpx.AsyncClient, seeded: Seeded, pool: asyncpg.Pool[Any]
) -> None:
    def error(r: httpx.Response, status: int) -> str:
        assert r.status_code == status, r.text
        return str(r.json()["error"])

    error(await get(http, seeded, "/clicks", start="2025-02-30"), 400)
    error(await get(http, seeded, "/clicks", start="2025-08-02", end="2025-08-01"), 400)
    error(await get(http, seeded, "/clicks", start="2024-01-01", end="2025-08-01"), 400)
    error(await get(http, seeded, "/clicks", frequency="week"), 400)
    error(
        await get(http, seeded, "/clicks", frequency="hour", start="2025-07-01", end="2025-08-15"),
        400,
    )
    error(await get(http, seeded, "/clicks", bots="maybe"), 400)
    error(await get(http, seeded, "/clicks", link_id="abc"), 400)
    error(await get(http, seeded, "/clicks/export", format="xml"), 400)
    # A filter the database refuses: a clear 400 before the first byte, in both formats.
    for fmt in ("csv", "json"):
        assert "NUL" in error(
            await get(http, seeded, "/clicks/export", format=fmt, browser="\x00", **RANGE), 400
        )
    other = await new_workspace(pool)
    theirs = await http.get(
        f"/api/v1/workspace/{other.id}/clicks",
        params={"link_id": str(seeded.l1)},
        headers={"X-API-KEY": other.key},
    )
    error(theirs, 404)
    counters = await http.get(
        f"/api/v1/workspace/{other.id}/clicks/counters/country",
        params={"link_id": str(seeded.l1)},
        headers={"X-API-KEY": other.key},
    )
    error(counters, 404)
    # Naming someone else's workspace in the path is refused before anything is read, as
    # not found (Linkly's reference: 404 for a workspace the key cannot reach).
    wrong_ws = await http.get(
        f"/api/v1/workspace/{seeded.ws.id}/clicks", headers={"X-API-KEY": other.key}
    )
    error(wrong_ws, 404)
    error(await http.get(f"/api/v1/workspace/{seeded.ws.id}/clicks"), 401)
    # Their own (empty) statistics are zeros, not ours.
    own = await http.get(
        f"/api/v1/workspace/{other.id}/clicks", params=RANGE, headers={"X-API-KEY": other.key}
    )
    assert own.json()["total"] == 0
