"""Vivoldi link-group endpoints over HTTP against a real management process: documented
requests sent verbatim, shapes compared key by key, the database checked after."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import msgspec
import redis.asyncio as aioredis
from kurz import keys
from kurz.models import decode_group
from kurz.passwords import verify_password
from kurz_management.vivoldi.operations import (
    VivoldiEmptyAnswer,
    VivoldiGroupCreatedAnswer,
    VivoldiGroupPageAnswer,
    VivoldiGroupsAnswer,
    VivoldiSecretAnswer,
)

from tests.conftest import Workspace, plan_workspace
from tests.integration.vivoldi.conftest import client_for
from tests.support.inprocess import InProcessApp
from tests.support.streams import redis_value

SEED_000 = b"""{
"nm": "Youtube Group",
"memo": "A group of links included in the description section of a YouTube video.",
"nonmemberSticsPwd": "123456"
}"""

SEED_001 = """{
"grpIdx": %d,
"nm": "Instagram Group",
"memo": "A group of links used in Instagram ads.",
"strtYmdt": "2026-03-01 00:00:00",
"endYmdt": "2026-03-31 23:59:59",
"expireUrl": "https://example.com/event-expired"
}"""

ITEM_TYPES: dict[str, Any] = {
    "idx": int,
    "nm": str,
    "memo": (str, type(None)),
    "linkCnt": int,
    "notfSubscYn": str,
    "qrBypassYn": str,
    "blockOverseasSticsYn": str,
    "pushNotifyYn": str,
    "mailNotifyYn": str,
    "webhookEnableYn": str,
    "webhookCallbackUrl": (str, type(None)),
    "webhookMetric": str,
    "webhookFrequency": int,
    "regYmdt": str,
    "modYmdt": str,
}


def ok(response: httpx.Response) -> Any:
    body = response.json()
    assert response.status_code == 200, body
    assert set(body) == {"code", "message", "result"}
    assert body["code"] == 0 and body["message"] == ""
    return body["result"]


async def create(api: httpx.AsyncClient, **fields: Any) -> int:
    result = ok(await api.post("/api/link-group/v1/create", json={"nm": "g", **fields}))
    grp_idx: int = result["grpIdx"]
    return grp_idx


async def group_row(pool: asyncpg.Pool[Any], grp_idx: int) -> asyncpg.Record:
    row = await pool.fetchrow("SELECT * FROM link_groups WHERE id = $1", grp_idx)
    assert row is not None
    return row


async def test_seed_000_create_verbatim(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any], redis: aioredis.Redis
) -> None:
    response = await api.post(
        "/api/link-group/v1/create", content=SEED_000, headers={"Content-Type": "application/json"}
    )
    result = ok(response)
    msgspec.json.decode(response.content, type=VivoldiGroupCreatedAnswer)  # the documented type
    assert set(result) == {"grpIdx", "webhookSecretKey"}
    assert isinstance(result["grpIdx"], int) and result["webhookSecretKey"] is None
    row = await group_row(pool, result["grpIdx"])
    assert row["workspace_id"] == workspace.id
    assert row["name"] == "Youtube Group"
    assert row["memo"].startswith("A group of links included")
    assert verify_password(row["stats_password_hash"], "123456")
    # Documented defaults.
    assert (
        row["push_subscribe"],
        row["qr_bypass"],
        row["block_overseas_stats"],
        row["push_notify"],
        row["mail_notify"],
        row["webhook_enabled"],
    ) == (False,) * 6
    assert (row["webhook_metric"], row["webhook_frequency"], row["max_clicks"]) == ("C", 1, None)
    edge = decode_group(await redis_value(redis, keys.group(result["grpIdx"])))
    assert edge.id == result["grpIdx"] and edge.workspace_id == workspace.id


async def test_seed_001_update_verbatim_in_workspace_time_zone(
    management: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    ws = await plan_workspace(pool, "selfhosted", time_zone="Asia/Seoul")
    async with client_for(management, ws) as api:
        grp_idx = await create(api)
        response = await api.put(
            "/api/link-group/v1/update",
            content=SEED_001 % grp_idx,
            headers={"Content-Type": "application/json"},
        )
        assert ok(response) is None
        msgspec.json.decode(response.content, type=VivoldiSecretAnswer)
    row = await group_row(pool, grp_idx)
    seoul = ZoneInfo("Asia/Seoul")
    assert row["name"] == "Instagram Group"
    assert row["starts_at"] == datetime(2026, 3, 1, tzinfo=seoul)
    assert row["ends_at"] == datetime(2026, 3, 31, 23, 59, 59, tzinfo=seoul)
    assert row["expire_url"] == "https://example.com/event-expired"


async def test_update_leaves_unnamed_fields(
    api: httpx.AsyncClient, pool: asyncpg.Pool[Any]
) -> None:
    grp_idx = await create(api, pwd="secret", acesMaxCnt=10, qrBypassYn="Y")
    # Numbers sent as strings are accepted.
    ok(await api.put("/api/link-group/v1/update", json={"grpIdx": str(grp_idx), "memo": "m"}))
    row = await group_row(pool, grp_idx)
    assert row["memo"] == "m" and row["max_clicks"] == 10 and row["qr_bypass"]
    assert verify_password(row["password_hash"], "secret")
    # Explicit clears: "" / null clear text and times; acesMaxCnt 0 is unlimited.
    ok(
        await api.put(
            "/api/link-group/v1/update",
            json={"grpIdx": grp_idx, "pwd": "", "acesMaxCnt": 0, "memo": None},
        )
    )
    row = await group_row(pool, grp_idx)
    assert row["password_hash"] is None and row["max_clicks"] is None and row["memo"] is None


async def test_webhook_secret_rules(api: httpx.AsyncClient, pool: asyncpg.Pool[Any]) -> None:
    hook = {"webhookEnableYn": "Y", "webhookCallbackUrl": "https://api.example.com/webhook"}
    result = ok(await api.post("/api/link-group/v1/create", json={"nm": "w", **hook}))
    secret = result["webhookSecretKey"]
    assert isinstance(secret, str) and secret.startswith("whsec_")
    assert (await group_row(pool, result["grpIdx"]))["webhook_secret"] == secret
    # Already has a secret: not generated again, not returned.
    again = {"grpIdx": result["grpIdx"], **hook, "webhookMetric": "P", "webhookFrequency": 200}
    assert ok(await api.put("/api/link-group/v1/update", json=again)) is None
    row = await group_row(pool, result["grpIdx"])
    assert row["webhook_secret"] == secret
    assert (row["webhook_metric"], row["webhook_frequency"]) == ("P", 200)
    # A group without webhooks gets its secret on the update that enables them.
    plain = await create(api)
    new = ok(await api.put("/api/link-group/v1/update", json={"grpIdx": plain, **hook}))
    assert isinstance(new, str) and new.startswith("whsec_") and new != secret
    assert ok(await api.put("/api/link-group/v1/update", json={"grpIdx": plain, **hook})) is None


async def test_list_v1_filters_and_item_shape(api: httpx.AsyncClient) -> None:
    a = await create(api, nm="Spring Sale", memo="x")
    b = await create(api, nm="autumn SALE")
    await create(api, nm="Other")
    response = await api.get("/api/link-group/v1/list", params={"nm": "sale"})
    msgspec.json.decode(response.content, type=VivoldiGroupsAnswer)
    items = ok(response)
    assert [i["idx"] for i in items] == [a, b]
    for item in items:
        assert set(item) == set(ITEM_TYPES)
        for key, kind in ITEM_TYPES.items():
            assert isinstance(item[key], kind), key
        datetime.strptime(item["regYmdt"], "%Y-%m-%d %H:%M:%S")
    assert items[0]["memo"] == "x" and items[0]["linkCnt"] == 0 and items[0]["qrBypassYn"] == "N"
    only = ok(await api.get("/api/link-group/v1/list", params={"grpIdx": b}))
    assert [i["idx"] for i in only] == [b]
    # Ids out of the documented range are refused, not read as "none".
    for outside in (0, 2**70):
        answer = (await api.get("/api/link-group/v1/list", params={"grpIdx": outside})).json()
        assert answer["code"] == 400 and "grpIdx" in answer["message"], answer
    # "%" is text, not a pattern.
    assert ok(await api.get("/api/link-group/v1/list", params={"nm": "%"})) == []


async def test_list_v2_pages_of_30(api: httpx.AsyncClient) -> None:
    ids = [await create(api, nm=f"page {i}") for i in range(31)]
    response = await api.get("/api/link-group/v2/list")
    msgspec.json.decode(response.content, type=VivoldiGroupPageAnswer)
    first = ok(response)
    assert set(first) == {"extra", "list"}
    assert first["extra"] == {
        "pages": 1,
        "nextPages": 2,
        "nextYn": "Y",
        "count": 30,
        "totalCount": 31,
    }
    assert [i["idx"] for i in first["list"]] == ids[:30]
    assert set(first["list"][0]) == set(ITEM_TYPES)
    second = ok(await api.get("/api/link-group/v2/list", params={"pages": 2}))
    assert second["extra"] == {
        "pages": 2,
        "nextPages": 2,
        "nextYn": "N",
        "count": 1,
        "totalCount": 31,
    }
    assert [i["idx"] for i in second["list"]] == ids[30:]
    named = ok(await api.get("/api/link-group/v2/list", params={"nm": "page 3"}))
    assert named["extra"]["totalCount"] == 2  # "page 3" and "page 30"


async def test_workspaces_see_only_their_groups(
    api: httpx.AsyncClient, management: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    mine = await create(api, nm="mine")
    other = await plan_workspace(pool, "selfhosted")
    async with client_for(management, other) as theirs:
        assert ok(await theirs.get("/api/link-group/v1/list")) == []
        listed = ok(await theirs.get("/api/link-group/v1/list", params={"grpIdx": mine}))
        assert listed == []
        response = await theirs.delete("/api/link-group/v1/delete", params={"grpIdx": mine})
        assert response.status_code == 200 and response.json()["code"] == 404
    deleted = await api.delete("/api/link-group/v1/delete", params={"grpIdx": mine})
    assert msgspec.json.decode(deleted.content, type=VivoldiEmptyAnswer).code == 0
    assert await pool.fetchval("SELECT count(*) FROM link_groups WHERE id = $1", mine) == 0
