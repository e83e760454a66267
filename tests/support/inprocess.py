"""The management app in this process, on the suite's real Postgres and Redis, answered
through httpx's ASGI transport: no server process where the process is not the point."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
from kurz.settings import load_settings
from kurz_management.app import create_app

from tests.support.services import service_env


class InProcessApp:
    """A management app running in this process; `client()` makes clients of it, as a
    running server's URL would (each its own headers, the same app)."""

    def __init__(self, transport: httpx.ASGITransport) -> None:
        self._transport = transport

    def client(self, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=self._transport, base_url="http://kurz.test", headers=headers
        )


@contextlib.asynccontextmanager
async def management_app(
    database_url: str, redis_url: str, *, client: str = "127.0.0.1", **env: str
) -> AsyncIterator[InProcessApp]:
    """A management app started (lifespan and all) for the block."""
    app = create_app(load_settings(service_env(database_url, redis_url, **env)))
    async with app.router.lifespan_context(app):
        yield InProcessApp(httpx.ASGITransport(app=app, client=(client, 40000)))


@contextlib.asynccontextmanager
async def management_client(
    database_url: str, redis_url: str, *, client: str = "127.0.0.1", **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a management app started (lifespan and all) for the block; requests
    come from the address `client`."""
    app = create_app(load_settings(service_env(database_url, redis_url, **env)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://kurz.test") as http:
            yield http


def app_document() -> dict[str, Any]:
    """The OpenAPI document a management app builds from the routes it serves."""
    app = create_app(load_settings({}))
    document: dict[str, Any] = msgspec.json.decode(app.state.openapi_json)
    return document
