"""Linkly's webhook endpoints over HTTP: workspace-level and link-level add, list and
delete, in Linkly's envelope; bad input; the workspace scope; the plan gate."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.conftest import Workspace, plan_workspace
from tests.integration.webhook_api.conftest import linkly_client, webhook_count
from tests.integration.webhooks.conftest import make_link
from tests.support.inprocess import InProcessApp

TARGET = "https://93.184.215.14/linkly"


async def test_workspace_webhooks(
    linkly: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    base = f"/api/v1/workspace/{workspace.id}/webhooks"
    added = await linkly.post(base, json={"url": TARGET})
    assert added.status_code == 200, added.text
    hook = added.json()
    assert hook["secret"].startswith("whsec_")
    assert hook["url"] == TARGET and hook["link_id"] is None
    assert hook["workspace_id"] == workspace.id and hook["enabled"] is True
    assert "deleted" not in hook
    row = await pool.fetchrow("SELECT format, secret FROM webhooks WHERE id = $1", hook["id"])
    assert row["format"] == "linkly" and row["secret"] == hook["secret"]

    # A link-level webhook is not listed (or deleted) at workspace level.
    link = await make_link(pool, workspace.id)
    on_link = (await linkly.post(f"/api/v1/link/{link.id}/webhooks", json={"url": TARGET})).json()
    listed = (await linkly.get(base)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert (await linkly.delete(f"{base}/{on_link['id']}")).status_code == 404

    deleted = await linkly.delete(f"{base}/{hook['id']}")
    assert deleted.status_code == 200
    assert deleted.json()["deleted"] is True and deleted.json()["id"] == hook["id"]
    assert "secret" not in deleted.json()
    assert (await linkly.get(base)).json() == []
    again = await linkly.delete(f"{base}/{hook['id']}")
    assert again.status_code == 404 and "error" in again.json()


async def test_link_webhooks(
    linkly: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    link = await make_link(pool, workspace.id)
    base = f"/api/v1/link/{link.id}/webhooks"
    # A form body with the key in it, as Linkly clients send.
    linkly.headers.pop("X-API-KEY")
    added = await linkly.post(base, data={"url": TARGET, "api_key": workspace.key})
    assert added.status_code == 200, added.text
    assert added.json()["link_id"] == link.id
    listed = (await linkly.get(base, params={"api_key": workspace.key})).json()
    assert [h["id"] for h in listed] == [added.json()["id"]]
    gone = await linkly.delete(f"{base}/{added.json()['id']}", params={"api_key": workspace.key})
    assert gone.status_code == 200 and gone.json()["deleted"] is True
    assert await webhook_count(pool, workspace.id) == 0


async def test_bad_input(
    linkly: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    base = f"/api/v1/workspace/{workspace.id}/webhooks"
    missing = await linkly.post(base, json={})
    assert missing.status_code == 422 and missing.json()["field"] == "url"
    unknown = await linkly.post(base, json={"url": TARGET, "events": ["click"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "events"
    scheme = await linkly.post(base, json={"url": "javascript:alert(1)"})
    assert scheme.status_code == 422 and scheme.json()["field"] == "url"
    array = await linkly.post(base, json=[{"url": TARGET}])
    assert array.status_code == 400
    broken = await linkly.post(base, content=b"{", headers={"content-type": "application/json"})
    assert broken.status_code == 400
    assert (
        await linkly.post("/api/v1/link/999999999/webhooks", json={"url": TARGET})
    ).status_code == 404
    assert (await linkly.get("/api/v1/link/abc/webhooks")).status_code == 404
    assert (await linkly.delete(f"{base}/abc")).status_code == 404
    assert await webhook_count(pool, workspace.id) == 0


async def test_workspace_scope(
    linkly: httpx.AsyncClient,
    hooks_server: InProcessApp,
    pool: asyncpg.Pool[Any],
    workspace: Workspace,
    other_workspace: Workspace,
) -> None:
    link = await make_link(pool, workspace.id)
    ws_hook = (
        await linkly.post(f"/api/v1/workspace/{workspace.id}/webhooks", json={"url": TARGET})
    ).json()
    link_hook = (await linkly.post(f"/api/v1/link/{link.id}/webhooks", json={"url": TARGET})).json()
    async with linkly_client(hooks_server, other_workspace) as other:
        mine = f"/api/v1/workspace/{other_workspace.id}/webhooks"
        assert (await other.delete(f"{mine}/{ws_hook['id']}")).status_code == 404
        assert (await other.get(mine)).json() == []
        for method in ("GET", "POST"):
            answer = await other.request(
                method, f"/api/v1/link/{link.id}/webhooks", json={"url": TARGET}
            )
            assert answer.status_code == 404, answer.text
        answer = await other.delete(f"/api/v1/link/{link.id}/webhooks/{link_hook['id']}")
        assert answer.status_code == 404
        # Naming another workspace in the path is refused as on every Linkly call: not
        # found, as Linkly's reference answers for a workspace the key cannot reach.
        theirs = await other.get(f"/api/v1/workspace/{workspace.id}/webhooks")
        assert theirs.status_code == 404 and theirs.json()["field"] == "workspace_id"
    assert await webhook_count(pool, workspace.id) == 2


async def test_plan_gate(hooks_server: InProcessApp, pool: asyncpg.Pool[Any]) -> None:
    premium = await plan_workspace(pool, "premium")
    async with linkly_client(hooks_server, premium) as client:
        answer = await client.post(f"/api/v1/workspace/{premium.id}/webhooks", json={"url": TARGET})
    assert answer.status_code == 403 and "Enterprise" in answer.json()["error"]
    assert await webhook_count(pool, premium.id) == 0


async def test_missing_key_is_401(hooks_server: InProcessApp, workspace: Workspace) -> None:
    async with hooks_server.client() as anonymous:
        answer = await anonymous.get(f"/api/v1/workspace/{workspace.id}/webhooks")
    assert answer.status_code == 401 and "api_key" in answer.json()["error"]


async def test_unsubscribe_by_url_as_linklys_clients_do(
    linkly: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    """Linkly's MCP client (unsubscribe_webhook, unsubscribe_link_webhook) and the
    reference key webhooks by URL: DELETE .../webhooks/{encodeURIComponent(url)}."""
    from urllib.parse import quote

    base = f"/api/v1/workspace/{workspace.id}/webhooks"
    link = await make_link(pool, workspace.id)
    on_link = f"/api/v1/link/{link.id}/webhooks"
    url = TARGET + "/path?x=1"
    for where in (base, on_link):
        assert (await linkly.post(where, json={"url": url})).status_code == 200
    encoded = quote(url, safe="")  # what encodeURIComponent sends
    removed = await linkly.delete(f"{base}/{encoded}")
    assert removed.status_code == 200, removed.text
    assert (removed.json()["url"], removed.json()["deleted"]) == (url, True)
    assert (await linkly.get(base)).json() == []
    assert len((await linkly.get(on_link)).json()) == 1  # the link's own is another level
    gone = (await linkly.delete(f"{on_link}/{encoded}")).json()
    assert (gone["url"], gone["link_id"], gone["deleted"]) == (url, link.id, True)
    assert await webhook_count(pool, workspace.id) == 0
    missing = await linkly.delete(f"{base}/{encoded}")
    assert missing.status_code == 404 and "no webhook for" in missing.json()["error"]
