"""`GET /` on the management port: where the docs and health endpoints are, as HTML for
a browser and JSON for anyone else; every link answers."""

from __future__ import annotations

import re

import httpx
from kurz_management.app import _routes as app_routes


async def test_home_links_to_docs_and_health(http: httpx.AsyncClient) -> None:
    data = await http.get("/", headers={"Accept": "application/json"})
    assert data.status_code == 200
    links = data.json()["links"]
    assert links["docs"] == "/docs" and links["openapi"] == "/openapi.json"
    assert {links["healthz"], links["readyz"], links["metrics"]} == {
        "/healthz", "/readyz", "/metrics"
    }  # fmt: skip
    routes, _ = app_routes()
    paths = {getattr(r, "path", None) for r in routes}
    assert ("console" in links) == ("/console" in paths)  # linked only where it exists
    for path in links.values():  # the console's own sends a visitor to sign in first
        assert (await http.get(path, follow_redirects=True)).status_code == 200, path
    assert (await http.get("/")).headers["content-type"].startswith("application/json")

    page = await http.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.headers["content-type"].startswith("text/html")
    assert set(re.findall(r'href="([^"]+)"', page.text)) >= set(links.values())


async def test_docs_files_are_served_by_kurz(http: httpx.AsyncClient) -> None:
    docs = await http.get("/docs")
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    for src in re.findall(r'(?:src|href)="(/docs/static/[^"]+)"', docs.text):
        assert (await http.get(src)).status_code == 200, src
    assert (await http.get("/docs/static/../app.py")).status_code == 404
