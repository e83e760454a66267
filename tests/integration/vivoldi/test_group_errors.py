"""Bad input to the Vivoldi group endpoints: a non-zero code in the envelope, a clear
message, and nothing written (the database is checked)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace, plan_workspace
from tests.integration.vivoldi.conftest import client_for
from tests.support.families import vivoldi_status
from tests.support.inprocess import InProcessApp

HOOK = {"webhookEnableYn": "Y", "webhookCallbackUrl": "https://api.example.com/webhook"}

BAD_CREATE: list[tuple[str, Any, str]] = [
    ("missing nm", {"memo": "no name"}, "nm"),
    ("blank nm", {"nm": "   "}, "nm"),
    ("nm not text", {"nm": 5}, "nm"),
    ("nm too long", {"nm": "x" * 201}, "nm"),
    ("bad Y/N", {"nm": "g", "qrBypassYn": "X"}, "qrBypassYn"),
    ("lower-case y", {"nm": "g", "pushNotifyYn": "y"}, "pushNotifyYn"),
    ("bad metric", {"nm": "g", "webhookMetric": "Z"}, "webhookMetric"),
    ("bad frequency", {"nm": "g", "webhookFrequency": 7}, "webhookFrequency"),
    ("bad date", {"nm": "g", "strtYmdt": "2026-13-01 00:00:00"}, "strtYmdt"),
    ("date without time", {"nm": "g", "endYmdt": "2026-03-31"}, "endYmdt"),
    ("ISO date", {"nm": "g", "endYmdt": "2026-03-31T23:59:59Z"}, "endYmdt"),
    (
        "end before start",
        {"nm": "g", "strtYmdt": "2026-03-02 00:00:00", "endYmdt": "2026-03-01 00:00:00"},
        "endYmdt",
    ),
    ("negative limit", {"nm": "g", "acesMaxCnt": -1}, "acesMaxCnt"),
    ("limit not a number", {"nm": "g", "acesMaxCnt": "many"}, "acesMaxCnt"),
    ("limit too large", {"nm": "g", "acesMaxCnt": 2**31}, "acesMaxCnt"),
    ("expireUrl not a URL", {"nm": "g", "expireUrl": "event-expired"}, "expireUrl"),
    ("expireUrl javascript", {"nm": "g", "expireUrl": "javascript:alert(1)"}, "expireUrl"),
    ("webhook without URL", {"nm": "g", "webhookEnableYn": "Y"}, "webhookCallbackUrl"),
    ("webhook bad URL", {"nm": "g", **HOOK, "webhookCallbackUrl": "ftp://x"}, "webhookCallbackUrl"),
    ("password too long", {"nm": "g", "pwd": "p" * 201}, "pwd"),
    ("array body", [{"nm": "g"}], "object"),
]


async def group_count(pool: asyncpg.Pool[Any], workspace_id: int) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM link_groups WHERE workspace_id = $1", workspace_id
    )
    return count


def refused(response: httpx.Response, code: int, mentions: str | None = None) -> str:
    body = response.json()
    assert set(body) == {"code", "message", "result"}
    assert body["code"] == code and response.status_code == vivoldi_status(code), body
    assert body["result"] is None and body["message"]
    if mentions:
        assert mentions in body["message"], body["message"]
    message: str = body["message"]
    return message


@pytest.mark.parametrize(("case", "body", "mentions"), BAD_CREATE, ids=[c[0] for c in BAD_CREATE])
async def test_bad_create_writes_nothing(
    api: httpx.AsyncClient,
    workspace: Workspace,
    pool: asyncpg.Pool[Any],
    case: str,
    body: Any,
    mentions: str,
) -> None:
    refused(await api.post("/api/link-group/v1/create", json=body), 400, mentions)
    assert await group_count(pool, workspace.id) == 0


@pytest.mark.parametrize("raw", [b"", b"nm=Youtube", b'{"nm": ', b"\xff\xfe"])
async def test_non_json_body(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any], raw: bytes
) -> None:
    message = refused(await api.post("/api/link-group/v1/create", content=raw), 400)
    assert "JSON" in message
    assert await group_count(pool, workspace.id) == 0


async def test_bad_update_changes_nothing(
    api: httpx.AsyncClient, management: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    grp_idx = (await api.post("/api/link-group/v1/create", json={"nm": "keep", "pwd": "a"})).json()
    grp_idx = grp_idx["result"]["grpIdx"]
    before = dict(await pool.fetchrow("SELECT * FROM link_groups WHERE id = $1", grp_idx))
    other = await plan_workspace(pool, "selfhosted")
    async with client_for(management, other) as theirs:
        refused(
            await theirs.put("/api/link-group/v1/update", json={"grpIdx": grp_idx, "nm": "stolen"}),
            404,
        )
    bad_updates: list[tuple[Any, int, str]] = [
        ({"nm": "no id"}, 400, "grpIdx"),
        ({"grpIdx": 999_999_999, "nm": "x"}, 404, "not found"),
        ({"grpIdx": 2**70, "nm": "x"}, 404, "not found"),
        ({"grpIdx": -3, "nm": "x"}, 404, "not found"),
        ({"grpIdx": grp_idx, "nm": ""}, 400, "nm"),
        ({"grpIdx": grp_idx, "nm": "x", "endYmdt": "31/03/2026"}, 400, "endYmdt"),
        ({"grpIdx": grp_idx, "nm": "x", "webhookFrequency": 250}, 400, "webhookFrequency"),
        ({"grpIdx": grp_idx, "nm": "x", "webhookEnableYn": "Y"}, 400, "webhookCallbackUrl"),
        ({"grpIdx": grp_idx, "nm": "x", "notfSubscYn": "YES"}, 400, "notfSubscYn"),
        ({"grpIdx": grp_idx, "nm": "x", "pwd": "p" * 500}, 400, "pwd"),
    ]
    for body, code, mentions in bad_updates:
        refused(await api.put("/api/link-group/v1/update", json=body), code, mentions or None)
    refused(await api.put("/api/link-group/v1/update", content=b"not json"), 400, "JSON")
    after = dict(await pool.fetchrow("SELECT * FROM link_groups WHERE id = $1", grp_idx))
    assert after == before


async def test_bad_queries(api: httpx.AsyncClient) -> None:
    refused(await api.get("/api/link-group/v1/list", params={"grpIdx": "abc"}), 400, "grpIdx")
    refused(await api.get("/api/link-group/v2/list", params={"pages": 0}), 400, "pages")
    refused(await api.get("/api/link-group/v2/list", params={"pages": "x"}), 400, "pages")
    refused(await api.delete("/api/link-group/v1/delete"), 400, "grpIdx")
    refused(await api.delete("/api/link-group/v1/delete", params={"grpIdx": 123456789}), 404)


async def test_wrong_method_gets_the_envelope(api: httpx.AsyncClient) -> None:
    response = await api.get("/api/link-group/v1/create")
    refused(response, 405, "POST")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("header", [None, "APIKey", "APIKey kurz_nope", "Basic abc", "kurz_x"])
async def test_auth_refused(
    management: InProcessApp, workspace: Workspace, pool: asyncpg.Pool[Any], header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    async with management.client(headers) as anon:
        refused(await anon.post("/api/link-group/v1/create", json={"nm": "g"}), 401, "API key")
        refused(await anon.get("/api/link-group/v2/list"), 401)
    assert await group_count(pool, workspace.id) == 0


async def test_bearer_accepted(management: InProcessApp, workspace: Workspace) -> None:
    async with management.client(workspace.bearer) as client:
        body = (await client.get("/api/link-group/v1/list")).json()
    assert body == {"code": 0, "message": "", "result": []}
