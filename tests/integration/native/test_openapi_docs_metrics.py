"""/openapi.json (valid OpenAPI 3.1, every route listed), /docs without outside
network, and request metrics by route."""

from __future__ import annotations

import re

import httpx
from kurz_management.native.routes import routes as native_routes
from openapi_spec_validator import validate


async def test_openapi_document_is_valid_and_lists_every_route(http: httpx.AsyncClient) -> None:
    r = await http.get("/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    document = r.json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    listed = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    for route in native_routes:
        for method in route.methods - {"HEAD"}:  # type: ignore[attr-defined]
            assert (method, route.path_format) in listed, (method, route.path_format)  # type: ignore[attr-defined]
    create = document["paths"]["/api/v1/links"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]["properties"]
    for field in (
        "url",
        "domain",
        "customSlug",
        "redirectType",
        "tagIds",
        "webhookUrls",
        "googleTagId",
        "utmContent",
        "maxClicks",
        "expiresAt",
    ):
        assert field in fields
    assert set(create["responses"]) >= {"201", "400", "401", "409", "422", "429", "503"}
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_docs_page_needs_no_outside_network(http: httpx.AsyncClient) -> None:
    r = await http.get("/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    page = r.text
    assert "/openapi.json" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "cdn" not in page.lower()


async def test_requests_are_counted_by_route_template(api: httpx.AsyncClient) -> None:
    await api.get("/api/v1/links/424242")
    metrics = (await api.get("/metrics")).text
    pattern = (
        r'kurz_management_requests_total\{method="GET",'
        r'route="/api/v1/links/\{link_id\}",status="404"\} (\d+)'
    )
    match = re.search(pattern, metrics)
    assert match and float(match.group(1)) >= 1
    assert "kurz_management_request_seconds_bucket" in metrics


async def test_every_schema_field_is_described(http: httpx.AsyncClient) -> None:
    document = (await http.get("/openapi.json")).json()
    undescribed = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, prop in schema.get("properties", {}).items()
        if not prop.get("description", "").strip()
    ]
    assert undescribed == []
    link_create = document["components"]["schemas"]["LinkCreate"]
    assert len(link_create["properties"]) == 40 and "Fields:" not in link_create["description"]
    listing = document["paths"]["/api/v1/links"]["get"]["parameters"]
    assert all(p.get("description") for p in listing if p["in"] == "query")
