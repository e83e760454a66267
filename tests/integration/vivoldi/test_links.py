"""Vivoldi link endpoints over HTTP: shapes key by key, the mapping onto the link model
(checked in the database), and bad input that changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from kurz.passwords import verify_password

from tests.conftest import DEFAULT_DOMAIN, Workspace, plan_workspace
from tests.integration.vivoldi.conftest import client_for
from tests.integration.vivoldi.test_groups import create as create_group
from tests.integration.vivoldi.test_groups import ok
from tests.support.families import vivoldi_status
from tests.support.inprocess import InProcessApp

DOMAIN = f"https://{DEFAULT_DOMAIN}"
LINK_ITEM_TYPES: dict[str, Any] = {
    "idx": int,
    "linkId": str,
    "typeIdx": int,
    "typeNm": str,
    "domain": str,
    "shortUrl": str,
    "url": str,
    "redirectType": int,
    "grpIdx": (int, type(None)),
    "ttl": (str, type(None)),
    "description": (str, type(None)),
    "metaImg": (str, type(None)),
    "memo": (str, type(None)),
    "notfSubscYn": str,
    "qrBypassYn": str,
    "pwdYn": str,
    "strtYmdt": (str, type(None)),
    "expireYmdt": (str, type(None)),
    "expireUrl": (str, type(None)),
    "acesMaxCnt": int,
    "acesCnt": int,
    "delYmdt": (str, type(None)),
    "regYmdt": str,
    "modYmdt": str,
}


def slug() -> str:
    return "v" + uuid.uuid4().hex[:9]


async def link_row(pool: asyncpg.Pool[Any], link_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        "SELECT * FROM links WHERE host = $1 AND slug = $2 AND deleted_at IS NULL",
        DEFAULT_DOMAIN,
        link_id,
    )


async def live_links(pool: asyncpg.Pool[Any], workspace_id: int) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM links WHERE workspace_id = $1 AND deleted_at IS NULL", workspace_id
    )
    return count


async def test_create_minimal(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    body = {"url": "https://www.facebook.com/vivoldi365", "domain": DOMAIN}
    short = ok(await api.post("/api/link/v2/create", json=body))
    assert isinstance(short, str) and short.startswith(f"http://{DEFAULT_DOMAIN}/")
    row = await link_row(pool, short.rsplit("/", 1)[1])
    assert row is not None and row["workspace_id"] == workspace.id
    assert (row["url"], row["redirect_type"], row["group_id"]) == (body["url"], 302, None)


async def test_create_maps_every_field(api: httpx.AsyncClient, pool: asyncpg.Pool[Any]) -> None:
    grp_idx = await create_group(api)
    brand = slug()
    short = ok(
        await api.post(
            "/api/link/v2/create",
            json={
                "url": "https://example.com/a",
                "domain": DOMAIN,
                "redirectType": 301,
                "grpIdx": grp_idx,
                "brandLinkId": brand,
                "ttl": "Title",
                "description": "Desc",
                "metaImg": "https://example.com/i.png",
                "memo": "note",
                "notfSubscYn": "Y",
                "qrBypassYn": "Y",
                "pwd": "pw",
                "strtYmdt": "2026-01-01 00:00:00",
                "expireYmdt": "2026-12-31 23:59:59",
                "expireUrl": "https://example.com/over",
                "acesMaxCnt": 7,
                "delYmdt": "2027-01-01 00:00:00",
            },
        )
    )
    assert short == f"http://{DEFAULT_DOMAIN}/{brand}"
    row = await link_row(pool, brand)
    assert row is not None
    utc = ZoneInfo("UTC")
    assert (
        row["redirect_type"],
        row["group_id"],
        row["title"],
        row["description"],
        row["image"],
        row["note"],
    ) == (301, grp_idx, "Title", "Desc", "https://example.com/i.png", "note")
    assert (
        row["push_subscribe"] and row["qr_bypass"] and verify_password(row["password_hash"], "pw")
    )
    assert row["starts_at"] == datetime(2026, 1, 1, tzinfo=utc)
    assert row["expires_at"] == datetime(2026, 12, 31, 23, 59, 59, tzinfo=utc)
    assert row["delete_at"] == datetime(2027, 1, 1, tzinfo=utc)
    assert (row["expiry_url"], row["max_clicks"]) == ("https://example.com/over", 7)


async def test_update_by_link_id_and_domain(
    api: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    grp_idx = await create_group(api)
    brand = slug()
    ok(
        await api.post(
            "/api/link/v2/create",
            json={
                "url": "https://example.com/a",
                "brandLinkId": brand,
                "ttl": "keep",
                "acesMaxCnt": 3,
                "grpIdx": grp_idx,
            },
        )
    )
    result = ok(
        await api.put(
            "/api/link/v2/update",
            json={
                "linkId": brand,
                "domain": DOMAIN,
                "ttl": "",
                "memo": "new my memo",
                "delYmdt": "2027-01-01 00:00:00",
                "url": "https://example.com/b",
                "acesMaxCnt": 0,
                "grpIdx": 0,
            },
        )
    )
    assert result is None
    row = await link_row(pool, brand)
    assert row is not None
    assert (row["title"], row["note"], row["url"]) == (
        "keep",
        "new my memo",
        "https://example.com/b",
    )
    assert row["max_clicks"] is None and row["group_id"] is None
    assert row["delete_at"] == datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC"))
    ok(await api.put("/api/link/v2/update", json={"linkId": brand, "ttl": None, "grpIdx": grp_idx}))
    row = await link_row(pool, brand)
    assert row is not None and row["title"] is None and row["group_id"] == grp_idx


async def test_delete(api: httpx.AsyncClient, pool: asyncpg.Pool[Any]) -> None:
    brand = slug()
    ok(
        await api.post(
            "/api/link/v2/create", json={"url": "https://example.com/", "brandLinkId": brand}
        )
    )
    params = {"linkId": brand, "domain": DOMAIN}
    assert ok(await api.delete("/api/link/v1/delete", params=params)) is None
    assert await link_row(pool, brand) is None
    again = (await api.delete("/api/link/v1/delete", params=params)).json()
    assert again["code"] == 404 and again["result"] is None


async def test_list_pages_and_filters(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    grp_idx = await create_group(api)
    shorts = ok(
        await api.post(
            "/api/link/v1/createBulk",
            json={
                "links": [
                    {
                        "url": f"https://example.com/{i}",
                        "ttl": f"t{i}",
                        **({"grpIdx": grp_idx} if i < 2 else {}),
                    }
                    for i in range(32)
                ]
            },
        )
    )
    assert len(shorts) == 32 and all(isinstance(s, str) for s in shorts)
    first = ok(await api.get("/api/link/v1/list"))
    assert set(first) == {"extra", "list"}
    assert first["extra"] == {
        "pages": 1,
        "nextPages": 2,
        "nextYn": "Y",
        "count": 30,
        "totalCount": 32,
    }
    for item in first["list"]:
        assert set(item) == set(LINK_ITEM_TYPES)
        for key, kind in LINK_ITEM_TYPES.items():
            assert isinstance(item[key], kind), key
    second = ok(await api.get("/api/link/v1/list", params={"pages": 2}))
    assert second["extra"]["count"] == 2 and second["extra"]["nextYn"] == "N"
    grouped = ok(await api.get("/api/link/v1/list", params={"grpIdx": grp_idx}))
    assert grouped["extra"]["totalCount"] == 2
    assert {i["grpIdx"] for i in grouped["list"]} == {grp_idx}
    # Registration window, in the workspace's time zone, the end day inclusive.
    await pool.execute(
        "UPDATE links SET created_at = '2025-08-01 12:00+00' WHERE workspace_id = $1"
        " AND url = 'https://example.com/5'",
        workspace.id,
    )
    window = ok(
        await api.get(
            "/api/link/v1/list", params={"regStartYmdt": "2025-08-01", "regEndYmdt": "2025-08-01"}
        )
    )
    assert [i["url"] for i in window["list"]] == ["https://example.com/5"]
    assert window["list"][0]["regYmdt"] == "2025-08-01 12:00:00"
    assert (
        ok(
            await api.get(
                "/api/link/v1/list",
                params={"regStartYmdt": "2025-08-02", "regEndYmdt": "2025-08-03"},
            )
        )["extra"]["totalCount"]
        == 0
    )
    found = ok(await api.get("/api/link/v1/list", params={"searchKwd": "t31"}))
    assert [i["ttl"] for i in found["list"]] == ["t31"]


async def test_link_in_another_workspace_is_not_found(
    api: httpx.AsyncClient, management: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    brand = slug()
    ok(
        await api.post(
            "/api/link/v2/create", json={"url": "https://example.com/", "brandLinkId": brand}
        )
    )
    other = await plan_workspace(pool, "selfhosted")
    async with client_for(management, other) as theirs:
        upd = (await theirs.put("/api/link/v2/update", json={"linkId": brand, "ttl": "x"})).json()
        gone = (await theirs.delete("/api/link/v1/delete", params={"linkId": brand})).json()
    assert upd["code"] == 404 and gone["code"] == 404
    row = await link_row(pool, brand)
    assert row is not None and row["title"] is None


BAD_LINKS: list[tuple[str, Any, int, str]] = [
    ("missing url", {"domain": DOMAIN}, 400, "url"),
    ("bad url", {"url": "not a url"}, 400, "url"),
    ("bad redirectType", {"url": "https://e.com", "redirectType": 307}, 400, "redirectType"),
    ("bad flag", {"url": "https://e.com", "qrBypassYn": "maybe"}, 400, "qrBypassYn"),
    ("bad date", {"url": "https://e.com", "expireYmdt": "2026-02-30 00:00:00"}, 400, "expireYmdt"),
    ("unknown grpIdx", {"url": "https://e.com", "grpIdx": 987654321}, 400, "grpIdx"),
    ("negative limit", {"url": "https://e.com", "acesMaxCnt": -5}, 400, "acesMaxCnt"),
    ("bad brandLinkId", {"url": "https://e.com", "brandLinkId": "a/b"}, 400, "brandLinkId"),
    ("unknown domain", {"url": "https://e.com", "domain": "https://nope.example"}, 400, "domain"),
    ("domain with path", {"url": "https://e.com", "domain": "https://kurz.test/x"}, 400, "domain"),
    ("array", [{"url": "https://e.com"}], 400, "object"),
]


@pytest.mark.parametrize(
    ("case", "body", "code", "mentions"), BAD_LINKS, ids=[c[0] for c in BAD_LINKS]
)
async def test_bad_create_writes_nothing(
    api: httpx.AsyncClient,
    workspace: Workspace,
    pool: asyncpg.Pool[Any],
    case: str,
    body: Any,
    code: int,
    mentions: str,
) -> None:
    response = await api.post("/api/link/v2/create", json=body)
    answer = response.json()
    expected = (vivoldi_status(code), code, None)
    assert (response.status_code, answer["code"], answer["result"]) == expected, answer
    assert mentions in answer["message"]
    assert await live_links(pool, workspace.id) == 0


async def test_other_workspace_group_and_taken_slug(
    api: httpx.AsyncClient, workspace: Workspace, management: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    other = await plan_workspace(pool, "selfhosted")
    async with client_for(management, other) as theirs:
        their_group = await create_group(theirs)
        brand = slug()
        ok(
            await theirs.post(
                "/api/link/v2/create", json={"url": "https://e.com", "brandLinkId": brand}
            )
        )
    stolen = (
        await api.post("/api/link/v2/create", json={"url": "https://e.com", "grpIdx": their_group})
    ).json()
    assert stolen["code"] == 400 and "grpIdx" in stolen["message"]
    taken = await api.post(
        "/api/link/v2/create", json={"url": "https://e.com", "brandLinkId": brand}
    )
    assert taken.status_code == 200 and taken.json()["code"] == 409
    assert await live_links(pool, workspace.id) == 0


async def test_bulk_is_all_or_nothing(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    links = [
        {"url": "https://e.com/1"},
        {"url": "nope"},
        {"url": "https://e.com/3", "expireYmdt": "soon"},
    ]
    answer = (await api.post("/api/link/v1/createBulk", json={"links": links})).json()
    assert answer["code"] == 400 and "links[2]" in answer["message"]
    answer = (await api.post("/api/link/v1/createBulk", json={"links": links[:2]})).json()
    assert answer["code"] == 400 and "links[1].url" in answer["message"]
    assert answer["message"].startswith("nothing written")
    assert (await api.post("/api/link/v1/createBulk", content=b"[]")).json()["code"] == 400
    assert (await api.post("/api/link/v1/createBulk", json={})).json()["code"] == 400
    assert await live_links(pool, workspace.id) == 0


async def test_bad_link_update_changes_nothing(
    api: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    brand = slug()
    ok(
        await api.post(
            "/api/link/v2/create", json={"url": "https://e.com/", "brandLinkId": brand, "ttl": "t"}
        )
    )
    before = dict(await link_row(pool, brand) or {})
    for body, code in [
        ({"ttl": "x"}, 400),  # no linkId
        ({"linkId": "missing-" + brand, "ttl": "x"}, 404),
        ({"linkId": brand, "domain": "https://other.example", "ttl": "x"}, 404),
        ({"linkId": brand, "ttl": "x", "redirectType": 303}, 400),
        ({"linkId": brand, "ttl": "x", "expireYmdt": "2026-01-01"}, 400),
        ({"linkId": brand, "ttl": "x", "grpIdx": 987654321}, 400),
        ({"linkId": brand, "ttl": "x", "url": "ftp://x"}, 400),
    ]:
        answer = (await api.put("/api/link/v2/update", json=body)).json()
        assert answer["code"] == code and answer["result"] is None, (body, answer)
    assert dict(await link_row(pool, brand) or {}) == before


@pytest.mark.parametrize("path", ["/api/link/v2/create", "/api/link/v1/createBulk"])
async def test_non_json_link_body(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any], path: str
) -> None:
    response = await api.post(path, content=b"url=https://e.com")
    answer = response.json()
    assert (response.status_code, answer["code"], answer["result"]) == (200, 400, None)
    assert "JSON" in answer["message"]
    assert await live_links(pool, workspace.id) == 0
