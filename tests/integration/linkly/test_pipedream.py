"""Pipedream's Linkly integration (PipedreamHQ/pipedream, components/linkly/) replayed
against kurz exactly as it sends its requests and reads the answers.

Its app (`linkly.app.mjs`) sends every request through axios with the key as the query
parameter `api_key` (nothing in the headers but axios's JSON content type), and the
workspace from the connected account, a string. Replayed here:
- `actions/list-workspaces`: GET /workspaces, an array (the summary reads its length).
- `actions/list-domains`: GET /domains, an array; the `domainId` options read each
  domain's `id` (an integer) and `full_url`.
- `actions/create-link`: POST /link with `url`, `workspace_id`, and when given `name`,
  `full_url` (the slug) and `domain_id`.
- `actions/update-link`: POST /link with `id` and only the given fields of those.
- `actions/get-link`: GET /link/{id}.
- `actions/delete-link`: DELETE /workspace/{ws}/links/{id}.
- `actions/list-links` and the app's `paginate`: GET /workspace/{ws}/list_links with
  `page` from 1 and `page_size` 1000 (and `search`), reading `links` until a page is short.
- `actions/list-link-id-options` (the `linkId` options): list_links with `page` only,
  each link's `id` and `url`.
- `sources/new-link-created`: the pages sorted by `inserted_at` descending, link ids
  compared as numbers, `inserted_at` read as a date.
- `sources/new-link-clicked`: every link's `clicks_total`, compared between polls.
- The app's workspace webhook methods: POST /workspace/{ws}/webhooks {url}, and DELETE
  of the URL-encoded URL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx

from tests.conftest import Workspace

PAGE_SIZE = 1000  # common/constants.mjs DEFAULT_LIMIT
HOOK = "https://93.184.215.14/pipedream?source=linkly"  # a public address: no DNS


class Pipedream:
    """What linkly.app.mjs's _makeRequest does: axios, the key added to the query."""

    def __init__(self, http: httpx.AsyncClient, ws: Workspace) -> None:
        self.http, self.key, self.ws = http, ws.key, str(ws.id)

    async def request(
        self, method: str, path: str, params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:  # fmt: skip
        query = {**(params or {}), "api_key": self.key}
        answer = await self.http.request(method, f"/api/v1{path}", params=query, json=data)
        # axios throws on any status outside 2xx: the action fails.
        assert answer.is_success, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json()

    def list_links(self, params: dict[str, Any]) -> Any:
        return self.request("GET", f"/workspace/{self.ws}/list_links", params)

    async def paginate(self, params: dict[str, Any] | None = None) -> list[Any]:
        """The app's paginate: page from 1, page_size 1000, until a page is short."""
        query, items = {**(params or {}), "page": 1, "page_size": PAGE_SIZE}, []
        while True:
            page = (await self.list_links(query))["links"]
            items.extend(page)
            query["page"] += 1
            if len(page) != PAGE_SIZE:
                return items


async def test_every_action_and_source_works_as_pipedream_reads_it(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    app = Pipedream(http, workspace)

    workspaces = await app.request("GET", "/workspaces")
    assert isinstance(workspaces, list) and [w["id"] for w in workspaces] == [workspace.id]

    added = await http.post(
        f"/api/v1/workspace/{workspace.id}/domains", params={"api_key": workspace.key},
        json={"name": f"go{workspace.id}.example"},
    )  # fmt: skip
    assert added.status_code in (200, 201), added.text
    # Its TXT record found (no DNS here): what POST /api/v1/domains/{id}/verify records.
    await pool.execute("UPDATE domains SET verified = true WHERE id = $1", added.json()["id"])
    domains = await app.request("GET", "/domains")
    assert isinstance(domains, list)
    options = [(d["id"], d["full_url"]) for d in domains]  # the domainId options
    assert options == [(added.json()["id"], f"http://go{workspace.id}.example")]
    domain_id = options[0][0]
    assert isinstance(domain_id, int)

    # The new-link-created source's first poll: only the watermark.
    first = await app.paginate({"sort_by": "inserted_at", "sort_dir": "desc"})
    watermark = max((link["id"] for link in first), default=0)

    created = await app.request("POST", "/link", data={
        "url": "https://example.com/pd", "workspace_id": app.ws, "name": "From Pipedream",
        "full_url": "pd-sale", "domain_id": domain_id,
    })  # fmt: skip
    plain = await app.request("POST", "/link", data={
        "url": "https://example.com/plain", "workspace_id": app.ws,
    })  # fmt: skip
    assert (created["name"], created["slug"]) == ("From Pipedream", "/pd-sale")
    assert created["full_url"] == f"http://go{workspace.id}.example/pd-sale"

    updated = await app.request("POST", "/link", data={
        "workspace_id": app.ws, "url": "https://example.com/pd-2", "full_url": "pd-later",
        "id": created["id"],
    })  # fmt: skip
    assert (updated["id"], updated["url"], updated["slug"]) == (
        created["id"],
        "https://example.com/pd-2",
        "/pd-later",
    )
    assert updated["name"] == "From Pipedream"  # not sent: kept

    got = await app.request("GET", f"/link/{created['id']}")
    assert got["url"] == "https://example.com/pd-2" and got["id"] == created["id"]

    # list-links and the linkId options.
    listed = await app.paginate()
    assert {link["id"] for link in listed} >= {created["id"], plain["id"]}
    searched = await app.paginate({"search": "pd-2"})
    assert [link["id"] for link in searched] == [created["id"]]
    page = (await app.list_links({"page": 0 + 1}))["links"]
    assert {(link["id"], link["url"]) for link in page} >= {
        (created["id"], "https://example.com/pd-2"), (plain["id"], "https://example.com/plain")
    }  # fmt: skip

    # The new-link-created source's next poll: newest first, ids as numbers.
    newer = await app.paginate({"sort_by": "inserted_at", "sort_dir": "desc"})
    fresh = [link for link in newer if link["id"] > watermark]
    assert [link["id"] for link in fresh] == [plain["id"], created["id"]]
    for link in fresh:
        assert datetime.fromisoformat(link["inserted_at"]).tzinfo is not None

    # The new-link-clicked source: clicks_total grows between polls.
    before = {link["id"]: link["clicks_total"] for link in await app.paginate()}
    await pool.execute(  # what the aggregator's rollup holds after three counted clicks
        "INSERT INTO link_daily (link_id, day, clicks, visitors) VALUES ($1, $2, 3, 2)",
        created["id"], datetime.now(UTC).date(),
    )  # fmt: skip
    after = {link["id"]: link["clicks_total"] for link in await app.paginate()}
    assert after[created["id"]] - before[created["id"]] == 3
    assert after[plain["id"]] == before[plain["id"]]

    # The app's workspace webhook subscription, then its removal by URL.
    await app.request("POST", f"/workspace/{app.ws}/webhooks", data={"url": HOOK})
    await app.request("DELETE", f"/workspace/{app.ws}/webhooks/{quote(HOOK, safe='')}")
    left = await pool.fetchval(
        "SELECT count(*) FROM webhooks WHERE workspace_id = $1 AND url = $2", workspace.id, HOOK
    )
    assert left == 0

    await app.request("DELETE", f"/workspace/{app.ws}/links/{plain['id']}")
    gone = await http.get(f"/api/v1/link/{plain['id']}", params={"api_key": workspace.key})
    assert gone.status_code == 404
