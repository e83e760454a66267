"""The management server: native, Vivoldi and Linkly API families on one Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from kurz import redis_topology
from kurz.db import create_pool
from kurz.edge_cache import EdgeCache
from kurz.logs import log_as
from kurz.observability import OPERATOR_PATHS, serve_operator_path
from kurz.proxies import ProxyHeaders, TrustedProxies
from kurz.settings import Settings, load_settings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

from kurz_management import openapi
from kurz_management.context import AppContext
from kurz_management.core import edge_sync
from kurz_management.metrics import MetricsMiddleware


class _OperatorEndpoint:
    """/healthz, /readyz and /metrics as a plain ASGI endpoint: Starlette hands the
    request through untouched, so the shared answer is sent as it is."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        ctx: AppContext = scope["app"].state.ctx

        async def ready() -> None:
            await ctx.pool.fetchval("SELECT 1")
            await ctx.redis.ping()

        await serve_operator_path(scope, send, ready)


def _routes() -> tuple[list[BaseRoute], list[openapi.FamilyDoc]]:
    """Every route the app serves, and the descriptions of the API families among them
    (each API route carries its own OpenAPI entry)."""
    from kurz_management import apidocs, console
    from kurz_management.linkly import routes as linkly
    from kurz_management.native import routes as native
    from kurz_management.statspage import routes as statspage
    from kurz_management.vivoldi import routes as vivoldi

    endpoint = _OperatorEndpoint()
    operator = [Route(path, endpoint, methods=["GET"]) for path in sorted(OPERATOR_PATHS)]
    routes = [
        *operator,
        *openapi.routes,
        *apidocs.routes,
        *native.routes,
        *vivoldi.routes,
        *linkly.routes,
        *statspage.routes,
        *console.routes,
    ]
    return routes, [native.DOC, vivoldi.DOC, linkly.DOC]


async def _not_routed(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods answer JSON like the APIs, not Starlette's plain text;
    a 405 names in `Allow` every method some route of the path documents (Starlette's own
    names only the first route's, and a path may have a route per method)."""
    status = getattr(exc, "status_code", 404)
    if status != 405:
        return JSONResponse({"error": "no such endpoint"}, status_code=status)
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match == Match.PARTIAL and isinstance(route, Route) and route.methods:
            # A documented route names its operation's method, not every method a family
            # takes to word its own 405.
            if isinstance(route, openapi.DocumentedRoute):
                allowed |= route.documented_methods
            else:
                allowed |= route.methods
    headers = {"Allow": ", ".join(sorted(allowed))} if allowed else None
    message = f"method {request.method} not allowed"
    return JSONResponse({"error": message}, status_code=405, headers=headers)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    log_as("management", settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pool = await create_pool(
            settings.database.url,
            min_size=settings.database.pool_min,
            max_size=settings.database.pool_max,
        )
        # Bounded waits: a Redis that hangs must not hang the API (writes log and go on).
        redis = redis_topology.client(
            settings.redis.url, socket_connect_timeout=2, socket_timeout=5
        )
        app.state.ctx = ctx = AppContext(settings, pool, redis, EdgeCache(redis))
        healer = asyncio.create_task(edge_sync.run_healer(ctx), name="edge outbox healer")
        try:
            yield
        finally:
            healer.cancel()
            await asyncio.wait([healer], timeout=5)
            await redis.aclose()
            await pool.close()

    routes, families = _routes()
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(ProxyHeaders, TrustedProxies(settings.server.forwarded_allow_ips)),
            Middleware(MetricsMiddleware),
        ],
        exception_handlers={404: _not_routed, 405: _not_routed},
    )
    # The document of the very routes served: built once, from the same list.
    app.state.openapi_json = msgspec.json.encode(openapi.document(routes, families))
    return app
