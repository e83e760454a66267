"""POST /api/v1/link, GET /api/v1/get_link/{id}, DELETE .../links/{id} against a running
management server, Postgres and Redis."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz import keys
from kurz.models import decode_link

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.linkly.conftest import count_links
from tests.support.streams import as_bytes

# Linkly's documented example response, verbatim.
SEED_RESPONSE: dict[str, Any] = json.loads("""{
    "id": 9512, "alias": null, "url": "https://www.wikijob.co.uk", "name": "Test Link",
    "note": null, "head_tags": null, "body_tags": null, "linkify_words": null,
    "enabled": true, "cloaking": false, "replacements": null, "domain": null, "slug": null,
    "utm_source": null, "utm_medium": null, "utm_campaign": null, "utm_term": null,
    "utm_content": null, "og_title": null, "og_description": null, "og_image": null,
    "full_url": "https://l.linklyhq.com/l/2TQ", "block_bots": false, "rules": [],
    "workspace_id": 1448, "referer_mode": null, "custom_referer": null,
    "click_fraud_mode": null, "deleted": false
}""")
EXTRA_KEYS = {
    "fb_pixel_id": None,
    "ga4_tag_id": None,
    "gtm_id": None,
    "forward_params": False,
    "hide_referrer": False,
    "expiry_datetime": None,
    "expiry_destination": None,
    "expiry_clicks": None,
    "tiktok_pixel_id": None,
    "public_analytics": False,
}

SEED_RULES = [
    {"what": "rotator", "url": "https://www.microsoft.com", "percentage": "50"},
    {"what": "rotator", "url": "https://www.apple.com", "percentage": "50"},
]
GEO_RULES = [
    {"what": "country", "url": "https://www.microsoft.com", "matches": "UK"},
    {"what": "country", "url": "https://www.apple.com", "matches": "US"},
]
DEVICE_RULES = [
    {"what": "platform", "url": "https://www.google.com", "matches": "windows"},
    {"what": "platform", "url": "https://www.apple.com", "matches": "ios"},
]


async def test_seed_curl_example_verbatim(
    http: httpx.AsyncClient, workspace: Workspace, redis: aioredis.Redis
) -> None:
    body = (
        f"api_key={workspace.key}&workspace_id={workspace.id}"
        "&url=http%3A%2F%2Fwww.wikijob.co.uk&name=Test%20Link"
    )
    response = await http.post(
        "/api/v1/link",
        content=body,
        headers={
            "cache-control": "no-cache",
            "Content-Type": "application/x-www-form-urlencoded",
        },  # what curl -d sends
    )
    assert response.status_code == 200, response.text
    link = response.json()
    assert list(link) == [*SEED_RESPONSE, *EXTRA_KEYS]
    for key, example in {**SEED_RESPONSE, **EXTRA_KEYS}.items():
        if key != "slug":  # Linkly's null slug is kurz's "/<slug>"
            assert type(link[key]) is type(example), key
    assert isinstance(link["id"], int)
    assert link["workspace_id"] == workspace.id
    assert (link["url"], link["name"]) == ("http://www.wikijob.co.uk", "Test Link")
    assert link["slug"].startswith("/") and len(link["slug"]) > 1
    assert link["full_url"] == f"http://{DEFAULT_DOMAIN}{link['slug']}"
    edge = await redis.get(keys.link(DEFAULT_DOMAIN, link["slug"][1:]))
    assert edge is not None and decode_link(as_bytes(edge)).url == "http://www.wikijob.co.uk"


async def test_json_create_with_every_field_then_get(
    api: httpx.AsyncClient, workspace: Workspace
) -> None:
    sent = {
        "url": "https://example.com/landing",
        "name": "Spring",
        "note": "memo",
        "enabled": True,
        "cloaking": True,
        "block_bots": True,
        "forward_params": True,
        "hide_referrer": True,
        "utm_source": "news",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "utm_term": "shoes",
        "utm_content": "hero",
        "slug": "/spring-sale",
        "og_title": "OG",
        "og_description": "Desc",
        "og_image": "https://example.com/i.png",
        "fb_pixel_id": "123",
        "ga4_tag_id": "G-XYZ",
        "gtm_id": "GTM-ABC",
        "tiktok_pixel_id": "CABC123DEF456GHI789J",
        "public_analytics": True,
        "expiry_datetime": "2035-01-01T00:00:00Z",
        "expiry_destination": "https://example.com/over",
    }
    created = (await api.post("/api/v1/link", json=sent)).json()
    assert created["slug"] == "/spring-sale"
    fetched = await api.get(f"/api/v1/get_link/{created['id']}")
    assert fetched.status_code == 200
    link = fetched.json()
    assert link == created
    for key, value in sent.items():
        if key != "expiry_datetime":
            assert link[key] == value, key
    assert link["expiry_datetime"].startswith("2035-01-01T00:00:00")


async def test_tiktok_pixel_and_public_analytics_change_and_clear(
    api: httpx.AsyncClient, redis: aioredis.Redis, pool: asyncpg.Pool[Any]
) -> None:
    """Both reach the stored link, the edge record and the answers; a form's "on" turns
    the statistics page on, "" empties the pixel id."""
    created = await api.post(
        "/api/v1/link",
        data={
            "url": "https://a.example",
            "tiktok_pixel_id": "C4TIKTOK01",
            "public_analytics": "on",
        },
    )
    assert created.status_code == 200, created.text
    link = created.json()
    assert (link["tiktok_pixel_id"], link["public_analytics"]) == ("C4TIKTOK01", True)
    edge = await redis.get(keys.link(DEFAULT_DOMAIN, link["slug"][1:]))
    assert edge is not None and decode_link(as_bytes(edge)).tiktok_pixel_id == "C4TIKTOK01"
    stored = await pool.fetchrow(
        "SELECT tiktok_pixel_id, public_analytics FROM links WHERE id = $1", link["id"]
    )
    assert stored is not None and tuple(stored) == ("C4TIKTOK01", True)
    changed = await api.post(
        "/api/v1/link", json={"id": link["id"], "tiktok_pixel_id": "", "public_analytics": False}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["tiktok_pixel_id"], changed.json()["public_analytics"]) == (None, False)
    edge = await redis.get(keys.link(DEFAULT_DOMAIN, link["slug"][1:]))
    assert edge is not None and decode_link(as_bytes(edge)).tiktok_pixel_id is None
    bad = await api.post(
        "/api/v1/link", json={"url": "https://a.example", "tiktok_pixel_id": "<script>"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "tiktok_pixel_id"


async def test_update_by_id_or_link_id_keeps_other_fields(
    api: httpx.AsyncClient, workspace: Workspace
) -> None:
    created = (
        await api.post(
            "/api/v1/link", json={"url": "https://a.example", "name": "A", "note": "keep"}
        )
    ).json()
    by_id = await api.post(
        "/api/v1/link", data={"id": str(created["id"]), "url": "https://b.example"}
    )
    assert by_id.status_code == 200, by_id.text
    assert (by_id.json()["url"], by_id.json()["name"], by_id.json()["note"]) == (
        "https://b.example",
        "A",
        "keep",
    )
    by_link_id = await api.post(
        "/api/v1/link",
        json={"link_id": created["id"], "name": "C", "note": None, "enabled": "false"},
    )
    assert by_link_id.status_code == 200, by_link_id.text
    updated = by_link_id.json()
    assert (updated["id"], updated["name"], updated["note"], updated["enabled"]) == (
        created["id"],
        "C",
        None,
        False,
    )


async def test_rules_round_trip(api: httpx.AsyncClient) -> None:
    for rules, expected in [
        (SEED_RULES, [{**r, "percentage": 50} for r in SEED_RULES]),
        (GEO_RULES, [{**GEO_RULES[0], "matches": "GB"}, GEO_RULES[1]]),
        (DEVICE_RULES, DEVICE_RULES),
    ]:
        created = await api.post(
            "/api/v1/link", json={"url": "https://main.example", "rules": rules}
        )
        assert created.status_code == 200, created.text
        assert created.json()["rules"] == expected
        fetched = (await api.get(f"/api/v1/get_link/{created.json()['id']}")).json()
        assert fetched["rules"] == expected
        # Sending the answer back unchanged stores the same rules.
        again = await api.post(
            "/api/v1/link", json={"id": fetched["id"], "rules": fetched["rules"]}
        )
        assert again.json()["rules"] == expected


async def test_form_body_with_rules_is_refused(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    response = await api.post(
        "/api/v1/link", data={"url": "https://a.example", "rules": json.dumps(SEED_RULES)}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "rules must be sent in a JSON body (Content-Type: application/json)",
        "field": "rules",
    }
    assert await count_links(pool, workspace.id) == 0


async def test_bad_input_gets_linkly_errors_and_writes_nothing(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"content": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, None),
        ({"json": {"url": "not a url"}}, 422, "url"),
        ({"json": {"name": "no url"}}, 422, "url"),
        ({"json": {"url": "https://a.example", "enabled": "perhaps"}}, 422, "enabled"),
        (
            {
                "json": {
                    "url": "https://a.example",
                    "rules": [{"what": "platform", "url": "https://b.example", "matches": "amiga"}],
                }
            },
            422,
            "rules[0].matches",
        ),
        ({"json": {"url": "https://a.example", "slug": "/bad slug!"}}, 422, "slug"),
        ({"json": ["not", "links"]}, 422, None),
    ]
    for kwargs, status, field in cases:
        response = await api.post("/api/v1/link", **kwargs)
        assert response.status_code == status, (kwargs, response.text)
        body = response.json()
        assert isinstance(body["error"], str) and body["error"], kwargs
        if field is not None:
            assert body.get("field") == field, (kwargs, body)
    assert await count_links(pool, workspace.id) == 0


async def test_update_of_unknown_link_is_404(api: httpx.AsyncClient) -> None:
    missing = await api.post("/api/v1/link", json={"id": 2**40, "url": "https://a.example"})
    assert missing.status_code == 404 and "error" in missing.json()
    assert (await api.get("/api/v1/get_link/abc")).status_code == 404


async def test_head_tags_need_a_verified_custom_domain(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    tags = {"url": "https://a.example", "head_tags": "<script>track()</script>"}
    refused = await api.post("/api/v1/link", json=tags)
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "head_tags"
    host = f"go{workspace.id}.example.com"
    await pool.execute(
        "INSERT INTO domains (workspace_id, host, verified) VALUES ($1, $2, true)",
        workspace.id,
        host,
    )
    accepted = await api.post(
        "/api/v1/link", json={**tags, "domain": f"https://{host}", "slug": "tagged"}
    )
    assert accepted.status_code == 200, accepted.text
    link = accepted.json()
    assert (link["domain"], link["slug"], link["full_url"]) == (
        host,
        "/tagged",
        f"http://{host}/tagged",
    )
    assert link["head_tags"] == "<script>track()</script>"


async def test_delete_then_get(
    api: httpx.AsyncClient, workspace: Workspace, redis: aioredis.Redis
) -> None:
    link = (await api.post("/api/v1/link", json={"url": "https://a.example"})).json()
    response = await api.delete(f"/api/v1/workspace/{workspace.id}/links/{link['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["deleted"] is True and response.json()["id"] == link["id"]
    assert (await api.get(f"/api/v1/get_link/{link['id']}")).status_code == 404
    assert await redis.get(keys.link(DEFAULT_DOMAIN, link["slug"][1:])) is None
    again = await api.delete(f"/api/v1/workspace/{workspace.id}/links/{link['id']}")
    assert again.status_code == 404


async def test_the_link_object_posted_back_changes_nothing(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/api/v1/link",
        json={
            "url": "https://a.example",
            "name": "Round",
            "utm_source": "x",
            "rules": DEVICE_RULES,
            "expiry_datetime": "2031-05-06T07:08:09+02:00",
        },
    )
    link = created.json()
    again = await api.post("/api/v1/link", json=link)
    assert again.status_code == 200, again.text
    assert again.json() == link


async def test_a_taken_slug_is_409(api: httpx.AsyncClient, workspace: Workspace) -> None:
    slug = f"taken-{workspace.id}"
    first = await api.post("/api/v1/link", json={"url": "https://a.example", "slug": slug})
    assert first.status_code == 200, first.text
    second = await api.post("/api/v1/link", data={"url": "https://b.example", "slug": "/" + slug})
    assert second.status_code == 409
    assert second.json()["field"] == "slug"


async def test_oversized_and_multipart_bodies_are_refused(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    huge = {"url": "https://a.example", "note": "x" * 2_000_001}
    too_big = await api.post("/api/v1/link", json=huge)
    assert too_big.status_code == 413 and "larger than" in too_big.json()["error"]
    multipart = await api.post("/api/v1/link", files={"url": (None, "https://a.example")})
    assert multipart.status_code == 415
    assert await count_links(pool, workspace.id) == 0
