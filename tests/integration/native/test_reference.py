"""The links API read as the published reference of its shape describes it: each request
below is a documented example (its custom domain replaced by one of the test's own), and
each answer is checked against the documented example answer, field by field, for the
names and JSON types a client of that reference reads."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.conftest import Workspace

# The Link object and the Link detail object as the reference's examples show them
# (its get-link example answer): every field a client may read, with its JSON type.
LINK_OBJECT: dict[str, Any] = {
    "id": "clx1abc2def3ghi4",
    "shortCode": "summer-sale",
    "url": "https://example.com/sale",
    "title": "Summer Sale",
    "domain": "go.mycompany.com",
    "linkType": "URL",
    "isActive": True,
    "clickCount": 1842,
    "createdAt": "2024-06-01T10:00:00.000Z",
    "tags": [{"tag": {"id": "tag_123", "name": "summer", "color": "#3b82f6"}}],
    "qrCode": None,
}
LINK_DETAIL: dict[str, Any] = LINK_OBJECT | {
    "updatedAt": "2024-06-15T08:30:00.000Z",
    "description": "Our biggest sale of the year",
    "image": None,
    "password": None,
    "expiresAt": "2024-07-01T00:00:00.000Z",
    "maxClicks": 10000,
    "cloaked": False,
    "redirectType": "302",
    "workspaceId": "ws_abc123",
    "forwardParameters": False,
    "blockBots": True,
    "skipSocialCrawlerTracking": False,
    "hideReferrer": False,
    "metaPixelId": "123456789",
    "googleTagId": None,
    "gtmContainerId": None,
    "headTags": None,
    "bodyTags": None,
    "webhookUrls": None,
    "rules": [],
    "createdBy": {"id": "user_abc", "name": "Jane Smith", "email": "jane@mycompany.com"},
}
# Fields the reference types as "T | null" whose example happens to show one side.
NULLABLE = {
    "title", "description", "image", "password", "expiresAt", "maxClicks", "metaPixelId",
    "googleTagId", "gtmContainerId", "headTags", "bodyTags", "webhookUrls", "qrCode",
    "createdBy",
    "email",  # createdBy.email: links are made by API keys, which have no address
}  # fmt: skip
BULK_ANSWER_LINK = {
    "id": "clx1abc2def3ghi4", "shortCode": "link-a", "url": "https://example.com/a",
    "domain": "go.mycompany.com", "pendingVerification": False,
}  # fmt: skip


def json_type(value: Any) -> str:
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array",
            dict: "object", type(None): "null"}[type(value)]  # fmt: skip


def shape_problems(documented: dict[str, Any], answered: dict[str, Any], where: str) -> list[str]:
    """Every documented field the answer lacks or types otherwise (recursing into the
    first element of arrays and into objects)."""
    problems = []
    for name, example in documented.items():
        if name not in answered:
            problems.append(f"{where}.{name}: missing")
            continue
        value = answered[name]
        if value is None or example is None:
            if name not in NULLABLE and (value is None) != (example is None):
                problems.append(f"{where}.{name}: {value!r} where {example!r} is documented")
            continue
        if json_type(value) != json_type(example):
            problems.append(f"{where}.{name}: {json_type(value)}, documented {json_type(example)}")
        elif isinstance(example, dict):
            problems += shape_problems(example, value, f"{where}.{name}")
        elif isinstance(example, list) and example and value and isinstance(example[0], dict):
            problems += shape_problems(example[0], value[0], f"{where}.{name}[0]")
    return problems


async def own_domain(api: httpx.AsyncClient, workspace: Workspace) -> str:
    host = f"go.company-{workspace.id}.example"
    added = await api.post("/api/v1/domains", json={"host": host})
    assert added.status_code == 201, added.text
    return host


async def test_create_example_answers_the_documented_link_detail(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    domain = await own_domain(api, workspace)
    tag = (await api.post("/api/v1/tags", json={"name": "summer", "color": "#3B82F6"})).json()
    body = {
        "url": "https://example.com/landing-page", "domain": domain,
        "customSlug": "summer-sale", "title": "Summer Sale", "utmSource": "email",
        "utmMedium": "cpc", "utmCampaign": "summer-2024", "tagIds": [tag["tag"]["id"]],
    }  # fmt: skip
    created = await api.post("/api/v1/links", json=body)
    assert created.status_code == 201, created.text
    link = created.json()["link"]
    assert shape_problems(LINK_DETAIL, link, "link") == []
    # The documented answer: the destination with the UTM fields already appended.
    assert link["url"] == (
        "https://example.com/landing-page?utm_source=email&utm_medium=cpc&utm_campaign=summer-2024"
    )
    assert (link["shortCode"], link["domain"], link["title"]) == (
        "summer-sale",
        domain,
        "Summer Sale",
    )
    assert link["isActive"] is True and link["clickCount"] == 0
    assert link["tags"] == [{"tag": {"id": tag["tag"]["id"], "name": "summer", "color": "#3b82f6"}}]
    assert link["workspaceId"] == str(workspace.id)
    key_id = await pool.fetchval("SELECT id FROM api_keys WHERE workspace_id = $1", workspace.id)
    assert link["createdBy"]["id"] == str(key_id)
    assert link["qrCode"]["pngUrl"] == f"http://{domain}/summer-sale/qr"

    # The get example answers the same detail object; a list item, the Link object.
    got = (await api.get(f"/api/v1/links/{link['id']}")).json()["link"]
    assert got == link
    listed = (await api.get("/api/v1/links")).json()["links"]
    assert [shape_problems(LINK_OBJECT, item, "links[]") for item in listed] == [[]]

    # The id as answered (a string) is taken back wherever an id is sent.
    bulk = await api.post("/api/v1/links/bulk", json={"links": [{"id": link["id"], "title": "T"}]})
    assert bulk.status_code == 201 and bulk.json()["links"][0]["title"] == "T", bulk.text


async def test_bulk_example_answers_the_documented_counts(
    api: httpx.AsyncClient, workspace: Workspace
) -> None:
    domain = await own_domain(api, workspace)
    body = {
        "domain": domain,
        "links": [
            {"url": "https://example.com/a", "customSlug": "link-a", "title": "Link A"},
            {"url": "https://example.com/b", "customSlug": "link-b", "title": "Link B"},
            {"url": "https://example.com/c", "title": "Link C"},
        ],
    }
    answered = await api.post("/api/v1/links/bulk", json=body)
    assert answered.status_code == 201, answered.text
    result = answered.json()
    assert {k: result[k] for k in ("created", "activeCount", "pendingCount", "failed")} == {
        "created": 3, "activeCount": 3, "pendingCount": 0, "failed": [],
    }  # fmt: skip
    assert [shape_problems(BULK_ANSWER_LINK, item, "links[]") for item in result["links"]] == [
        []
    ] * 3
    assert [(item["shortCode"], item["domain"]) for item in result["links"][:2]] == [
        ("link-a", domain), ("link-b", domain),
    ]  # fmt: skip

    # In this shape a bad item is reported in failed and the others are still created.
    again = {"domain": domain, "links": [
        {"url": "https://example.com/d"}, {"url": "not a url"}, {"url": "https://example.com/e"},
    ]}  # fmt: skip
    partial = await api.post("/api/v1/links/bulk", json=again)
    assert partial.status_code == 200, partial.text
    outcome = partial.json()
    assert (outcome["created"], [f["index"] for f in outcome["failed"]]) == (2, [1])
    assert outcome["failed"][0]["field"] == "url" and outcome["failed"] == outcome["errors"]


async def test_is_active_follows_what_a_visit_would_do(api: httpx.AsyncClient) -> None:
    off = await api.post("/api/v1/links", json={"url": "https://example.com/", "enabled": False})
    past = await api.post(
        "/api/v1/links", json={"url": "https://example.com/", "expiresAt": "2020-01-01T00:00:00Z"}
    )
    later = await api.post(
        "/api/v1/links", json={"url": "https://example.com/", "startsAt": "2099-01-01T00:00:00Z"}
    )
    on = await api.post("/api/v1/links", json={"url": "https://example.com/"})
    states = [r.json()["link"]["isActive"] for r in (off, past, later, on)]
    assert states == [False, False, False, True]


async def test_pixels_list_the_workspace_links_pixels(
    api: httpx.AsyncClient, http: httpx.AsyncClient, workspace: Workspace
) -> None:
    for body in (
        {"metaPixelId": "123456789", "googleTagId": "G-ABC123"},
        {"metaPixelId": "123456789"},
        {"gtmId": "GTM-XYZ9"},
    ):
        made = await api.post("/api/v1/links", json={"url": "https://example.com/", **body})
        assert made.status_code == 201, made.text
    gone = await api.post("/api/v1/links", json={"url": "https://x.example/", "gtmId": "GTM-OLD1"})
    assert (await api.delete(f"/api/v1/links/{gone.json()['link']['id']}")).status_code == 204
    pixels = (await api.get("/api/v1/pixels")).json()["pixels"]
    assert [(p["type"], p["pixelId"], p["linkCount"]) for p in pixels] == [
        ("GOOGLE_ANALYTICS", "G-ABC123", 1),
        ("GOOGLE_TAG_MANAGER", "GTM-XYZ9", 1),
        ("META", "123456789", 2),
    ]
    unauthorized = await http.get("/api/v1/pixels", headers={"Authorization": "Bearer nope"})
    assert unauthorized.status_code == 401


async def test_tags_carry_a_colour_that_can_change_or_go(api: httpx.AsyncClient) -> None:
    tag = (await api.post("/api/v1/tags", json={"name": "blue", "color": "#0000FF"})).json()["tag"]
    assert tag["color"] == "#0000ff" and isinstance(tag["id"], str)
    path = f"/api/v1/tags/{tag['id']}"
    renamed = (await api.patch(path, json={"name": "navy"})).json()["tag"]
    assert (renamed["name"], renamed["color"]) == ("navy", "#0000ff")
    cleared = (await api.patch(path, json={"color": None})).json()["tag"]
    assert (cleared["name"], cleared["color"]) == ("navy", None)
    bad = await api.patch(path, json={"color": "blue"})
    assert bad.status_code in (400, 422) and "color" in bad.json()["error"], bad.text
    assert [t["color"] for t in (await api.get("/api/v1/tags")).json()["tags"]] == [None]
