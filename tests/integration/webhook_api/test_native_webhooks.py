"""The native webhook endpoints over HTTP: register, list, get, remove; bad input; the
workspace scope; the plan gate; notifications."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace, plan_workspace
from tests.integration.webhook_api.conftest import native_client, webhook_count
from tests.integration.webhooks.conftest import make_link
from tests.support.inprocess import InProcessApp

TARGET = "https://93.184.215.14/kurz"  # public, and an IP literal: no DNS needed


async def test_register_list_get_remove(
    native: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    link = await make_link(pool, workspace.id)
    created = await native.post("/api/v1/webhooks", json={"url": TARGET})
    assert created.status_code == 201, created.text
    hook = created.json()["webhook"]
    assert hook["secret"].startswith("whsec_")
    assert hook["url"] == TARGET and hook["linkId"] is None
    assert hook["format"] == "standard" and hook["active"] is True
    assert "x-ratelimit-limit" in {k.lower() for k in created.headers}

    on_link = await native.post("/api/v1/webhooks", json={"url": TARGET + "/l", "linkId": link.id})
    assert on_link.status_code == 201
    assert on_link.json()["webhook"]["linkId"] == link.id

    listed = (await native.get("/api/v1/webhooks")).json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"], on_link.json()["webhook"]["id"]]
    assert all("secret" not in h for h in listed)  # the secret is shown once

    got = await native.get(f"/api/v1/webhooks/{hook['id']}")
    assert got.status_code == 200
    assert got.json()["webhook"] == {k: v for k, v in hook.items() if k != "secret"}

    assert (await native.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 204
    assert (await native.get(f"/api/v1/webhooks/{hook['id']}")).status_code == 404
    assert (await native.delete(f"/api/v1/webhooks/{hook['id']}")).status_code == 404
    assert await webhook_count(pool, workspace.id) == 1


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({}, 400, "url"),
        ({"url": TARGET, "format": "linkly"}, 400, "format"),
        ({"url": 5}, 400, "str"),
        ({"url": "ftp://93.184.215.14/x"}, 422, "http"),
        ({"url": "https://user:pw@93.184.215.14/x"}, 422, "credentials"),
        ({"url": "not a url"}, 422, "http"),
        ({"url": TARGET, "linkId": 999_999_999}, 404, "no link"),
        ({"url": TARGET, "linkId": 2**63}, 400, "out of range"),
    ],
)
async def test_bad_registrations_are_refused_and_write_nothing(
    native: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    workspace: Workspace,
    body: dict[str, Any],
    status: int,
    words: str,
) -> None:
    answer = await native.post("/api/v1/webhooks", json=body)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]
    assert await webhook_count(pool, workspace.id) == 0


async def test_malformed_json_and_ids(native: httpx.AsyncClient) -> None:
    bad = await native.post(
        "/api/v1/webhooks", content=b"{", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 400 and "malformed JSON" in bad.json()["error"]
    assert (await native.get("/api/v1/webhooks/abc")).status_code == 404
    assert (await native.get("/api/v1/webhooks/1/deliveries?limit=0")).status_code == 400


async def test_no_key_is_401(hooks_server: InProcessApp) -> None:
    async with hooks_server.client() as anonymous:
        answer = await anonymous.get("/api/v1/webhooks")
    assert answer.status_code == 401 and "API key" in answer.json()["error"]


async def test_another_workspace_sees_not_found(
    native: httpx.AsyncClient,
    hooks_server: InProcessApp,
    pool: asyncpg.Pool[Any],
    other_workspace: Workspace,
) -> None:
    hook = (await native.post("/api/v1/webhooks", json={"url": TARGET})).json()["webhook"]
    foreign_link = await make_link(pool, other_workspace.id)
    async with native_client(hooks_server, other_workspace) as other:
        assert (await other.get("/api/v1/webhooks")).json() == {"webhooks": []}
        for method, path in [
            ("GET", f"/api/v1/webhooks/{hook['id']}"),
            ("DELETE", f"/api/v1/webhooks/{hook['id']}"),
            ("GET", f"/api/v1/webhooks/{hook['id']}/deliveries"),
            ("POST", f"/api/v1/webhooks/{hook['id']}/enable"),
            ("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/1/replay"),
        ]:
            answer = await other.request(method, path)
            assert answer.status_code == 404, (method, path, answer.text)
            assert "error" in answer.json()
    # A link of another workspace is not found either.
    refused = await native.post("/api/v1/webhooks", json={"url": TARGET, "linkId": foreign_link.id})
    assert refused.status_code == 404
    assert (await native.get(f"/api/v1/webhooks/{hook['id']}")).status_code == 200


async def test_plan_without_webhooks_is_403(
    hooks_server: InProcessApp, pool: asyncpg.Pool[Any]
) -> None:
    free = await plan_workspace(pool, "business")  # every plan below Enterprise
    async with native_client(hooks_server, free) as client:
        answer = await client.post("/api/v1/webhooks", json={"url": TARGET})
        assert answer.status_code == 403
        assert "Enterprise" in answer.json()["error"]
        assert (await client.get("/api/v1/webhooks")).status_code == 200  # reading stays open
    assert await webhook_count(pool, free.id) == 0


async def test_notifications_newest_first(
    native: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    for n in (1, 2, 3):
        await pool.execute(
            """INSERT INTO notifications
                   (workspace_id, kind, channel, dedupe_key, subject, body, data)
               VALUES ($1, 'group.clicks_threshold', 'push', $2, $3, 'body', $4)""",
            workspace.id,
            f"k{n}",
            f"subject {n}",
            {"count": n * 100},
        )
    answer = await native.get("/api/v1/notifications?limit=2")
    assert answer.status_code == 200
    notes = answer.json()["notifications"]
    assert [n["subject"] for n in notes] == ["subject 3", "subject 2"]
    assert notes[0]["data"] == {"count": 300} and notes[0]["channel"] == "push"
    assert (await native.get("/api/v1/notifications?limit=x")).status_code == 400
