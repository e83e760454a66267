"""POST/GET/PATCH/DELETE /api/v1/links over real HTTP: every documented field, the
defaults, the edge record written before the answer, and tenant isolation."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz import keys
from kurz.models import EdgeLink, decode_link
from kurz.passwords import verify_password

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.streams import as_bytes

SEED_002_BODY: dict[str, Any] = {
    "url": "https://example.com/landing?x=1",
    "domain": DEFAULT_DOMAIN,
    "customSlug": "spring-sale",
    "title": "Spring sale",
    "description": "Everything half price",
    "image": "https://cdn.example.com/og.png",
    "redirectType": "PERMANENT_301",
    "linkType": "URL",
    "cloaked": True,
    "password": "open sesame",
    "expiresAt": "2031-01-02T03:04:05Z",
    "maxClicks": 500,
    "tagIds": [],
    "forwardParameters": True,
    "blockBots": True,
    "utmSource": "newsletter",
    "utmMedium": "email",
    "utmCampaign": "spring",
    "utmTerm": "shoes",
    "utmContent": "hero",
    "metaPixelId": "123456789012345",
    "googleTagId": "G-ABC123",
    "webhookUrls": "https://hooks.example.com/a, https://hooks.example.com/b",
}


async def edge_record(redis: aioredis.Redis, host: str, slug: str) -> EdgeLink | None:
    raw = await redis.get(keys.link(host, slug))
    return None if raw is None else decode_link(as_bytes(raw))


def unique(slug: str, workspace: Workspace) -> str:
    return f"{slug}-{workspace.id}"


async def test_every_seed_002_field_is_accepted_stored_and_returned(
    api: httpx.AsyncClient, workspace: Workspace, redis: aioredis.Redis
) -> None:
    tag = (await api.post("/api/v1/tags", json={"name": "sale"})).json()["tag"]
    body = SEED_002_BODY | {"customSlug": unique("spring", workspace), "tagIds": [tag["id"]]}
    r = await api.post("/api/v1/links", json=body)
    assert r.status_code == 201, r.text
    link = r.json()["link"]
    for field in (
        "domain",
        "title",
        "description",
        "image",
        "redirectType",
        "linkType",
        "cloaked",
        "maxClicks",
        "forwardParameters",
        "blockBots",
        "utmSource",
        "utmMedium",
        "utmCampaign",
        "utmTerm",
        "utmContent",
        "metaPixelId",
        "googleTagId",
    ):
        assert link[field] == body[field], field
    # As Brevr answers: the destination with its UTM parameters appended.
    utm = "utm_source=newsletter&utm_medium=email&utm_campaign=spring&utm_term=shoes"
    assert link["url"] == f"{body['url']}&{utm}&utm_content=hero"
    assert link["slug"] == link["shortCode"] == body["customSlug"]
    assert link["shortUrl"] == f"http://{DEFAULT_DOMAIN}/{body['customSlug']}"
    assert link["expiresAt"] == "2031-01-02T03:04:05Z"
    assert link["tagIds"] == [tag["id"]]
    assert link["webhookUrls"] == "https://hooks.example.com/a,https://hooks.example.com/b"
    assert link["hasPassword"] is True and link["password"] is None
    assert link["clicks"] == link["clickCount"] == 0 and link["enabled"] is link["isActive"] is True
    assert link["tags"] == [{"tag": {"id": tag["id"], "name": "sale", "color": None}}]
    assert link["workspaceId"] == str(workspace.id) and link["createdBy"]["email"] is None

    again = await api.get(f"/api/v1/links/{link['id']}")
    assert again.status_code == 200 and again.json()["link"] == link

    # The edge record is in Redis before the response came back.
    edge = await edge_record(redis, DEFAULT_DOMAIN, body["customSlug"])
    assert edge is not None and edge.id == int(link["id"]) and edge.workspace_id == workspace.id
    assert edge.url == body["url"] and edge.redirect_type == 301 and edge.cloaked
    assert edge.max_clicks == 500 and edge.forward_params and edge.block_bots
    assert edge.password_hash and verify_password(edge.password_hash, "open sesame")
    assert dict(edge.utm)["utm_campaign"] == "spring"
    assert edge.meta_pixel_id == "123456789012345" and edge.ga4_id == "G-ABC123"
    assert edge.expires_at is not None and edge.og_description == "Everything half price"
    assert edge.og_title is None  # the title names the link for its owner: no card title


async def test_defaults_domain_slug_and_types(
    api: httpx.AsyncClient, redis: aioredis.Redis
) -> None:
    r = await api.post("/api/v1/links", json={"url": "https://example.com/"})
    assert r.status_code == 201, r.text
    link = r.json()["link"]
    assert link["domain"] == DEFAULT_DOMAIN
    assert len(link["slug"]) == 7 and link["slug"].isalnum()
    assert link["redirectType"] == "TEMPORARY_302" and link["linkType"] == "URL"
    assert link["cloaked"] is False and link["hasPassword"] is False
    assert link["tagIds"] == [] and link["webhookUrls"] is None
    edge = await edge_record(redis, DEFAULT_DOMAIN, link["slug"])
    assert edge is not None and edge.redirect_type == 302


async def test_idn_destination_and_other_link_types(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/links", json={"url": "https://Bücher.example/straße"})
    assert r.status_code == 201, r.text
    assert r.json()["link"]["url"] == "https://xn--bcher-kva.example/straße"
    for link_type, given, stored in (
        ("MAILTO", "someone@example.com", "mailto:someone@example.com"),
        ("TEL", "tel:+49 30 1234567", "tel:+49 30 1234567"),
        ("SMS", "sms:+15551234567?body=hi", "sms:+15551234567?body=hi"),
    ):
        r = await api.post("/api/v1/links", json={"url": given, "linkType": link_type})
        assert r.status_code == 201, r.text
        assert r.json()["link"]["url"] == stored


async def test_patch_changes_given_fields_clears_nulls_and_moves_the_edge_record(
    api: httpx.AsyncClient, workspace: Workspace, redis: aioredis.Redis, pool: asyncpg.Pool[Any]
) -> None:
    slug = unique("before", workspace)
    created = (
        await api.post(
            "/api/v1/links",
            json={
                "url": "https://example.com/a",
                "customSlug": slug,
                "title": "T",
                "maxClicks": 3,
            },
        )
    ).json()["link"]
    moved = unique("after", workspace)
    r = await api.patch(
        f"/api/v1/links/{created['id']}",
        json={"customSlug": moved, "title": None, "blockBots": True},
    )
    assert r.status_code == 200, r.text
    link = r.json()["link"]
    assert link["slug"] == moved and link["title"] is None and link["blockBots"] is True
    assert link["maxClicks"] == 3 and link["url"] == "https://example.com/a"
    assert await edge_record(redis, DEFAULT_DOMAIN, slug) is None
    edge = await edge_record(redis, DEFAULT_DOMAIN, moved)
    assert edge is not None and edge.block_bots and edge.og_title is None
    version = await pool.fetchval("SELECT version FROM links WHERE id = $1", int(created["id"]))
    assert version == 2

    cleared = await api.patch(f"/api/v1/links/{created['id']}", json={"maxClicks": None})
    assert cleared.json()["link"]["maxClicks"] is None
    refused = await api.patch(f"/api/v1/links/{created['id']}", json={"url": None})
    # A field that cannot be cleared takes no null (its type in the document says so).
    assert refused.status_code == 400 and "$.url" in refused.json()["error"], refused.text


async def test_tiktok_pixel_and_public_statistics_round_trip(
    api: httpx.AsyncClient, redis: aioredis.Redis, pool: asyncpg.Pool[Any]
) -> None:
    r = await api.post(
        "/api/v1/links",
        json={"url": "https://example.com/tt", "tiktokPixelId": "C4TIKTOK01",
              "publicAnalytics": True},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    link = r.json()["link"]
    assert (link["tiktokPixelId"], link["publicAnalytics"]) == ("C4TIKTOK01", True)
    assert link["statsUrl"] == f"http://kurz.test/stats/l/{link['id']}"
    assert (await api.get(f"/api/v1/links/{link['id']}")).json()["link"] == link
    edge = await edge_record(redis, DEFAULT_DOMAIN, link["slug"])
    assert edge is not None and edge.tiktok_pixel_id == "C4TIKTOK01"
    assert (await api.get(f"/stats/l/{link['id']}")).status_code == 200

    r = await api.patch(
        f"/api/v1/links/{link['id']}", json={"tiktokPixelId": None, "publicAnalytics": False}
    )
    assert r.status_code == 200, r.text
    changed = r.json()["link"]
    assert changed["tiktokPixelId"] is None and changed["publicAnalytics"] is False
    assert changed["statsUrl"] is None
    edge = await edge_record(redis, DEFAULT_DOMAIN, link["slug"])
    assert edge is not None and edge.tiktok_pixel_id is None
    stored = await pool.fetchrow(
        "SELECT tiktok_pixel_id, public_analytics FROM links WHERE id = $1", int(link["id"])
    )
    assert stored is not None and tuple(stored) == (None, False)
    assert (await api.get(f"/stats/l/{link['id']}")).status_code == 404

    plain = (await api.post("/api/v1/links", json={"url": "https://example.com/"})).json()["link"]
    assert plain["publicAnalytics"] is False and plain["statsUrl"] is None
    assert plain["tiktokPixelId"] is None
    bad = await api.post(
        "/api/v1/links", json={"url": "https://example.com/", "tiktokPixelId": "<x>"}
    )
    assert bad.status_code == 422 and "tiktokPixelId" in bad.json()["error"]


async def test_delete_is_soft_drops_the_edge_record_and_frees_the_slug(
    api: httpx.AsyncClient, workspace: Workspace, redis: aioredis.Redis, pool: asyncpg.Pool[Any]
) -> None:
    slug = unique("gone", workspace)
    link = (
        await api.post("/api/v1/links", json={"url": "https://example.com/", "customSlug": slug})
    ).json()["link"]
    r = await api.delete(f"/api/v1/links/{link['id']}")
    assert r.status_code == 204
    assert (await api.get(f"/api/v1/links/{link['id']}")).status_code == 404
    assert (await api.delete(f"/api/v1/links/{link['id']}")).status_code == 404
    assert await edge_record(redis, DEFAULT_DOMAIN, slug) is None
    assert await pool.fetchval(
        "SELECT deleted_at IS NOT NULL FROM links WHERE id = $1", int(link["id"])
    )
    again = await api.post(
        "/api/v1/links", json={"url": "https://example.com/", "customSlug": slug}
    )
    assert again.status_code == 201


async def test_another_workspace_sees_nothing(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    from kurz.workspaces import create_workspace

    async with pool.acquire() as conn:
        _, other_key = await create_workspace(conn, "other")
    mine = (
        await http.post(
            "/api/v1/links", headers=workspace.bearer, json={"url": "https://example.com/mine"}
        )
    ).json()["link"]
    other = {"Authorization": f"Bearer {other_key}"}
    path = f"/api/v1/links/{mine['id']}"
    for method, body in (("GET", None), ("PATCH", {"title": "x"}), ("DELETE", None)):
        r = await http.request(method, path, headers=other, json=body)
        assert r.status_code == 404, method
        assert "error" in r.json()
    listed = (await http.get("/api/v1/links", headers=other)).json()
    assert listed["links"] == [] and listed["pagination"]["total"] == 0
    assert (await http.get(path, headers=workspace.bearer)).json()["link"]["title"] is None


async def test_slug_taken_is_409_even_across_workspaces(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    from kurz.workspaces import create_workspace

    slug = unique("taken", workspace)
    first = await http.post(
        "/api/v1/links",
        headers=workspace.bearer,
        json={"url": "https://example.com/", "customSlug": slug},
    )
    assert first.status_code == 201
    async with pool.acquire() as conn:
        _, other_key = await create_workspace(conn, "rival")
    for headers in (workspace.bearer, {"Authorization": f"Bearer {other_key}"}):
        r = await http.post(
            "/api/v1/links",
            headers=headers,
            json={"url": "https://example.com/2", "customSlug": slug},
        )
        assert r.status_code == 409 and slug in r.json()["error"]
    second = (
        await http.post(
            "/api/v1/links", headers=workspace.bearer, json={"url": "https://example.com/3"}
        )
    ).json()["link"]
    r = await http.patch(
        f"/api/v1/links/{second['id']}", headers=workspace.bearer, json={"customSlug": slug}
    )
    assert r.status_code == 409


async def test_list_searches_filters_and_pages(
    api: httpx.AsyncClient, workspace: Workspace
) -> None:
    tag = (await api.post("/api/v1/tags", json={"name": "promo"})).json()["tag"]
    for i in range(5):
        body: dict[str, Any] = {"url": f"https://shop.example/item/{i}", "title": f"Item {i}"}
        if i % 2 == 0:
            body["tagIds"] = [tag["id"]]
        assert (await api.post("/api/v1/links", json=body)).status_code == 201
    await api.post("/api/v1/links", json={"url": "https://elsewhere.example/"})

    page = (await api.get("/api/v1/links", params={"search": "shop.example", "limit": 2})).json()
    assert page["pagination"] == {"page": 1, "limit": 2, "total": 5, "totalPages": 3}
    assert [link["title"] for link in page["links"]] == ["Item 4", "Item 3"]
    last = (await api.get("/api/v1/links", params={"search": "shop", "limit": 2, "page": 3})).json()
    assert [link["title"] for link in last["links"]] == ["Item 0"]
    tagged = (await api.get("/api/v1/links", params={"tagId": tag["id"]})).json()
    assert sorted(link["title"] for link in tagged["links"]) == ["Item 0", "Item 2", "Item 4"]
    everything = (await api.get("/api/v1/links")).json()
    assert everything["pagination"]["total"] == 6
    later = await api.get("/api/v1/links", params={"createdAfter": "2999-01-01T00:00:00Z"})
    assert later.json()["pagination"]["total"] == 0
    earlier = await api.get("/api/v1/links", params={"createdBefore": "2999-01-01T00:00:00Z"})
    assert earlier.json()["pagination"]["total"] == 6
    bad = await api.get("/api/v1/links", params={"limit": 1000})
    assert bad.status_code == 400 and "error" in bad.json()
    nonsense = await api.get("/api/v1/links", params={"page": "two"})
    assert nonsense.status_code == 400
