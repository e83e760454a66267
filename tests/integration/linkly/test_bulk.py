"""POST /api/v1/workspace/{ws}/links: one link or up to 1000, all or nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import msgspec

from tests.conftest import Workspace
from tests.integration.linkly.conftest import count_links

# Linkly's documented wget body, verbatim; the placeholders are swapped as its reader would.
WGET_BODY = """[
    {
        "workspace_id": "WORKSPACE_ID",
        "url": "https://nature.com",
        "name": "Test",
        "id": LINK_ID
    },
    {
        "workspace_id": "WORKSPACE_ID",
        "url": "https://science.com",
        "id": LINK_ID
    }
]"""


async def test_seed_wget_bulk_update_verbatim(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    headers = {"X-API-KEY": workspace.key}
    first = (
        await http.post(
            "/api/v1/link", headers=headers, json={"url": "https://a.example", "name": "one"}
        )
    ).json()
    second = (
        await http.post(
            "/api/v1/link", headers=headers, json={"url": "https://b.example", "name": "two"}
        )
    ).json()
    ids = iter([first["id"], second["id"]])
    body = WGET_BODY.replace("WORKSPACE_ID", str(workspace.id))
    while "LINK_ID" in body:
        body = body.replace("LINK_ID", str(next(ids)), 1)
    response = await http.post(
        f"/api/v1/workspace/{workspace.id}/links?api_key={workspace.key}",
        content=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert [(u["id"], u["url"], u["name"]) for u in updated] == [
        (first["id"], "https://nature.com", "Test"),
        (second["id"], "https://science.com", "two"),
    ]
    assert updated[0]["slug"] == first["slug"]
    assert await count_links(pool, workspace.id) == 2


async def test_mixed_create_and_update_returns_links_in_order(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    existing = (await api.post("/api/v1/link", json={"url": "https://old.example"})).json()
    items = [{"url": f"https://new{i}.example", "name": f"n{i}"} for i in range(3)]
    items.insert(1, {"id": existing["id"], "url": "https://updated.example"})
    response = await api.post(f"/api/v1/workspace/{workspace.id}/links", json=items)
    assert response.status_code == 200, response.text
    links = response.json()
    assert [link["url"] for link in links] == [
        "https://new0.example",
        "https://updated.example",
        "https://new1.example",
        "https://new2.example",
    ]
    assert links[1]["id"] == existing["id"]
    assert await count_links(pool, workspace.id) == 4


async def test_one_object_and_the_link_endpoint_accept_batches(
    api: httpx.AsyncClient, workspace: Workspace
) -> None:
    one = await api.post(
        f"/api/v1/workspace/{workspace.id}/links", json={"url": "https://o.example"}
    )
    assert one.status_code == 200 and one.json()["url"] == "https://o.example"
    many = await api.post(
        "/api/v1/link", json=[{"url": "https://p.example"}, {"url": "https://q.example"}]
    )
    assert many.status_code == 200 and [m["url"] for m in many.json()] == [
        "https://p.example",
        "https://q.example",
    ]


async def test_a_full_batch_of_1000(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    items = [
        {
            "url": f"https://example.com/{i}",
            "rules": [{"what": "country", "url": "https://example.de", "matches": "DE"}],
        }
        for i in range(1000)
    ]
    response = await api.post(f"/api/v1/workspace/{workspace.id}/links", json=items)
    assert response.status_code == 200, response.text[:500]
    assert len({link["id"] for link in response.json()}) == 1000
    assert await count_links(pool, workspace.id) == 1000


async def test_over_the_limit_is_refused_with_nothing_written(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    items = [{"url": f"https://example.com/{i}"} for i in range(1001)]
    response = await api.post(f"/api/v1/workspace/{workspace.id}/links", json=items)
    assert response.status_code == 413
    assert response.json() == {"error": "at most 1000 links per request; this one has 1001"}
    assert await count_links(pool, workspace.id) == 0


async def test_bad_items_are_all_reported_and_nothing_is_written(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    items: list[Any] = [{"url": f"https://ok{i}.example"} for i in range(6)]
    items[2] = {"url": "https://ok.example", "enabled": "sometimes"}
    items[4] = "not an object"
    response = await api.post(f"/api/v1/workspace/{workspace.id}/links", json=items)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "2 links are invalid; nothing was written"
    assert [(e["index"], e.get("field")) for e in body["errors"]] == [(2, "enabled"), (4, None)]
    assert await count_links(pool, workspace.id) == 0


async def test_items_refused_by_the_links_layer_write_nothing(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    existing = (await api.post("/api/v1/link", json={"url": "https://keep.example"})).json()
    items = [
        {"url": "https://fine.example"},
        {"id": existing["id"], "url": "https://changed.example"},
        {"url": "ftp://not-web.example"},
        {"url": "https://dup.example", "slug": "twice"},
        {"url": "https://dup.example", "slug": "twice"},
    ]
    response = await api.post(f"/api/v1/workspace/{workspace.id}/links", json=items)
    assert response.status_code == 422, response.text
    indexes = {e["index"] for e in response.json()["errors"]}
    assert 2 in indexes and indexes & {3, 4} and not indexes & {0, 1}
    assert await count_links(pool, workspace.id) == 1
    kept = (await api.get(f"/api/v1/get_link/{existing['id']}")).json()
    assert kept["url"] == "https://keep.example"


async def test_form_batch_with_rules_and_bodies_that_are_not_links(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    path = f"/api/v1/workspace/{workspace.id}/links"
    form = await api.post(path, data={"url": "https://a.example", "rules": "[]"})
    assert form.status_code == 400 and form.json()["field"] == "rules"
    scalar = await api.post(
        path, content=msgspec.json.encode(42), headers={"Content-Type": "application/json"}
    )
    assert scalar.status_code == 400
    empty = await api.post(path, json=[])
    assert empty.status_code == 200 and empty.json() == []
    assert await count_links(pool, workspace.id) == 0


async def test_a_batch_may_carry_its_key_in_its_items(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    path = f"/api/v1/workspace/{workspace.id}/links"
    item = {"api_key": workspace.key, "workspace_id": str(workspace.id)}
    response = await http.post(
        path, json=[{**item, "url": "https://k1.example"}, {**item, "url": "https://k2.example"}]
    )
    assert response.status_code == 200, response.text
    mixed = await http.post(
        path,
        json=[
            {**item, "url": "https://k3.example"},
            {"api_key": "kurz_other", "url": "https://k4.example"},
        ],
    )
    assert mixed.status_code == 400
    assert await count_links(pool, workspace.id) == 2
