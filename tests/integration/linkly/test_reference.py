"""Linkly's documented operations beyond creating links, each checked against what its
reference and its clients say (the source is in a comment on each test)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.conftest import Workspace, new_workspace
from tests.integration.linkly.conftest import count_links


async def _links(api: httpx.AsyncClient, ws: int, *items: dict[str, Any]) -> list[dict[str, Any]]:
    response = await api.post(f"/api/v1/workspace/{ws}/links", json=list(items))
    assert response.status_code == 200, response.text
    links: list[dict[str, Any]] = response.json()
    return links


async def test_workspaces_lists_the_keys_workspace(
    api: httpx.AsyncClient, workspace: Workspace
) -> None:
    # Linkly API reference v1.3, "GET /workspaces": the key's workspaces and their ids;
    # Pipedream's list-workspaces reads the answer as a bare array.
    response = await api.get("/api/v1/workspaces")
    assert response.status_code == 200, response.text
    assert [w["id"] for w in response.json()] == [workspace.id]
    assert response.json()[0]["name"]


async def test_list_links_pages_searches_and_sorts_with_clicks_total(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    # Linkly API reference v1.3, "list_links": page, page_size, search, sort_by, sort_dir;
    # Pipedream's new-link-clicked source reads each link's clicks_total.
    ws = workspace.id
    made = await _links(
        api, ws,
        {"url": "https://shop.example/a", "name": "Alpha sale"},
        {"url": "https://shop.example/b", "name": "beta launch", "note": "spring"},
        {"url": "https://blog.example/c", "name": "Gamma post"},
    )  # fmt: skip
    await pool.execute(
        "INSERT INTO link_daily (link_id, day, clicks, visitors) VALUES ($1, '2025-01-02', 7, 3)",
        made[2]["id"],
    )
    url = f"/api/v1/workspace/{ws}/list_links"
    first = (await api.get(url, params={"page": 1, "page_size": 2})).json()
    second = (await api.get(url, params={"page": 2, "page_size": 2})).json()
    assert [x["id"] for x in first["links"] + second["links"]] == [m["id"] for m in made][::-1]
    assert first["total"] == 3 and len(second["links"]) == 1
    by_clicks = (await api.get(url, params={"sort_by": "clicks_total"})).json()["links"]
    assert (by_clicks[0]["id"], by_clicks[0]["clicks_total"]) == (made[2]["id"], 7)
    by_name = (await api.get(url, params={"sort_by": "name", "sort_dir": "asc"})).json()
    assert [x["name"] for x in by_name["links"]] == ["Alpha sale", "beta launch", "Gamma post"]
    found = (await api.get(url, params={"search": "SPRING"})).json()
    assert [x["id"] for x in found["links"]] == [made[1]["id"]]
    # Pipedream's new-link-created source: sort_by=inserted_at&sort_dir=desc, reading
    # each link's id, url and inserted_at.
    newest = (await api.get(url, params={"sort_by": "inserted_at", "sort_dir": "desc"})).json()
    assert [x["id"] for x in newest["links"]] == [m["id"] for m in made][::-1]
    assert all(x["inserted_at"] for x in newest["links"])
    bad = await api.get(url, params={"sort_by": "nonsense"})
    assert bad.status_code == 400 and "sort_by" in bad.json()["error"]


async def test_link_by_id_as_pipedream_reads_it(
    api: httpx.AsyncClient, workspace: Workspace
) -> None:
    # Pipedream components/linkly (getLink): GET /link/{id}, besides /get_link/{id}.
    [made] = await _links(api, workspace.id, {"url": "https://pd.example/x"})
    for path in (f"/api/v1/link/{made['id']}", f"/api/v1/get_link/{made['id']}"):
        response = await api.get(path)
        assert response.status_code == 200 and response.json() == made
    assert (await api.get("/api/v1/link/999999999")).status_code == 404


async def test_bulk_delete_by_ids_all_or_nothing(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    # Linkly API reference v1.3: DELETE /workspace/{ws}/links with {"ids": [...]}.
    ws = workspace.id
    made = await _links(api, ws, *({"url": f"https://del.example/{n}"} for n in range(3)))
    ids = [m["id"] for m in made]
    other = await new_workspace(pool)
    theirs = await pool.fetchval(
        "INSERT INTO links (workspace_id, host, slug, url) VALUES ($1, 'kurz.test', 'theirs1x', "
        "'https://x.example') RETURNING id",
        other.id,
    )
    refused = await api.request(
        "DELETE", f"/api/v1/workspace/{ws}/links", json={"ids": [ids[0], theirs]}
    )
    assert refused.status_code == 404 and str(theirs) in refused.json()["error"]
    assert await count_links(pool, ws) == 3  # nothing deleted
    deleted = await api.request("DELETE", f"/api/v1/workspace/{ws}/links", json={"ids": ids[:2]})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {"deleted": 2, "ids": sorted(ids[:2])}
    assert await count_links(pool, ws) == 1
    bodies: list[dict[str, Any]] = [{"ids": []}, {"ids": ["x"]}, {"nope": 1}]
    for body in bodies:
        bad = await api.request("DELETE", f"/api/v1/workspace/{ws}/links", json=body)
        assert bad.status_code in (400, 422), (body, bad.text)
    assert await count_links(pool, ws) == 1


async def test_export_searches(api: httpx.AsyncClient, workspace: Workspace) -> None:
    # Linkly API reference v1.3: GET /workspace/{ws}/links/export?search=<q> searches by
    # name, URL or note; Linkly's MCP client's search_links sends it.
    ws = workspace.id
    made = await _links(
        api, ws, {"url": "https://a.example/", "name": "needle"},
        {"url": "https://b.example/needle"}, {"url": "https://c.example/", "note": "x"},
    )  # fmt: skip
    found = await api.get(f"/api/v1/workspace/{ws}/links/export", params={"search": "NEEDLE"})
    assert sorted(x["id"] for x in found.json()) == sorted(m["id"] for m in made[:2])


async def test_workspace_domains_list_add_delete(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    # Linkly API reference v1.3: GET|POST /workspace/{ws}/domains, DELETE
    # /workspace/{ws}/domains/{id}; the list is {"domains": [{"id", "name", ...}]}. The
    # MCP client's create_domain posts {"name"} with workspace_id and api_key merged in.
    ws = workspace.id
    url = f"/api/v1/workspace/{ws}/domains"
    added = await api.post(url, json={"name": "Links.Example.ORG", "workspace_id": str(ws)})
    assert added.status_code == 200, added.text
    domain = added.json()
    assert domain["name"] == "links.example.org" and domain["verified"] is False
    listed = (await api.get(url)).json()["domains"]
    assert [(d["id"], d["name"]) for d in listed] == [(domain["id"], "links.example.org")]
    assert (await api.post(url, json={"name": "links.example.org"})).status_code == 409
    assert (await api.post(url, json={"name": ""})).status_code in (400, 422)

    # A domain with a live link stays until the link goes.
    await pool.execute("UPDATE domains SET verified = true WHERE id = $1", domain["id"])
    [link] = await _links(api, ws, {"url": "https://x.example/", "domain": "links.example.org"})
    busy = await api.delete(f"{url}/{domain['id']}")
    assert busy.status_code == 409 and "1 link" in busy.json()["error"]
    await api.delete(f"/api/v1/workspace/{ws}/links/{link['id']}")
    gone = await api.delete(f"{url}/{domain['id']}")
    assert gone.status_code == 200 and gone.json()["deleted"] is True
    assert (await api.get(url)).json()["domains"] == []
    assert (await api.delete(f"{url}/{domain['id']}")).status_code == 404


async def test_pipedream_update_honours_full_url_and_domain_id(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    # Pipedream components/linkly, update-link: data {workspace_id, url, name,
    # full_url: <the new slug>, domain_id}. Honoured, or refused; never a 200 that
    # changes nothing.
    ws = workspace.id
    [link] = await _links(api, ws, {"url": "https://pd.example/a", "name": "before"})
    added = await api.post(f"/api/v1/workspace/{ws}/domains", json={"name": "go.pd.example"})
    domain = added.json()
    await pool.execute("UPDATE domains SET verified = true WHERE id = $1", domain["id"])
    update = {"workspace_id": ws, "id": link["id"], "name": "after", "full_url": "spring-sale",
              "domain_id": domain["id"]}  # fmt: skip
    answer = await api.post("/api/v1/link", json=update)
    assert answer.status_code == 200, answer.text
    moved = answer.json()
    assert (moved["name"], moved["slug"], moved["domain"]) == (
        "after", "/spring-sale", "go.pd.example",
    )  # fmt: skip
    assert moved["full_url"].endswith("://go.pd.example/spring-sale")
    # A whole short URL names both.
    again = await api.post("/api/v1/link", json={
        "id": link["id"], "full_url": "https://go.pd.example/summer",
    })  # fmt: skip
    assert again.status_code == 200 and again.json()["slug"] == "/summer"
    # Refused, and nothing changed: an unknown domain id, disagreeing names.
    for bad, status in (
        ({"domain_id": 999_999_999}, 404),
        ({"full_url": "/a", "slug": "/b"}, 422),
        ({"full_url": "https://go.pd.example/x/y"}, 422),
    ):
        refused = await api.post("/api/v1/link", json={"id": link["id"], **bad})
        assert refused.status_code == status, (bad, refused.text)
    current = (await api.get(f"/api/v1/link/{link['id']}")).json()
    assert current["slug"] == "/summer" and current["domain"] == "go.pd.example"


async def test_expiry_clicks_is_the_links_click_limit(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    # Linkly's Link (its OpenAPI document): expiry_clicks, after that many clicks the link
    # expires. It is kurz's click limit, which the edge enforces exactly.
    [made] = await _links(api, workspace.id, {"url": "https://limit.example/", "expiry_clicks": 3})
    assert made["expiry_clicks"] == 3
    stored = await pool.fetchval("SELECT max_clicks FROM links WHERE id = $1", made["id"])
    assert stored == 3
    cleared = await api.post("/api/v1/link", json={"id": made["id"], "expiry_clicks": 0})
    assert cleared.status_code == 200 and cleared.json()["expiry_clicks"] is None
