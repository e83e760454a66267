"""What a person finds on the management port: `/` (where everything is), `/docs`
(Swagger UI over /openapi.json, its files served from this package: no outside
network) and the files `/docs` loads."""

from __future__ import annotations

from html import escape
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

# Swagger UI needs its own scripts and styles, data: images for its icons, and requests
# to this server for "Try it out"; nothing inline, nothing from elsewhere.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_HEADERS = {"Content-Security-Policy": DOCS_CSP, "X-Content-Type-Options": "nosniff"}
_FILES = {
    "swagger-ui-bundle.js": ("swagger-ui/swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui/swagger-ui.css", "text/css; charset=utf-8"),
    "docs.js": ("docs.js", "text/javascript; charset=utf-8"),
    "docs.css": ("docs.css", "text/css; charset=utf-8"),
    "favicon.png": ("swagger-ui/favicon-32x32.png", "image/png"),
}
HEALTH = {
    "healthz": "/healthz",
    "readyz": "/readyz",
    "metrics": "/metrics",
}


def _static(name: str) -> bytes:
    return resources.files("kurz_management").joinpath("static", name).read_bytes()


async def docs(request: Request) -> Response:
    return HTMLResponse(_static("docs.html").decode(), headers=_HEADERS)


async def docs_file(request: Request) -> Response:
    found = _FILES.get(request.path_params["name"])
    if found is None:
        return JSONResponse({"error": "no such endpoint"}, status_code=404)
    path, media_type = found
    return Response(
        _static(path),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def _links(request: Request) -> dict[str, str]:
    links = {"docs": "/docs", "openapi": "/openapi.json"}
    paths = {getattr(route, "path", "") for route in request.app.routes}
    if "/console" in paths:
        links["console"] = "/console"
    return {**links, **HEALTH}


async def home(request: Request) -> Response:
    """Links to everything here: HTML for a browser, JSON for anyone who asks for it."""
    links = _links(request)
    accept = request.headers.get("accept", "")
    if "text/html" not in accept or "application/json" in accept.split(",")[0]:
        return JSONResponse({"service": "kurz management", "links": links})
    items = "".join(
        f'<li><a href="{escape(path)}">{escape(name)}</a> <code>{escape(path)}</code></li>'
        for name, path in links.items()
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>kurz</title><link rel="icon" href="/docs/static/favicon.png"></head>'
        "<body><h1>kurz management API</h1>"
        f'<ul id="links">{items}</ul></body></html>'
    )
    return HTMLResponse(page, headers=_HEADERS)


routes: list[BaseRoute] = [
    Route("/", home, methods=["GET", "HEAD"]),
    Route("/docs", docs, methods=["GET", "HEAD"]),
    Route("/docs/static/{name}", docs_file, methods=["GET", "HEAD"]),
]
