"""Tags and custom domains: what links may use, and raw HTML only on a verified
custom domain of the workspace's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Workspace
from tests.integration.native.conftest import start_management


async def test_tags_are_created_listed_and_unique(api: httpx.AsyncClient) -> None:
    r = await api.post("/api/v1/tags", json={"name": "summer"})
    assert r.status_code == 201
    tag = r.json()["tag"]
    assert tag["name"] == "summer" and tag["id"].isdigit()
    assert (await api.post("/api/v1/tags", json={"name": "summer"})).status_code == 409
    assert (await api.post("/api/v1/tags", json={"name": "  "})).status_code == 422
    assert (await api.post("/api/v1/tags", json={"label": "x"})).status_code == 400
    assert (await api.get("/api/v1/tags")).json() == {"tags": [tag]}


async def test_another_workspaces_tag_cannot_be_used(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    from kurz.workspaces import create_workspace

    async with pool.acquire() as conn:
        _, other_key = await create_workspace(conn, "tagger")
    other = {"Authorization": f"Bearer {other_key}"}
    tag = (await http.post("/api/v1/tags", json={"name": "theirs"}, headers=other)).json()["tag"]
    r = await http.post(
        "/api/v1/links",
        headers=workspace.bearer,
        json={"url": "https://example.com/", "tagIds": [tag["id"]]},
    )
    assert r.status_code == 422 and "tag" in r.json()["error"]


async def test_custom_domain_carries_links_and_raw_html(
    api: httpx.AsyncClient, workspace: Workspace
) -> None:
    host = f"Go-{workspace.id}.Brand.example"
    r = await api.post("/api/v1/domains", json={"host": host})
    assert r.status_code == 201, r.text
    domain = r.json()["domain"]
    assert domain["host"] == host.lower() and domain["verified"] is True  # trust mode
    assert domain["verificationRecord"] == f"_kurz-verify.{host.lower()}"
    assert (await api.post("/api/v1/domains", json={"host": host})).status_code == 409
    assert (await api.post("/api/v1/domains", json={"host": "bad host!"})).status_code == 422
    listed = (await api.get("/api/v1/domains")).json()["domains"]
    assert [d["host"] for d in listed] == [host.lower()]

    r = await api.post(
        "/api/v1/links",
        json={
            "url": "https://example.com/",
            "domain": host.upper(),
            "headTags": "<script>track()</script>",
            "bodyTags": "<noscript>x</noscript>",
        },
    )
    assert r.status_code == 201, r.text
    link = r.json()["link"]
    assert link["domain"] == host.lower() and link["headTags"] == "<script>track()</script>"
    assert link["shortUrl"] == f"http://{host.lower()}/{link['slug']}"
    moved = await api.patch(f"/api/v1/links/{link['id']}", json={"domain": "kurz.test"})
    assert moved.status_code == 422 and "custom domain" in moved.json()["error"]


@pytest.fixture(scope="module")
def dns_server(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    stack, service = start_management(
        database_url, redis_url, tmp_path_factory.mktemp("dns"), KURZ_DOMAIN_VERIFICATION="dns"
    )
    yield service
    stack.stop()


async def test_dns_verification_refuses_an_unproven_domain(
    dns_server: Any, workspace: Workspace, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(
        base_url=dns_server.url, headers=workspace.bearer, timeout=30
    ) as c:
        host = f"unproven-{workspace.id}.invalid"
        domain = (await c.post("/api/v1/domains", json={"host": host})).json()["domain"]
        assert domain["verified"] is False and domain["verificationToken"]
        r = await c.post("/api/v1/links", json={"url": "https://example.com/", "domain": host})
        assert r.status_code == 422 and "not verified" in r.json()["error"]
        r = await c.post(f"/api/v1/domains/{domain['id']}/verify")
        assert r.status_code == 422 and "TXT" in r.json()["error"]
        assert (await c.post("/api/v1/domains/999999/verify")).status_code == 404


async def test_tags_are_renamed_and_deleted(api: httpx.AsyncClient) -> None:
    """Tags can be renamed (links keep them) and deleted (links keep their other tags)."""
    spring = (await api.post("/api/v1/tags", json={"name": "spring"})).json()["tag"]
    keep = (await api.post("/api/v1/tags", json={"name": "keep"})).json()["tag"]
    made = await api.post(
        "/api/v1/links",
        json={"url": "https://tags.example/", "tagIds": [spring["id"], keep["id"]]},
    )
    link = made.json()["link"]
    renamed = await api.patch(f"/api/v1/tags/{spring['id']}", json={"name": "spring 2026"})
    assert renamed.status_code == 200 and renamed.json()["tag"]["name"] == "spring 2026"
    taken = await api.patch(f"/api/v1/tags/{spring['id']}", json={"name": "keep"})
    assert taken.status_code == 409
    assert (await api.delete(f"/api/v1/tags/{spring['id']}")).status_code == 204
    assert [t["name"] for t in (await api.get("/api/v1/tags")).json()["tags"]] == ["keep"]
    after = (await api.get(f"/api/v1/links/{link['id']}")).json()["link"]
    assert after["tagIds"] == [keep["id"]]
    assert (await api.delete(f"/api/v1/tags/{spring['id']}")).status_code == 404
    assert (await api.patch("/api/v1/tags/999999999", json={"name": "x"})).status_code == 404
