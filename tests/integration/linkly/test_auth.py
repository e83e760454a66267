"""Linkly authentication: key and workspace id in body, query or headers; another
workspace's id refused; the per-key rate limit."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace
from tests.integration.linkly.conftest import RATE_LIMIT, count_links

URL = "https://auth.example"


async def test_key_in_body_query_or_headers(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    key, ws = workspace.key, str(workspace.id)
    form_body = await http.post(
        "/api/v1/link", data={"api_key": key, "workspace_id": ws, "url": URL}
    )
    json_body = await http.post(
        "/api/v1/link", json={"api_key": key, "workspace_id": int(ws), "url": URL}
    )
    query = await http.post(
        "/api/v1/link", params={"api_key": key, "workspace_id": ws}, json={"url": URL}
    )
    headers = await http.post(
        "/api/v1/link", headers={"X-API-KEY": key, "X-WORKSPACE-ID": ws}, json={"url": URL}
    )
    key_only = await http.post("/api/v1/link", headers={"X-API-KEY": key}, json={"url": URL})
    for response in (form_body, json_body, query, headers, key_only):
        assert response.status_code == 200, response.text
        assert response.json()["workspace_id"] == workspace.id
    assert response.headers["X-RateLimit-Limit"] == str(RATE_LIMIT)
    assert await count_links(pool, workspace.id) == 5


async def test_bearer_and_basic_authorization(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    """Linkly's reference (v1.3, "Authentication"): `Authorization: Bearer <key>`, the
    recommended way, and `Basic base64(<key>:)`, the key as user name."""
    basic = base64.b64encode(f"{workspace.key}:".encode()).decode()
    for authorization in (f"Bearer {workspace.key}", f"Basic {basic}"):
        response = await http.post(
            "/api/v1/link", headers={"Authorization": authorization}, json={"url": URL}
        )
        assert response.status_code == 200, response.text
        assert response.json()["workspace_id"] == workspace.id
    assert await count_links(pool, workspace.id) == 2
    wrong = base64.b64encode(b"kurz_nope:").decode()
    for authorization in ("Bearer kurz_nope", f"Basic {wrong}", "Basic %%%"):
        response = await http.post(
            "/api/v1/link", headers={"Authorization": authorization}, json={"url": URL}
        )
        assert response.status_code == 401, response.text


@pytest.mark.parametrize("key", [None, "", "kurz_not-a-real-key"])
async def test_missing_or_unknown_key_is_401(http: httpx.AsyncClient, key: str | None) -> None:
    body = {"url": URL, **({"api_key": key} if key is not None else {})}
    response = await http.post("/api/v1/link", data=body)
    assert response.status_code == 401
    assert set(response.json()) == {"error"}


async def test_revoked_key_is_401(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    await pool.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE workspace_id = $1", workspace.id
    )
    response = await http.post(
        "/api/v1/link", headers={"X-API-KEY": workspace.key}, json={"url": URL}
    )
    assert response.status_code == 401


async def test_another_workspaces_id_is_refused_everywhere(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    other = workspace.id + 100_000
    key = workspace.key
    attempts = [
        http.post("/api/v1/link", data={"api_key": key, "workspace_id": str(other), "url": URL}),
        http.post(
            "/api/v1/link", params={"api_key": key, "workspace_id": other}, json={"url": URL}
        ),
        http.post(
            "/api/v1/link",
            headers={"X-API-KEY": key, "X-WORKSPACE-ID": str(other)},
            json={"url": URL},
        ),
        http.post(f"/api/v1/workspace/{other}/links", params={"api_key": key}, json=[{"url": URL}]),
        http.post(
            f"/api/v1/workspace/{workspace.id}/links",
            params={"api_key": key},
            json=[{"url": URL, "workspace_id": str(other)}],
        ),
        http.get(f"/api/v1/workspace/{other}/links/export", params={"api_key": key}),
        http.delete(f"/api/v1/workspace/{other}/links/1", params={"api_key": key}),
    ]
    # Linkly's reference: a workspace the key cannot access is 404, like a missing one.
    for response in await asyncio.gather(*attempts):
        assert response.status_code == 404, response.text
        assert f"workspace {other} not found" in response.text
    assert await count_links(pool, workspace.id) == 0


async def test_a_link_of_another_workspace_is_invisible(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    from kurz.workspaces import create_workspace

    async with pool.acquire() as conn:
        _, other_key = await create_workspace(conn, "linkly-other")
    created = await http.post("/api/v1/link", headers={"X-API-KEY": other_key}, json={"url": URL})
    link_id = created.json()["id"]
    mine = {"X-API-KEY": workspace.key}
    assert (await http.get(f"/api/v1/get_link/{link_id}", headers=mine)).status_code == 404
    update = await http.post("/api/v1/link", headers=mine, json={"id": link_id, "url": URL})
    assert update.status_code == 404
    delete = await http.delete(f"/api/v1/workspace/{workspace.id}/links/{link_id}", headers=mine)
    assert delete.status_code == 404


async def test_rate_limit_per_key(http: httpx.AsyncClient, workspace: Workspace) -> None:
    headers = {"X-API-KEY": workspace.key}
    responses = await asyncio.gather(
        *[http.get("/api/v1/get_link/1", headers=headers) for _ in range(RATE_LIMIT * 3)]
    )
    limited = [r for r in responses if r.status_code == 429]
    # Fixed one-second windows: a burst spanning two windows lets at most twice through.
    assert len(responses) - len(limited) <= 2 * RATE_LIMIT, [r.status_code for r in responses]
    assert int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].headers["X-RateLimit-Remaining"] == "0"
    assert "error" in limited[0].json()
