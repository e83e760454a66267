"""Every tool of Linkly's own API client (Linkly-HQ/mcp-server-linkly, index.js, v1.3.0)
replayed against a running kurz exactly as that client sends its requests: its headers
(X-WORKSPACE-ID, X-API-KEY, JSON), a body merged with `workspace_id` (a string, from the
environment) and `api_key`, its paths and query strings, and its reading of the answer
(any status that is not ok is an error; every answer is parsed as JSON)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace, plan_workspace
from tests.support.services import Service

HOOK = "https://93.184.215.14/linkly-mcp?tag=a b"  # a public address: no DNS needed


class McpClient:
    """What index.js's apiRequest does, in Python: nothing more, nothing less."""

    def __init__(self, http: httpx.AsyncClient, api_key: str, workspace_id: str) -> None:
        self.http, self.key, self.ws = http, api_key, workspace_id

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {
            "Content-Type": "application/json", "Accept": "application/json",
            "X-WORKSPACE-ID": self.ws, "X-API-KEY": self.key,
        }  # fmt: skip
        # A person asks one tool at a time: well inside Linkly's 20 requests a second.
        await asyncio.sleep(0.06)
        content = None
        if body:  # `if (body)`: a body only when the tool has one
            content = json.dumps({**body, "workspace_id": self.ws, "api_key": self.key})
        response = await self.http.request(method, path, headers=headers, content=content)
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    async def tool(self, name: str, args: dict[str, Any]) -> Any:  # noqa: C901 (the client's switch)
        ws = self.ws
        if name == "create_link":
            return await self.request("POST", f"/api/v1/workspace/{ws}/links", args)
        if name == "update_link":
            link_id, *_ = (args["link_id"],)
            rest = {k: v for k, v in args.items() if k != "link_id"}
            return await self.request(
                "POST", f"/api/v1/workspace/{ws}/links", {"id": link_id, **rest}
            )
        if name == "delete_link":
            return await self.request("DELETE", f"/api/v1/workspace/{ws}/links/{args['link_id']}")
        if name == "get_link":
            return await self.request("GET", f"/api/v1/get_link/{args['link_id']}")
        if name == "list_links":
            return await self.request("GET", f"/api/v1/workspace/{ws}/links/export")
        if name == "get_clicks":
            query = {
                "format": "json",
                **({"link_id": args["link_id"]} if args.get("link_id") else {}),
            }
            return await self.request(
                "GET", f"/api/v1/workspace/{ws}/clicks/export?{urlencode(query)}"
            )
        if name in ("get_analytics", "get_analytics_by", "export_clicks"):
            keys = {
                "get_analytics": ("start", "end", "link_id", "frequency", "country", "platform",
                                  "browser", "unique", "bots"),
                "get_analytics_by": ("start", "end", "link_id", "country", "platform", "unique",
                                     "bots"),
                "export_clicks": ("start", "end", "link_id", "country", "platform", "bots"),
            }[name]  # fmt: skip
            query = {}
            if name == "get_analytics_by":
                query["counter"] = args["counter"]
            if name == "export_clicks":
                query["format"] = "json"
            for key in keys:
                if args.get(key):  # `if (args.x)`: falsy values are left out
                    query[key] = (
                        str(args[key]).lower() if isinstance(args[key], bool) else args[key]
                    )
            qs = urlencode(query)
            clicks = f"/api/v1/workspace/{ws}/clicks"
            path = {
                "get_analytics": clicks + (f"?{qs}" if qs else ""),
                "get_analytics_by": f"{clicks}/counters/{args.get('counter')}?{qs}",
                "export_clicks": f"{clicks}/export?{qs}",
            }[name]
            return await self.request("GET", path)
        if name == "list_domains":
            return await self.request("GET", f"/api/v1/workspace/{ws}/domains")
        if name == "create_domain":
            return await self.request(
                "POST", f"/api/v1/workspace/{ws}/domains", {"name": args["name"]}
            )
        if name == "delete_domain":
            return await self.request(
                "DELETE", f"/api/v1/workspace/{ws}/domains/{args['domain_id']}"
            )
        if name == "search_links":
            qs = urlencode({"search": args["query"]})
            return await self.request("GET", f"/api/v1/workspace/{ws}/links/export?{qs}")
        if name == "list_webhooks":
            return await self.request("GET", f"/api/v1/workspace/{ws}/webhooks")
        if name == "subscribe_webhook":
            return await self.request(
                "POST", f"/api/v1/workspace/{ws}/webhooks", {"url": args["url"]}
            )
        if name == "unsubscribe_webhook":
            encoded = quote(args["url"], safe="-_.!~*'()")  # encodeURIComponent
            return await self.request("DELETE", f"/api/v1/workspace/{ws}/webhooks/{encoded}")
        if name == "list_link_webhooks":
            return await self.request("GET", f"/api/v1/link/{args['link_id']}/webhooks")
        if name == "subscribe_link_webhook":
            return await self.request(
                "POST", f"/api/v1/link/{args['link_id']}/webhooks", {"url": args["url"]}
            )
        if name == "unsubscribe_link_webhook":
            encoded = quote(args["url"], safe="-_.!~*'()")
            return await self.request(
                "DELETE", f"/api/v1/link/{args['link_id']}/webhooks/{encoded}"
            )
        raise AssertionError(f"unknown tool {name}")


@pytest.fixture
async def mcp(linkly_server: Service, pool: asyncpg.Pool[Any]) -> AsyncIterator[McpClient]:
    ws: Workspace = await plan_workspace(pool, "enterprise")  # webhooks need the plan
    async with httpx.AsyncClient(base_url=linkly_server.url, timeout=30) as http:
        yield McpClient(http, ws.key, str(ws.id))


async def test_every_tool_of_linklys_own_client(mcp: McpClient, pool: asyncpg.Pool[Any]) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    created = await mcp.tool("create_link", {
        "url": "https://mcp.example/landing", "name": "MCP launch", "note": "from the client",
        "slug": "/mcp-launch", "enabled": True, "utm_source": "mcp", "utm_medium": "chat",
        "og_title": "Launch", "fb_pixel_id": "1234567890", "ga4_tag_id": "G-ABC123",
        "gtm_id": "GTM-ABC123", "cloaking": False, "forward_params": True, "block_bots": True,
        "hide_referrer": False, "expiry_datetime": tomorrow,
        "expiry_destination": "https://mcp.example/ended",
    })  # fmt: skip
    link_id = created["id"]
    assert created["slug"] == "/mcp-launch" and created["name"] == "MCP launch"
    assert created["workspace_id"] == int(mcp.ws) and created["forward_params"] is True

    updated = await mcp.tool("update_link", {"link_id": link_id, "name": "MCP launch v2",
                                             "url": "https://mcp.example/v2"})  # fmt: skip
    assert (updated["id"], updated["name"], updated["url"]) == (
        link_id, "MCP launch v2", "https://mcp.example/v2",
    )  # fmt: skip
    assert (await mcp.tool("get_link", {"link_id": link_id}))["name"] == "MCP launch v2"
    listed = await mcp.tool("list_links", {})
    assert [x["id"] for x in listed] == [link_id]
    assert [x["id"] for x in await mcp.tool("search_links", {"query": "v2"})] == [link_id]
    assert await mcp.tool("search_links", {"query": "nothing-like-it"}) == []

    # Statistics: every tool answers JSON for a link with and without clicks.
    assert await mcp.tool("get_clicks", {"link_id": link_id}) == []
    series = await mcp.tool("get_analytics", {"link_id": link_id, "frequency": "hour",
                                              "unique": True, "bots": "exclude"})  # fmt: skip
    assert series["total"] == 0 and series["frequency"] == "hour"
    for counter in ("country", "platform", "browser_name", "referer", "isp", "link_id",
                    "destination", "bot_name"):  # fmt: skip
        counted = await mcp.tool("get_analytics_by", {"counter": counter, "link_id": link_id,
                                                      "unique": True})  # fmt: skip
        assert counted["counter"] == counter and counted["results"] == []
    assert await mcp.tool("export_clicks", {"link_id": link_id, "bots": "only"}) == []

    domain = await mcp.tool("create_domain", {"name": "mcp.links.example"})
    assert domain["name"] == "mcp.links.example"
    assert [d["id"] for d in (await mcp.tool("list_domains", {}))["domains"]] == [domain["id"]]
    assert (await mcp.tool("delete_domain", {"domain_id": domain["id"]}))["deleted"] is True
    assert (await mcp.tool("list_domains", {}))["domains"] == []

    hook = await mcp.tool("subscribe_webhook", {"url": HOOK})
    assert hook["url"] == HOOK.replace(" ", "%20") or hook["url"] == HOOK
    assert [h["id"] for h in await mcp.tool("list_webhooks", {})] == [hook["id"]]
    await mcp.tool("unsubscribe_webhook", {"url": hook["url"]})
    assert await mcp.tool("list_webhooks", {}) == []
    on_link = await mcp.tool("subscribe_link_webhook", {"link_id": link_id, "url": HOOK})
    assert [h["id"] for h in await mcp.tool("list_link_webhooks", {"link_id": link_id})] == [
        on_link["id"]
    ]
    await mcp.tool("unsubscribe_link_webhook", {"link_id": link_id, "url": on_link["url"]})
    assert await mcp.tool("list_link_webhooks", {"link_id": link_id}) == []
    remaining = await pool.fetchval("SELECT count(*) FROM webhooks WHERE workspace_id = $1",
                                    int(mcp.ws))  # fmt: skip
    assert remaining == 0  # unsubscribed for real, not just reported

    deleted = await mcp.tool("delete_link", {"link_id": link_id})
    assert deleted["deleted"] is True
    assert await mcp.tool("list_links", {}) == []
