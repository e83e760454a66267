"""Every refusal of the native API: its status, `{"error": "..."}`, the rate-limit
headers, and nothing written."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.integration.native.conftest import MAX_BODY, live_links, start_management
from tests.support.tcpproxy import TcpProxy

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def assert_error(r: httpx.Response, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
    for word in words:
        assert word in body["error"], body["error"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"url": "javascript:alert(1)"}, ["url", "http(s)"]),
        ({"url": "data:text/html,<b>hi</b>"}, ["http(s)"]),
        ({"url": "/relative/path"}, ["http(s)"]),
        ({"url": "https://exa mple.com/"}, ["control"]),
        ({"url": "https://example.com/\x00"}, ["control"]),
        ({"url": "http://"}, ["no host"]),
        ({"url": "https://example.com/", "customSlug": "has space"}, ["slug"]),
        ({"url": "https://example.com/", "customSlug": "x" * 129}, ["slug"]),
        ({"url": "https://example.com/", "customSlug": "healthz"}, ["reserved"]),
        ({"url": "https://example.com/", "maxClicks": -1}, ["maxClicks"]),
        ({"url": "https://example.com/", "image": "ftp://x.example/a.png"}, ["image"]),
        ({"url": "https://example.com/", "metaPixelId": "<script>"}, ["metaPixelId"]),
        (
            {"url": "https://example.com/", "webhookUrls": "https://ok.example,notaurl"},
            ["webhookUrls"],
        ),
        (
            {
                "url": "https://example.com/",
                "expiresAt": "2020-01-01T00:00:00Z",
                "startsAt": "2021-01-01T00:00:00Z",
            },
            ["expir"],
        ),
        ({"url": "not-an-email", "linkType": "MAILTO"}, ["mailto"]),
        ({"url": "tel:call-me", "linkType": "TEL"}, ["tel"]),
        ({"url": "https://example.com/", "domain": "unknown.example"}, ["domain"]),
        ({"url": "https://example.com/", "tagIds": ["999999999"]}, ["tag"]),
        ({"url": "https://example.com/", "tagIds": ["abc"]}, ["tag"]),
        ({"url": "https://example.com/", "groupId": 999999999}, ["group"]),
        ({"url": "https://example.com/", "headTags": "<script>1</script>"}, ["custom domain"]),
        (
            {
                "url": "https://example.com/",
                "rules": [{"what": "country", "url": "https://de.example", "matches": "XX"}],
            },
            ["ISO"],
        ),
        (
            {
                "url": "https://example.com/",
                "rules": [{"what": "platform", "url": "https://x.example", "matches": "beos"}],
            },
            ["platform"],
        ),
        (
            {
                "url": "https://example.com/",
                "rules": [
                    {"what": "rotator", "url": "https://a.example", "percentage": 70},
                    {"what": "rotator", "url": "https://b.example", "percentage": 40},
                ],
            },
            ["100"],
        ),
        (
            {
                "url": "https://example.com/",
                "rules": [{"what": "rotator", "url": "javascript:x", "percentage": 10}],
            },
            ["rule 1"],
        ),
    ],
)
async def test_validation_failures_are_422_and_write_nothing(
    api: httpx.AsyncClient,
    workspace: Workspace,
    pool: asyncpg.Pool[Any],
    body: dict[str, Any],
    words: list[str],
) -> None:
    r = await api.post("/api/v1/links", json=body)
    assert_error(r, 422, *words)
    assert all(h in r.headers for h in RATE_HEADERS)
    assert await live_links(pool, workspace.id) == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", ["malformed JSON"]),
        (b"", ["JSON body is required"]),
        (b'{"url": "https://example.com/", "colour": "red"}', ["colour"]),
        (b'{"url": "https://example.com/", "maxClicks": "ten"}', ["maxClicks"]),
        (b'{"url": "https://example.com/", "redirectType": "MOVED_303"}', ["redirectType"]),
        (b'{"title": "no url"}', ["url"]),
        (b'["a", "list"]', ["invalid body"]),
    ],
)
async def test_bad_bodies_are_400(
    api: httpx.AsyncClient,
    workspace: Workspace,
    pool: asyncpg.Pool[Any],
    content: bytes,
    words: list[str],
) -> None:
    r = await api.post(
        "/api/v1/links", content=content, headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400, *words)
    assert await live_links(pool, workspace.id) == 0


async def test_missing_or_wrong_key_is_401(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        r = await http.get("/api/v1/links", headers=headers)
        assert_error(r, 401, "API key")
        assert all(h in r.headers for h in RATE_HEADERS)


async def test_revoked_key_is_401_at_once(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    from kurz.workspaces import revoke_key

    assert (await http.get("/api/v1/links", headers=workspace.bearer)).status_code == 200
    async with pool.acquire() as conn:
        await revoke_key(conn, workspace.key)
    assert_error(await http.get("/api/v1/links", headers=workspace.bearer), 401)


async def test_another_workspaces_domain_is_403(
    http: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    from kurz.workspaces import create_workspace

    async with pool.acquire() as conn:
        _, other_key = await create_workspace(conn, "owner")
    host = f"go{workspace.id}.owner.example"
    added = await http.post(
        "/api/v1/domains", json={"host": host}, headers={"Authorization": f"Bearer {other_key}"}
    )
    assert added.status_code == 201
    r = await http.post(
        "/api/v1/links",
        headers=workspace.bearer,
        json={"url": "https://example.com/", "domain": host},
    )
    assert_error(r, 403, "another workspace")


async def test_unknown_ids_and_routes_are_404(api: httpx.AsyncClient) -> None:
    assert_error(await api.get("/api/v1/links/99999999999"), 404)
    assert_error(await api.get("/api/v1/links/abc"), 404)
    assert_error(await api.patch("/api/v1/links/99999999999", json={"title": "x"}), 404)
    assert_error(await api.get("/api/v1/nothing-here"), 404)
    huge = await api.post("/api/v1/links/bulk", json={"links": [{"id": 2**64 - 1, "title": "x"}]})
    assert huge.status_code == 404 and huge.json()["errors"][0]["index"] == 0
    for body in ({"tagIds": ["9" * 30]}, {"groupId": 2**63}):
        r = await api.post("/api/v1/links", json={"url": "https://example.com/", **body})
        assert r.status_code in (400, 422) and "error" in r.json()


async def test_a_method_the_path_does_not_take_is_405_with_allow(api: httpx.AsyncClient) -> None:
    answer = await api.put("/api/v1/links")
    assert_error(answer, 405)
    assert set(answer.headers["allow"].split(", ")) >= {"GET", "POST"}
    # A path with a route per method: every one of them is named.
    page = await api.put("/stats/g/1")
    assert page.status_code == 405
    assert set(page.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def test_body_over_the_limit_is_413_and_writes_nothing(
    api: httpx.AsyncClient, workspace: Workspace, pool: asyncpg.Pool[Any]
) -> None:
    big = {"url": "https://example.com/", "note": "n" * (MAX_BODY + 10)}
    assert_error(await api.post("/api/v1/links", json=big), 413, str(MAX_BODY))

    async def chunks() -> Any:  # no Content-Length: the limit holds while streaming
        for _ in range(20):
            yield b" " * (MAX_BODY // 10)

    r = await api.post(
        "/api/v1/links", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(r, 413)
    assert await live_links(pool, workspace.id) == 0


@pytest.fixture(scope="module")
def limited_server(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    stack, service = start_management(
        database_url, redis_url, tmp_path_factory.mktemp("limited"), KURZ_API_RATE_LIMIT="5"
    )
    yield service
    stack.stop()


async def test_rate_limit_is_429_with_headers(limited_server: Any, workspace: Workspace) -> None:
    async with httpx.AsyncClient(base_url=limited_server.url, headers=workspace.bearer) as c:
        answers = await asyncio.gather(*(c.get("/api/v1/links") for _ in range(30)))
    statuses = [r.status_code for r in answers]
    assert 200 in statuses and 429 in statuses
    for r in answers:
        assert r.headers["X-RateLimit-Limit"] == "5"
        assert int(r.headers["X-RateLimit-Remaining"]) >= 0 and r.headers["X-RateLimit-Reset"]
    limited = next(r for r in answers if r.status_code == 429)
    assert_error(limited, 429, "rate limit")
    assert int(limited.headers["Retry-After"]) >= 1
    windows = {r.headers["X-RateLimit-Reset"] for r in answers}  # one-second windows used
    assert sum(s == 200 for s in statuses) <= 5 * len(windows)


@pytest.fixture(scope="module")
def postgres_proxy(postgres: Any) -> Any:
    proxy = TcpProxy(postgres.port).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def proxied_server(
    postgres_proxy: TcpProxy,
    database_url: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    url = database_url.replace(f":{postgres_proxy.target_port}/", f":{postgres_proxy.port}/")
    stack, service = start_management(url, redis_url, tmp_path_factory.mktemp("proxied"))
    yield service
    stack.stop()


async def test_postgres_unreachable_is_503_then_recovers(
    proxied_server: Any, postgres_proxy: TcpProxy, workspace: Workspace, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(
        base_url=proxied_server.url, headers=workspace.bearer, timeout=30
    ) as c:
        assert (await c.get("/api/v1/links")).status_code == 200
        postgres_proxy.cut()
        try:
            for _ in range(2):
                r = await c.post("/api/v1/links", json={"url": "https://example.com/"})
                assert_error(r, 503, "unavailable")
                assert_error(await c.get("/api/v1/links"), 503)
        finally:
            postgres_proxy.restore()
        r = await c.post("/api/v1/links", json={"url": "https://example.com/"})
        assert r.status_code == 201, r.text
        assert r.json()["link"]["domain"] == DEFAULT_DOMAIN


async def test_odd_text_never_reaches_the_database_as_an_error(api: httpx.AsyncClient) -> None:
    """Any string field holding NUL, and odd query values: a 4xx, never a 500."""
    from kurz_management.native.schema import LINK_FIELDS

    for name, (kind, _) in LINK_FIELDS.items():
        if kind is not str:
            continue
        body = {"url": "https://example.com/", name: "a\u0000b"}
        r = await api.post("/api/v1/links", json=body)
        assert 400 <= r.status_code < 500, (name, r.text)
    for params in (
        {"search": "a\u0000"},
        {"tagId": "9" * 30},
        {"groupId": str(2**63)},
        {"page": "-1"},
    ):
        r = await api.get("/api/v1/links", params=params)
        assert 400 <= r.status_code < 500, (params, r.text)
    r = await api.post("/api/v1/tags", json={"name": "a\u0000"})
    assert r.status_code == 422
