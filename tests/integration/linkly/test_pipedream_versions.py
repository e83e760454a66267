"""Pipedream's Linkly integration (PipedreamHQ/pipedream, components/linkly/), every version
of its files replayed
against kurz exactly as its components send their requests and read the answers.

linkly.app.mjs sends every request through @pipedream/platform's axios to
`https://app.linklyhq.com/api/v1<path>`: the key travels only as `api_key` in the query
string (after the component's own params, axios's encoding), the workspace id is the
connected account's `workspace_id` (a string); a body is a JSON object; the headers are
axios's own (Accept, and Content-Type: application/json with a body). axios answers the
parsed body and throws on a status that is not 2xx. Its `paginate` asks page=1, 2, ... with
page_size=1000 (common/constants.mjs, DEFAULT_LIMIT) and stops at the first page shorter
than that; its option loaders: `linkId` (list_links?page=<n + 1>, no page_size: value
`id`, label `url`) and `domain` (GET /workspace/{ws}/domains, each domain's `name`).

Replayed, each as its newest version does it (and, where an earlier version of the file
sent something else kurz must take too, that as well):
- actions/create-link/create-link.mjs: POST /link {url, workspace_id, name, domain, slug}.
- actions/get-link/get-link.mjs: GET /link/{id} (earlier: with ?workspace_id=).
- actions/update-link/update-link.mjs: POST /link {workspace_id, url, name, domain, slug,
  id}, only the props set; earlier: the slug as `full_url` and the domain as `domain_id`.
- actions/delete-link/delete-link.mjs: DELETE /workspace/{ws}/links/{id}.
- actions/list-links/list-links.mjs: paginate list_links (with `search` when set) up to
  maxResults (100).
- actions/list-domains/list-domains.mjs: GET /workspace/{ws}/domains, reads `domains`.
- actions/list-workspaces/list-workspaces.mjs: GET /workspaces, a bare array.
- actions/list-link-id-options/list-link-id-options.mjs: one page of the linkId loader.
- sources/new-link-created/new-link-created.mjs: paginate list_links with
  sort_by=inserted_at&sort_dir=desc down to the last id seen (the first run only notes
  the newest id), emitting oldest first, each with ts from `inserted_at`; earlier: every
  page, in the default order, emitting the ids not seen before.
- sources/new-link-clicked/new-link-clicked.mjs: (Instant) on activation POST
  /workspace/{ws}/webhooks {url: <its endpoint>}, on each delivery reads `link.id` and
  `timestamp` (its dedupe id is `<link.id>-<timestamp>`), on deactivation DELETE
  /workspace/{ws}/webhooks/<encodeURIComponent(endpoint)> (earlier: the id the
  subscription answered); earlier still, a poll of every page of list_links comparing
  each link's `clicks_total` with the last poll's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz_webhooks.app import Worker

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.webhooks.conftest import (  # noqa: F401  (_retire_pending: autouse)
    Link,
    Receiver,
    _retire_pending,
    click,
    worker_settings,
    xadd,
)

DEFAULT_LIMIT = 1000  # common/constants.mjs


class Refused(Exception):
    """What @pipedream/platform's axios throws for a status that is not 2xx."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"{response.status_code} {response.text}")
        self.status = response.status_code


def _axios_encode(text: str) -> str:
    """axios's buildURL encoding: encodeURIComponent, then : $ , [ ] kept and space as +."""
    encoded = quote(text, safe="-_.!~*'()")
    for escaped, plain in (("%3A", ":"), ("%24", "$"), ("%2C", ","), ("%20", "+"),
                           ("%5B", "["), ("%5D", "]")):  # fmt: skip
        encoded = encoded.replace(escaped, plain)
    return encoded


def _axios_query(params: dict[str, Any]) -> str:
    """axios's params: null and undefined left out, booleans and numbers as JS prints them."""
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        pairs.append(f"{_axios_encode(key)}={_axios_encode(text)}")
    return "&".join(pairs)


def _js_time(text: str) -> float:
    """`new Date(text).getTime()` of an ISO 8601 time; one without an offset would be
    read as the runner's local time, so kurz must send its offset."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{text!r} has no offset"
    return parsed.timestamp() * 1000


class LinklyApp:
    """linkly.app.mjs's methods, in Python: nothing more, nothing less."""

    def __init__(self, http: httpx.AsyncClient, api_key: str, workspace_id: str) -> None:
        self.http, self.api_key, self.ws = http, api_key, workspace_id
        self.sent: list[str] = []

    def workspace_id(self) -> str:
        return self.ws  # this.$auth.workspace_id: the account's field, a string

    async def _make_request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:  # fmt: skip
        # _authParams: {...params, api_key}
        url = f"/api/v1{path}?{_axios_query({**(params or {}), 'api_key': self.api_key})}"
        headers = {"Accept": "application/json, text/plain, */*"}
        content = None
        if data is not None:
            headers["Content-Type"] = "application/json"
            content = json.dumps(data)
        # One step at a time, each a round trip to Linkly: inside its 20 requests a second.
        await asyncio.sleep(0.06)
        self.sent.append(f"{method} {url}")
        response = await self.http.request(method, url, headers=headers, content=content)
        if not response.is_success:
            raise Refused(response)
        return response.json()

    async def get_link(self, link_id: Any, params: dict[str, Any] | None = None) -> Any:
        return await self._make_request("GET", f"/link/{link_id}", params=params)

    async def list_links(self, params: dict[str, Any] | None = None) -> Any:
        return await self._make_request(
            "GET", f"/workspace/{self.workspace_id()}/list_links", params=params
        )

    async def create_link(self, data: dict[str, Any]) -> Any:
        return await self._make_request("POST", "/link", data=data)

    async def update_link(self, link_id: Any, data: dict[str, Any]) -> Any:
        return await self._make_request("POST", "/link", data={**data, "id": link_id})

    async def delete_link(self, link_id: Any) -> Any:
        return await self._make_request(
            "DELETE", f"/workspace/{self.workspace_id()}/links/{link_id}"
        )

    async def list_domains(self) -> Any:
        return await self._make_request("GET", f"/workspace/{self.workspace_id()}/domains")

    async def list_workspaces(self) -> Any:
        return await self._make_request("GET", "/workspaces")

    async def subscribe_workspace_webhook(self, url: str) -> Any:
        return await self._make_request(
            "POST", f"/workspace/{self.workspace_id()}/webhooks", data={"url": url}
        )

    async def unsubscribe_workspace_webhook(self, url: str) -> Any:
        encoded = quote(url, safe="-_.!~*'()")  # encodeURIComponent
        return await self._make_request(
            "DELETE", f"/workspace/{self.workspace_id()}/webhooks/{encoded}"
        )

    async def paginate(
        self, resource_fn: Callable[..., Awaitable[Any]], resource_type: str,
        params: dict[str, Any] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:  # fmt: skip
        params = {**(params or {}), "page": 1, "page_size": DEFAULT_LIMIT}
        while True:
            response = await resource_fn(dict(params))
            items = response[resource_type]
            for item in items:
                yield item
            total = len(items)
            params["page"] += 1
            if total != params["page_size"]:
                return

    # propDefinitions' option loaders
    async def link_id_options(self, page: int) -> list[dict[str, Any]]:
        links = (await self.list_links({"page": page + 1})).get("links")
        return [{"value": x["id"], "label": x["url"]} for x in links or []]

    async def domain_options(self) -> list[str]:
        domains = (await self.list_domains()).get("domains")
        return [d["name"] for d in domains or []]


def _truthy(**props: Any) -> dict[str, Any]:
    """`...(this.x && {x: this.x})`: a prop is sent only when set (and not empty)."""
    return {k: v for k, v in props.items() if v}


class Actions:
    """actions/*/*.mjs: each `run`, returning what the action returns."""

    def __init__(self, app: LinklyApp) -> None:
        self.app = app

    async def create_link(self, url: str, *, name: str | None = None,
                          domain: str | None = None, slug: str | None = None) -> Any:  # fmt: skip
        data = {"url": url, "workspace_id": self.app.workspace_id(),
                **_truthy(name=name, domain=domain, slug=slug)}  # fmt: skip
        return await self.app.create_link(data)

    async def update_link(self, link_id: Any, *, url: str | None = None, name: str | None = None,
                          domain: str | None = None, slug: str | None = None) -> Any:  # fmt: skip
        data = {"workspace_id": self.app.workspace_id(),
                **_truthy(url=url, name=name, domain=domain, slug=slug)}  # fmt: skip
        return await self.app.update_link(link_id, data)

    async def update_link_by_domain_id(
        self, link_id: Any, *, url: str | None = None, name: str | None = None,
        slug: str | None = None, domain_id: int | None = None,
    ) -> Any:  # fmt: skip
        """The earlier update-link: the slug sent as `full_url`, the domain by id."""
        data = {"workspace_id": self.app.workspace_id(), **_truthy(url=url, name=name),
                **_truthy(full_url=slug, domain_id=domain_id)}  # fmt: skip
        return await self.app.update_link(link_id, data)

    async def get_link(self, link_id: Any) -> Any:
        return await self.app.get_link(link_id)

    async def get_link_in_workspace(self, link_id: Any) -> Any:
        """The earlier get-link: params {workspace_id}."""
        return await self.app.get_link(link_id, {"workspace_id": self.app.workspace_id()})

    async def delete_link(self, link_id: Any) -> Any:
        return await self.app.delete_link(link_id)

    async def list_links(self, search: str | None = None, max_results: int = 100) -> list[Any]:
        links: list[Any] = []
        async for link in self.app.paginate(self.app.list_links, "links", {"search": search}):
            if len(links) >= max_results:
                break
            links.append(link)
        return links

    async def list_domains(self) -> Any:
        return (await self.app.list_domains())["domains"]

    async def list_workspaces(self) -> Any:
        return await self.app.list_workspaces()

    async def list_link_id_options(self, page: int = 0) -> list[dict[str, Any]]:
        return await self.app.link_id_options(page)


Emitted = list[tuple[dict[str, Any], dict[str, Any]]]


async def new_link_created(app: LinklyApp, db: dict[str, Any]) -> Emitted:
    """sources/new-link-created: one timer run; `db` is its $.service.db."""
    last_seen = db.get("lastSeenId")
    first_run = last_seen is None
    highest = last_seen or 0
    new_links = []
    params = {"sort_by": "inserted_at", "sort_dir": "desc"}
    async for link in app.paginate(app.list_links, "links", params):
        if not first_run and link["id"] <= last_seen:
            break
        highest = max(highest, link["id"])
        new_links.append(link)
        if first_run:
            break
    emitted: Emitted = []
    if not first_run:
        for link in reversed(new_links):
            meta = {"id": str(link["id"]), "summary": f"New link {link['id']}: {link['url']}",
                    "ts": _js_time(link["inserted_at"])}  # fmt: skip
            emitted.append((link, meta))
    if highest > (last_seen or 0):
        db["lastSeenId"] = highest
    elif first_run:
        db["lastSeenId"] = 0
    return emitted


async def new_link_created_by_seen_ids(app: LinklyApp, db: dict[str, Any]) -> Emitted:
    """The earlier new-link-created: every page in the default order; emits the ids it
    has not seen (none on the first run); keeps the first 5000 ids."""
    seen = set(db.get("seenIds", []))
    first_run = not seen
    all_ids, emitted = [], []
    async for link in app.paginate(app.list_links, "links"):
        all_ids.append(link["id"])
        if link["id"] in seen or first_run:
            continue
        emitted.append((link, {"id": str(link["id"]), "ts": _js_time(link["inserted_at"])}))
    db["seenIds"] = all_ids[:5000]
    return emitted


async def new_link_clicked_by_polling(app: LinklyApp, db: dict[str, Any]) -> Emitted:
    """The earlier new-link-clicked: every page of list_links; a link whose clicks_total
    grew since the last poll is emitted with the difference."""
    old = db.get("clicks", {})
    emitted: Emitted = []
    async for item in app.paginate(app.list_links, "links"):
        total = item["clicks_total"]
        assert isinstance(total, int)  # compared with `>` and subtracted
        key = str(item["id"])  # a JS object's keys are strings
        if not old.get(key) or total > old[key]:
            difference = total if not old.get(key) else total - old[key]
            if difference > 0:
                emitted.append((item, {"summary": f"Link {item['id']} Clicked {difference}"}))
            old[key] = total
    db["clicks"] = old
    return emitted


def new_link_clicked_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """sources/new-link-clicked (Instant): `run(event)` for one delivery: the meta it
    emits with, or None when the body has no link id."""
    if not (body.get("link") or {}).get("id"):
        return None
    ts = _js_time(body["timestamp"]) if body.get("timestamp") else time.time() * 1000
    raw_id = f"{body['link']['id']}-{body.get('timestamp') or ts}"
    dedupe = raw_id if len(raw_id) <= 64 else hashlib.sha256(raw_id.encode()).hexdigest()[:64]
    return {"id": dedupe, "summary": f"Link {body['link']['id']} clicked", "ts": ts}


@pytest.fixture
def app(http: httpx.AsyncClient, workspace: Workspace) -> LinklyApp:
    return LinklyApp(http, workspace.key, str(workspace.id))


async def _verified_domain(app: LinklyApp, pool: asyncpg.Pool[Any], name: str) -> dict[str, Any]:
    """A custom domain of the workspace, added as Linkly's reference adds one; verified
    here, since no DNS answers in tests."""
    added = await app.http.post(
        f"/api/v1/workspace/{app.ws}/domains", params={"api_key": app.api_key},
        json={"name": name},
    )  # fmt: skip
    assert added.status_code == 200, added.text
    domain: dict[str, Any] = added.json()
    await pool.execute("UPDATE domains SET verified = true WHERE id = $1", domain["id"])
    return domain


async def test_every_action(app: LinklyApp, workspace: Workspace, pool: asyncpg.Pool[Any]) -> None:
    actions = Actions(app)
    # list-workspaces: a bare array; the account's workspace id is one of its ids.
    workspaces = await actions.list_workspaces()
    assert [w["id"] for w in workspaces] == [workspace.id] and workspaces[0]["name"]
    # list-domains and the domain option loader: `domains`, each by its `name`.
    assert await actions.list_domains() == []
    await _verified_domain(app, pool, "go.pipedream.example")
    assert [d["name"] for d in await actions.list_domains()] == ["go.pipedream.example"]
    [domain] = await app.domain_options()
    assert domain == "go.pipedream.example"

    # create-link: on the default domain, then with a name, the chosen domain and a slug.
    plain = await actions.create_link("https://pd.example/plain")
    assert isinstance(plain["id"], int) and plain["url"] == "https://pd.example/plain"
    assert plain["domain"] is None and plain["full_url"].startswith(f"http://{DEFAULT_DOMAIN}/")
    custom = await actions.create_link("https://pd.example/spring", name="Spring",
                                       domain=domain, slug="spring-sale")  # fmt: skip
    assert (custom["name"], custom["domain"], custom["slug"]) == (
        "Spring", "go.pipedream.example", "/spring-sale",
    )  # fmt: skip
    assert custom["full_url"].endswith("://go.pipedream.example/spring-sale")
    on_default = await actions.create_link("https://pd.example/own", slug="pd-own")
    assert on_default["slug"] == "/pd-own" and on_default["domain"] is None

    # The linkId option loader (and list-link-id-options): page 0 is list_links' page 1.
    options = await actions.list_link_id_options()
    made = [on_default, custom, plain]  # newest first, as list_links answers by default
    assert options == [{"value": x["id"], "label": x["url"]} for x in made]
    assert await actions.list_link_id_options(page=1) == []

    # get-link, and the earlier get-link with ?workspace_id=.
    assert await actions.get_link(custom["id"]) == custom
    assert await actions.get_link_in_workspace(str(custom["id"])) == custom

    # update-link: each prop set is sent, the others are not and stay as they are.
    moved = await actions.update_link(plain["id"], url="https://pd.example/moved",
                                      name="Moved", domain=domain, slug="summer")  # fmt: skip
    assert (moved["id"], moved["url"], moved["name"]) == (
        plain["id"], "https://pd.example/moved", "Moved",
    )  # fmt: skip
    assert (moved["domain"], moved["slug"]) == ("go.pipedream.example", "/summer")
    assert moved["full_url"].endswith("://go.pipedream.example/summer")
    renamed = await actions.update_link(plain["id"], name="Renamed")
    assert (renamed["name"], renamed["slug"], renamed["url"]) == (
        "Renamed", "/summer", "https://pd.example/moved",
    )  # fmt: skip
    # A link id typed into the prop rather than picked: a string.
    reslugged = await actions.update_link(str(plain["id"]), slug="autumn")
    assert (reslugged["domain"], reslugged["slug"]) == ("go.pipedream.example", "/autumn")
    assert await actions.get_link(plain["id"]) == reslugged
    # The earlier update-link: the slug as full_url, the domain by its id.
    [listed_domain] = await actions.list_domains()
    by_id = await actions.update_link_by_domain_id(on_default["id"], slug="winter",
                                                   domain_id=listed_domain["id"])  # fmt: skip
    assert (by_id["domain"], by_id["slug"]) == ("go.pipedream.example", "/winter")

    # list-links: every page, its links as list_links shows them.
    listed = await actions.list_links()
    assert [x["id"] for x in listed] == [x["id"] for x in made]
    assert all(isinstance(x["clicks_total"], int) and x["inserted_at"] for x in listed)
    assert [x["id"] for x in await actions.list_links(search="SPRING")] == [custom["id"]]
    assert len(await actions.list_links(max_results=2)) == 2

    # delete-link; then get-link refuses it and list-links leaves it out.
    deleted = await actions.delete_link(custom["id"])
    assert deleted["id"] == custom["id"] and deleted["deleted"] is True
    with pytest.raises(Refused) as refused:
        await actions.get_link(custom["id"])
    assert refused.value.status == 404
    assert custom["id"] not in [x["id"] for x in await actions.list_links()]


async def _bulk(app: LinklyApp, urls: list[str]) -> list[int]:
    """Links made in one request each thousand (the fixture's way to make many)."""
    ids: list[int] = []
    for start in range(0, len(urls), DEFAULT_LIMIT):
        made = await app.http.post(
            f"/api/v1/workspace/{app.ws}/links", params={"api_key": app.api_key},
            json=[{"url": u} for u in urls[start : start + DEFAULT_LIMIT]],
        )  # fmt: skip
        assert made.status_code == 200, made.text
        ids += [x["id"] for x in made.json()]
    return ids


async def test_new_link_created_source(app: LinklyApp) -> None:
    actions = Actions(app)
    db: dict[str, Any] = {}
    assert await new_link_created(app, db) == [] and db == {"lastSeenId": 0}
    old = [(await actions.create_link(f"https://pd.example/old/{n}"))["id"] for n in range(2)]
    db = {}  # a source deployed on a workspace with links: the first run notes the newest
    assert await new_link_created(app, db) == [] and db == {"lastSeenId": old[-1]}
    new = [(await actions.create_link(f"https://pd.example/new/{n}"))["id"] for n in range(3)]
    emitted = await new_link_created(app, db)
    assert [link["id"] for link, _ in emitted] == new  # oldest first
    assert [meta["id"] for _, meta in emitted] == [str(i) for i in new]
    assert all(meta["ts"] > 0 for _, meta in emitted)
    assert db == {"lastSeenId": new[-1]}
    assert await new_link_created(app, db) == []

    # More new links than a page holds: it pages on (page_size=1000) to the last seen.
    app.sent.clear()
    many = await _bulk(app, [f"https://pd.example/many/{n}" for n in range(DEFAULT_LIMIT + 1)])
    emitted = await new_link_created(app, db)
    assert [link["id"] for link, _ in emitted] == many
    assert len([s for s in app.sent if "/list_links?" in s]) == 2  # a full page, then the rest

    # The earlier version: ids not seen before, over every page.
    seen: dict[str, Any] = {}
    assert await new_link_created_by_seen_ids(app, seen) == []
    assert len(seen["seenIds"]) == len(old) + len(new) + len(many)
    later = (await actions.create_link("https://pd.example/later"))["id"]
    assert [link["id"] for link, _ in await new_link_created_by_seen_ids(app, seen)] == [later]


async def test_new_link_clicked_source(
    app: LinklyApp, workspace: Workspace, pool: asyncpg.Pool[Any], database_url: str,
    redis_url: str, redis: aioredis.Redis,
) -> None:  # fmt: skip
    actions = Actions(app)
    link = await actions.create_link("https://pd.example/clicked")
    other = await actions.create_link("https://pd.example/other")
    endpoint = await Receiver().start()  # the source's $.interface.http endpoint
    worker = Worker(worker_settings(database_url, redis_url))
    await worker.start(burst=True)
    try:
        # activate: the workspace webhook for its endpoint.
        await app.subscribe_workspace_webhook(endpoint.url)
        at = 1_790_000_000.1234
        clicked = Link(link["id"], workspace.id, DEFAULT_DOMAIN, link["slug"][1:], None)
        elsewhere = Link(other["id"], workspace.id, DEFAULT_DOMAIN, other["slug"][1:], None)
        # Two clicks on one link within the same millisecond, and one on another link.
        await xadd(redis, [click(clicked, at=at), click(clicked, at=at + 0.0004),
                           click(elsewhere, at=at + 1)])  # fmt: skip
        await worker.burst()
        metas = [new_link_clicked_event(json.loads(got.body)) for got in endpoint.received]
        assert all(meta is not None for meta in metas)
        # Pipedream keeps one event per dedupe id: every click must have its own.
        ids = {meta["id"] for meta in metas if meta}
        assert len(endpoint.received) == 3 and len(ids) == 3
        assert sorted(meta["summary"] for meta in metas if meta) == sorted(
            [f"Link {link['id']} clicked"] * 2 + [f"Link {other['id']} clicked"]
        )
        # deactivate: by the endpoint's URL, encodeURIComponent-ed into the path.
        await app.unsubscribe_workspace_webhook(endpoint.url)
        # The earlier version kept the id the subscription answered and sent that.
        hook = await app.subscribe_workspace_webhook(endpoint.url)
        await app.unsubscribe_workspace_webhook(str(hook["id"]))
        remaining = "SELECT count(*) FROM webhooks WHERE workspace_id = $1"
        assert await pool.fetchval(remaining, workspace.id) == 0
        await xadd(redis, [click(clicked, at=at + 2)])
        await worker.burst()
        assert len(endpoint.received) == 3  # unsubscribed for real
    finally:
        await worker.close()
        await endpoint.stop()

    # The earlier, polling version: clicks_total compared with the last poll's.
    db: dict[str, Any] = {}
    daily = "INSERT INTO link_daily (link_id, day, clicks, visitors) VALUES ($1, $2, $3, 1)"
    await pool.execute(daily, link["id"], datetime(2026, 1, 2).date(), 4)
    emitted = await new_link_clicked_by_polling(app, db)
    assert [(x["id"], m["summary"]) for x, m in emitted] == [
        (link["id"], f"Link {link['id']} Clicked 4")
    ]
    assert await new_link_clicked_by_polling(app, db) == []
    await pool.execute(daily, link["id"], datetime(2026, 1, 3).date(), 2)
    await pool.execute(daily, other["id"], datetime(2026, 1, 3).date(), 1)
    emitted = await new_link_clicked_by_polling(app, db)
    assert sorted(m["summary"] for _, m in emitted) == sorted(
        [f"Link {link['id']} Clicked 2", f"Link {other['id']} Clicked 1"]
    )
