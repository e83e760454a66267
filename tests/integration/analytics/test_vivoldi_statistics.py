"""Vivoldi's statistics endpoints: Vivoldi's shape, exact figures, plan rules, bad input
in the envelope, and other workspaces' groups and links answering "not found"."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.analytics.conftest import Seeded, add_group, new_workspace
from tests.support.families import vivoldi_status


def key(ws: Workspace) -> dict[str, str]:
    return {"Authorization": f"APIKey {ws.key}"}


async def get(http: httpx.AsyncClient, ws: Workspace, path: str, **params: Any) -> httpx.Response:
    return await http.get(path, params=params, headers=key(ws))


def refused(response: httpx.Response, code: int) -> str:
    assert response.status_code == vivoldi_status(code), response.text
    body = response.json()
    assert body["code"] == code and body["result"] is None
    assert isinstance(body["message"], str) and body["message"]
    return str(body["message"])


async def test_v1_clicks_by_group_is_seed_003_shape_with_exact_figures(
    http: httpx.AsyncClient, seeded: Seeded
) -> None:
    r = await get(
        http,
        seeded.ws,
        "/api/link/v1/clicks-by-group",
        ymd="2025-08-01",
        grpIdxList=f"{seeded.b},{seeded.a}",
        pages=1,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "code": 0,
        "message": "",
        "result": {
            "extra": {"pages": 1, "nextPages": 1, "nextYn": "N", "count": 2, "totalCount": 2},
            "list": [
                {"grpIdx": seeded.a, "grpNm": "Electronics", "acesCnt": 5, "pernCnt": 3},
                {"grpIdx": seeded.b, "grpNm": "Kitchenware", "acesCnt": 1, "pernCnt": 1},
            ],
        },
    }
    # Selfhosted: no list means every group; a day without clicks counts zero.
    r = await get(http, seeded.ws, "/api/link/v1/clicks-by-group", ymd="2025-08-02")
    items = r.json()["result"]["list"]
    assert [(i["grpIdx"], i["acesCnt"], i["pernCnt"]) for i in items] == [
        (seeded.a, 2, 2),
        (seeded.b, 0, 0),
    ]


async def test_v2_sums_the_range_and_refuses_more_than_a_month(
    http: httpx.AsyncClient, seeded: Seeded
) -> None:
    r = await get(
        http, seeded.ws, "/api/link/v2/clicks-by-group", startYmd="2025-08-01", endYmd="2025-08-31"
    )
    items = r.json()["result"]["list"]
    # pernCnt over a range: each day's distinct visitors, summed (3 + 2).
    assert [(i["grpIdx"], i["acesCnt"], i["pernCnt"]) for i in items] == [
        (seeded.a, 7, 5),
        (seeded.b, 1, 1),
    ]
    too_long = await get(
        http, seeded.ws, "/api/link/v2/clicks-by-group", startYmd="2025-08-01", endYmd="2025-09-01"
    )
    assert "31" in refused(too_long, 400)
    backwards = await get(
        http, seeded.ws, "/api/link/v2/clicks-by-group", startYmd="2025-08-02", endYmd="2025-08-01"
    )
    refused(backwards, 400)
    refused(await get(http, seeded.ws, "/api/link/v2/clicks-by-group", startYmd="2025-08-01"), 400)


async def test_bad_input_and_unknown_groups_answer_in_the_envelope(
    http: httpx.AsyncClient, seeded: Seeded, pool: asyncpg.Pool[Any]
) -> None:
    path = "/api/link/v1/clicks-by-group"
    assert "ymd" in refused(await get(http, seeded.ws, path, ymd="2025-13-01"), 400)
    refused(await get(http, seeded.ws, path, ymd="01.08.2025"), 400)
    refused(await get(http, seeded.ws, path), 400)
    refused(await get(http, seeded.ws, path, ymd="2025-08-01", grpIdxList="1,x"), 400)
    refused(await get(http, seeded.ws, path, ymd="2025-08-01", pages=0), 400)
    refused(await get(http, seeded.ws, path, ymd="2025-08-01", grpIdxList="999999999999"), 404)
    # Another workspace's group is "not found", exactly like a missing one.
    other = await new_workspace(pool)
    theirs = await add_group(pool, other.id, "Theirs")
    message = refused(
        await get(http, seeded.ws, path, ymd="2025-08-01", grpIdxList=f"{seeded.a},{theirs}"), 404
    )
    assert "Theirs" not in message
    unauthorized = await http.get(path, params={"ymd": "2025-08-01"})
    refused(unauthorized, 401)


async def test_plan_rules_for_grpidxlist(http: httpx.AsyncClient, pool: asyncpg.Pool[Any]) -> None:
    path = "/api/link/v1/clicks-by-group"
    free = await new_workspace(pool, plan="free")
    refused(await get(http, free, path, ymd="2025-08-01"), 403)
    premium = await new_workspace(pool, plan="premium")
    groups = [await add_group(pool, premium.id, f"g{i}") for i in range(6)]
    assert "required" in refused(await get(http, premium, path, ymd="2025-08-01"), 403)
    six = ",".join(map(str, groups))
    assert "5" in refused(await get(http, premium, path, ymd="2025-08-01", grpIdxList=six), 403)
    five = await get(
        http, premium, path, ymd="2025-08-01", grpIdxList=",".join(map(str, groups[:5]))
    )
    assert five.status_code == 200 and len(five.json()["result"]["list"]) == 5
    business = await new_workspace(pool, plan="business")
    await add_group(pool, business.id, "only")
    everything = await get(http, business, path, ymd="2025-08-01")
    assert everything.json()["result"]["extra"]["totalCount"] == 1


async def test_thirty_groups_a_page(http: httpx.AsyncClient, pool: asyncpg.Pool[Any]) -> None:
    ws = await new_workspace(pool)
    await pool.execute(
        "INSERT INTO link_groups (workspace_id, name) "
        "SELECT $1, 'g' || n FROM generate_series(1, 31) n",
        ws.id,
    )
    first = (await get(http, ws, "/api/link/v1/clicks-by-group", ymd="2025-08-01")).json()
    assert first["result"]["extra"] == {
        "pages": 1,
        "nextPages": 2,
        "nextYn": "Y",
        "count": 30,
        "totalCount": 31,
    }
    second = (await get(http, ws, "/api/link/v1/clicks-by-group", ymd="2025-08-01", pages=2)).json()
    assert second["result"]["extra"] == {
        "pages": 2,
        "nextPages": 2,
        "nextYn": "N",
        "count": 1,
        "totalCount": 31,
    }
    ids = [i["grpIdx"] for i in first["result"]["list"] + second["result"]["list"]]
    assert ids == sorted(ids) and len(set(ids)) == 31


async def test_clicks_by_date(
    http: httpx.AsyncClient, seeded: Seeded, pool: asyncpg.Pool[Any]
) -> None:
    path = "/api/statistics/v2/clicks-by-date"
    one = await get(
        http,
        seeded.ws,
        path,
        startYmd="2025-07-31",
        endYmd="2025-08-02",
        linkId=seeded.slug1,
        domain=f"https://{DEFAULT_DOMAIN}",
    )
    assert one.json()["result"] == [
        {
            "ymd": "2025-07-31",
            "linkId": seeded.slug1,
            "domain": f"http://{DEFAULT_DOMAIN}",  # with its scheme, as Vivoldi answers
            "acesCnt": 0,
            "pernCnt": 0,
        },
        {
            "ymd": "2025-08-01",
            "linkId": seeded.slug1,
            "domain": f"http://{DEFAULT_DOMAIN}",  # with its scheme, as Vivoldi answers
            "acesCnt": 3,
            "pernCnt": 2,
        },
        {
            "ymd": "2025-08-02",
            "linkId": seeded.slug1,
            "domain": f"http://{DEFAULT_DOMAIN}",  # with its scheme, as Vivoldi answers
            "acesCnt": 2,
            "pernCnt": 2,
        },
    ]
    everything = (
        await get(http, seeded.ws, path, startYmd="2025-08-01", endYmd="2025-08-02")
    ).json()["result"]
    assert [(r["ymd"], r["acesCnt"], r["pernCnt"]) for r in everything] == [
        ("2025-08-01", 3, 2),
        ("2025-08-01", 2, 2),
        ("2025-08-01", 1, 1),
        ("2025-08-02", 2, 2),
    ]
    group_b = (
        await get(
            http, seeded.ws, path, startYmd="2025-08-01", endYmd="2025-08-02", grpIdx=seeded.b
        )
    ).json()["result"]
    assert [(r["ymd"], r["acesCnt"]) for r in group_b] == [("2025-08-01", 1)]
    refused(
        await get(http, seeded.ws, path, startYmd="2025-08-01", endYmd="2025-08-02", linkId="nope"),
        404,
    )
    other = await new_workspace(pool)
    refused(
        await get(
            http, other, path, startYmd="2025-08-01", endYmd="2025-08-02", linkId=seeded.slug1
        ),
        404,
    )
    refused(
        await get(http, other, path, startYmd="2025-08-01", endYmd="2025-08-02", grpIdx=seeded.a),
        404,
    )
    refused(
        await get(
            http,
            seeded.ws,
            path,
            startYmd="2025-08-01",
            endYmd="2025-08-02",
            linkId=seeded.slug1,
            grpIdx=seeded.a,
        ),
        400,
    )


async def test_clicks_by_hour(http: httpx.AsyncClient, seeded: Seeded) -> None:
    r = await get(http, seeded.ws, "/api/statistics/v2/clicks-by-hour", ymd="2025-08-01")
    hours = r.json()["result"]
    assert len(hours) == 24 and [h["hour"] for h in hours] == list(range(24))
    assert all(set(h) == {"ymd", "hour", "acesCnt", "pernCnt"} for h in hours)
    busy = {h["hour"]: (h["acesCnt"], h["pernCnt"]) for h in hours if h["acesCnt"]}
    assert busy == {9: (3, 1), 11: (1, 1), 14: (1, 1), 20: (1, 1)}
    group_a = await get(
        http, seeded.ws, "/api/statistics/v2/clicks-by-hour", ymd="2025-08-01", grpIdx=seeded.a
    )
    busy_a = {h["hour"]: h["acesCnt"] for h in group_a.json()["result"] if h["acesCnt"]}
    assert busy_a == {9: 3, 14: 1, 20: 1}
    refused(await get(http, seeded.ws, "/api/statistics/v2/clicks-by-hour", ymd="tomorrow"), 400)
