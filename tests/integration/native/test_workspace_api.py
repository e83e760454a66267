"""GET and PATCH /api/v1/workspace: the workspace's branding and not-found redirects,
validated, stored in Postgres, then written through to the edge with an invalidation."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.branding import decode_workspace

from tests.conftest import Workspace
from tests.support.streams import redis_value

EMPTY = {
    "branding": {"name": None, "logoUrl": None, "accentColor": None},
    "notFoundRedirects": {"baseUrl": None, "invalidLink": None, "expiredLink": None},
}


async def test_defaults_then_set_clear_and_keep(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any], redis: aioredis.Redis
) -> None:
    got = await api.get("/api/v1/workspace")
    assert got.status_code == 200, got.text
    assert got.json()["workspace"] == {"id": workspace.id, "name": got.json()["workspace"]["name"],
                                       **EMPTY}  # fmt: skip
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(keys.INVALIDATION_CHANNEL)
    changed = await api.patch("/api/v1/workspace", json={
        "branding": {"name": "  Acme & Co  ", "logoUrl": "https://CDN.Example/logo.svg",
                     "accentColor": "#FF6600"},
        "notFoundRedirects": {"baseUrl": "https://acme.example/", "expiredLink":
                              "https://bücher.example/over"},
    })  # fmt: skip
    assert changed.status_code == 200, changed.text
    body = changed.json()["workspace"]
    assert body["branding"] == {"name": "Acme & Co", "logoUrl": "https://cdn.example/logo.svg",
                                "accentColor": "#ff6600"}  # fmt: skip
    assert body["notFoundRedirects"] == {
        "baseUrl": "https://acme.example/", "invalidLink": None,
        "expiredLink": "https://xn--bcher-kva.example/over",  # IDN as punycode
    }  # fmt: skip
    assert (await api.get("/api/v1/workspace")).json()["workspace"] == body
    row = await pool.fetchrow("SELECT * FROM workspaces WHERE id = $1", workspace.id)
    assert (row["brand_name"], row["accent_color"]) == ("Acme & Co", "#ff6600")
    edge = decode_workspace(await redis_value(redis, keys.workspace(workspace.id)))
    assert edge.logo_url == "https://cdn.example/logo.svg" and edge.invalid_link_redirect is None
    message = await _next_message(pubsub)
    assert message == keys.workspace_invalidation(workspace.id)
    await pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
    # null clears, absent stays
    again = await api.patch("/api/v1/workspace", json={"branding": {"logoUrl": None}})
    assert again.status_code == 200, again.text
    branding = again.json()["workspace"]["branding"]
    assert branding == {"name": "Acme & Co", "logoUrl": None, "accentColor": "#ff6600"}
    assert again.json()["workspace"]["notFoundRedirects"] == body["notFoundRedirects"]
    assert decode_workspace(await redis_value(redis, keys.workspace(workspace.id))).logo_url is None


async def _next_message(pubsub: Any) -> str:
    async with asyncio.timeout(10):
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None:
                return str(message["data"].decode())


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"branding": {"accentColor": "red"}}, 422, "branding.accentColor: 'red' is not a colour"),
        ({"branding": {"accentColor": "#ff660"}}, 422, "branding.accentColor"),
        ({"branding": {"logoUrl": "javascript:alert(1)//"}}, 422, "branding.logoUrl"),
        ({"branding": {"logoUrl": "ftp://cdn.example/logo.png"}}, 422, "branding.logoUrl"),
        ({"branding": {"logoUrl": "https://u:p@cdn.example/l.png"}}, 422, "branding.logoUrl"),
        ({"branding": {"name": ""}}, 422, "branding.name"),
        ({"branding": {"name": "x" * 101}}, 422, "branding.name"),
        ({"notFoundRedirects": {"invalidLink": "/relative"}}, 422, "notFoundRedirects.invalidLink"),
        ({"notFoundRedirects": {"baseUrl": "data:text/html,hi"}}, 422, "notFoundRedirects.baseUrl"),
        ({"branding": {"colour": "#ffffff"}}, 400, "invalid body"),
        ({"theme": {}}, 400, "invalid body"),
        ({"branding": {"name": 5}}, 400, "invalid body"),
    ],
)  # fmt: skip
async def test_bad_input_is_refused_and_nothing_is_written(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any],
    body: dict[str, Any], status: int, error: str,
) -> None:  # fmt: skip
    # A good field beside the bad one: all or nothing.
    body = {**body, "notFoundRedirects": {"expiredLink": "https://ok.example/",
                                          **body.get("notFoundRedirects", {})}}  # fmt: skip
    answer = await api.patch("/api/v1/workspace", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"].startswith(error)
    row = await pool.fetchrow("SELECT * FROM workspaces WHERE id = $1", workspace.id)
    assert row["expired_link_redirect"] is None and row["accent_color"] is None


async def test_the_key_decides_the_workspace(http: httpx.AsyncClient, workspace: Workspace) -> None:
    assert (await http.get("/api/v1/workspace")).status_code == 401
    answer = await http.patch("/api/v1/workspace", headers=workspace.bearer,
                              json={"branding": {"name": "Mine"}})  # fmt: skip
    assert answer.json()["workspace"]["id"] == workspace.id


async def test_concurrent_updates_leave_postgres_and_edge_alike(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any], redis: aioredis.Redis
) -> None:
    names = [f"name {i}" for i in range(30)]
    answers = await asyncio.gather(
        *(api.patch("/api/v1/workspace", json={"branding": {"name": n}}) for n in names)
    )
    assert [a.status_code for a in answers] == [200] * len(names)
    stored = await pool.fetchval("SELECT brand_name FROM workspaces WHERE id = $1", workspace.id)
    assert (
        decode_workspace(await redis_value(redis, keys.workspace(workspace.id))).brand_name
        == stored
    )
