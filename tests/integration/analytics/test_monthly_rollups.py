"""Migration 0005's derived rollups stay equal to the aggregator's daily ones, whether a
batch inserts new daily rows or adds to existing ones, and a range read through whole
months answers exactly what the days add up to."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.integration.analytics.conftest import (
    FIREFOX,
    IPHONE,
    add_group,
    add_link,
    click,
    new_workspace,
    record,
)


async def test_monthly_and_workspace_rollups_follow_every_batch(
    pool: asyncpg.Pool[Any], http: httpx.AsyncClient
) -> None:
    ws = await new_workspace(pool)
    group = await add_group(pool, ws.id, "Monthly")
    link, _ = await add_link(pool, ws.id, group)
    w = ws.id
    days = ["2025-03-31", "2025-04-01", "2025-04-15", "2025-04-30", "2025-05-01"]
    # Three batches; the later ones add to daily rows the first one created.
    for n, visitors in enumerate((["a", "b"], ["b", "c"], ["d"])):
        await record(pool, [
            click(w, link, group, f"{day}T1{n}:00:00+00:00", v,
                  user_agent=IPHONE if v == "c" else FIREFOX)
            for day in days for v in visitors
        ])  # fmt: skip
    monthly = await pool.fetch(
        "SELECT month, clicks, visitors FROM group_monthly WHERE group_id = $1 ORDER BY month",
        group,
    )
    daily = await pool.fetch(
        """SELECT date_trunc('month', day)::date AS month, sum(clicks) AS clicks,
                  sum(visitors) AS visitors
           FROM group_daily WHERE group_id = $1 GROUP BY 1 ORDER BY 1""",
        group,
    )
    assert [tuple(r) for r in monthly] == [tuple(r) for r in daily]
    # April: 3 days x 5 clicks; visitors a, b, c, d each day.
    assert tuple(monthly[1])[1:] == (15, 12)
    link_months = await pool.fetch(
        "SELECT month, clicks, visitors FROM link_monthly WHERE link_id = $1 ORDER BY month", link
    )
    assert [tuple(r) for r in link_months] == [tuple(r) for r in daily]
    dims = await pool.fetch(
        """SELECT dimension, value, sum(clicks) AS clicks FROM workspace_daily_dims
           WHERE workspace_id = $1 GROUP BY 1, 2 ORDER BY 1, 2""",
        w,
    )
    link_dims = await pool.fetch(
        """SELECT dimension, value, sum(clicks) AS clicks FROM link_daily_dims
           WHERE link_id = $1 GROUP BY 1, 2 ORDER BY 1, 2""",
        link,
    )
    assert [tuple(r) for r in dims] == [tuple(r) for r in link_dims]
    assert ("device", "mobile", 5) in [tuple(r) for r in dims]

    # Whole month (monthly rows) and days around it (daily rows) add up the same.
    headers = {"Authorization": f"APIKey {ws.key}"}
    april = await http.get(
        "/api/link/v2/clicks-by-group",
        headers=headers,
        params={"startYmd": "2025-04-01", "endYmd": "2025-04-30"},
    )
    assert april.json()["result"]["list"][0]["acesCnt"] == 15
    around = await http.get(
        "/api/link/v2/clicks-by-group",
        headers=headers,
        params={"startYmd": "2025-03-31", "endYmd": "2025-04-30"},
    )
    item = around.json()["result"]["list"][0]
    assert (item["acesCnt"], item["pernCnt"]) == (20, 16)
    per_link = await http.get(
        f"/api/v1/workspace/{w}/clicks/counters/link_id",
        headers={"X-API-KEY": ws.key},
        params={"start": "2025-03-31", "end": "2025-05-01"},
    )
    assert per_link.json()["results"] == [{"value": link, "count": 25}]
    native = await http.get(
        "/api/v1/analytics/devices",
        headers=ws.bearer,
        params={"start": "2025-03-01", "end": "2025-05-31"},
    )
    assert native.json()["devices"]["device"] == [
        {"name": "desktop", "clicks": 20},
        {"name": "mobile", "clicks": 5},
    ]
