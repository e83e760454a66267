"""POST /api/v1/links/bulk: all-or-nothing by default, per item on request, a limit
refused whole, and every written link at the edge."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz import keys
from kurz.models import decode_link

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.native.conftest import BULK_MAX, live_links
from tests.support.streams import as_bytes, redis_value


def good(i: int) -> dict[str, Any]:
    return {"url": f"https://bulk.example/{i}", "title": f"bulk {i}"}


async def test_atomic_bulk_writes_all_and_reaches_the_edge(
    api: httpx.AsyncClient, workspace: Workspace, redis: aioredis.Redis, pool: asyncpg.Pool[Any]
) -> None:
    r = await api.post("/api/v1/links/bulk", json={"links": [good(i) for i in range(BULK_MAX)]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["errors"] == [] and len(body["links"]) == BULK_MAX
    assert [link["title"] for link in body["links"]] == [f"bulk {i}" for i in range(BULK_MAX)]
    assert len({link["slug"] for link in body["links"]}) == BULK_MAX
    assert await live_links(pool, workspace.id) == BULK_MAX
    raws = await redis.mget([keys.link(DEFAULT_DOMAIN, link["slug"]) for link in body["links"]])
    assert [decode_link(as_bytes(raw)).url for raw in raws] == [
        f"https://bulk.example/{i}" for i in range(BULK_MAX)
    ]


async def test_atomic_bulk_with_a_bad_item_writes_nothing(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    items = [good(0), {"url": "javascript:alert(1)"}, good(2), {"url": "x", "tagIds": ["x"]}]
    r = await api.post("/api/v1/links/bulk", json={"links": items})
    assert r.status_code == 422, r.text
    body = r.json()
    assert "nothing was written" in body["error"]
    assert [(e["index"], e["status"], e.get("field")) for e in body["errors"]] == [
        (1, 422, "url"),
        (3, 422, "tagIds"),
    ]
    assert await live_links(pool, workspace.id) == 0


async def test_per_item_bulk_writes_the_good_and_reports_the_bad(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    slug = f"dup-{workspace.id}"
    items = [
        good(0) | {"customSlug": slug},
        good(1) | {"customSlug": slug},
        {"url": "ftp://nope.example"},
        good(3),
    ]
    r = await api.post("/api/v1/links/bulk", json={"links": items, "atomic": False})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [link["title"] for link in body["links"]] == ["bulk 0", "bulk 3"]
    assert [(e["index"], e["status"]) for e in body["errors"]] == [(1, 409), (2, 422)]
    assert await live_links(pool, workspace.id) == 2


async def test_bulk_mixes_creates_and_updates(
    api: httpx.AsyncClient, workspace: Workspace, redis: aioredis.Redis
) -> None:
    first = (await api.post("/api/v1/links", json=good(0))).json()["link"]
    items = [{"id": first["id"], "title": "renamed", "url": "https://bulk.example/new"}, good(1)]
    r = await api.post("/api/v1/links/bulk", json={"links": items})
    assert r.status_code == 201, r.text
    updated, created = r.json()["links"]
    assert updated["id"] == first["id"] and updated["title"] == "renamed"
    assert updated["slug"] == first["slug"] and created["title"] == "bulk 1"
    edge = decode_link(await redis_value(redis, keys.link(DEFAULT_DOMAIN, first["slug"])))
    assert edge.url == "https://bulk.example/new" and edge.og_title is None


async def test_bulk_updates_of_unknown_or_foreign_links_are_404(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    r = await api.post("/api/v1/links/bulk", json={"links": [{"id": 99999999, "title": "x"}]})
    assert r.status_code == 404 and r.json()["errors"][0]["index"] == 0


async def test_over_the_limit_is_refused_whole(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    items = [good(i) for i in range(BULK_MAX + 1)]
    for atomic in (True, False):
        r = await api.post("/api/v1/links/bulk", json={"links": items, "atomic": atomic})
        assert r.status_code == 422 and str(BULK_MAX) in r.json()["error"]
    assert await live_links(pool, workspace.id) == 0


async def test_bulk_bad_shapes_are_400(api: httpx.AsyncClient) -> None:
    bodies: list[dict[str, Any]] = [{"links": "nope"}, {"items": []}, {"links": [{"url": 5}]}]
    for body in bodies:
        r = await api.post("/api/v1/links/bulk", json=body)
        assert r.status_code == 400 and "error" in r.json()
    empty = await api.post("/api/v1/links/bulk", json={"links": []})
    assert empty.status_code == 200 and empty.json() == {
        "created": 0,
        "activeCount": 0,
        "pendingCount": 0,
        "links": [],
        "errors": [],
        "failed": [],
    }
