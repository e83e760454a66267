"""The management app in this process for the Vivoldi family's tests (the suite's real
Postgres and Redis; no server process, which is not what they test), and clients that
speak the family's auth scheme."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.inprocess import InProcessApp, management_app


@pytest.fixture
async def management(database_url: str, redis_url: str) -> AsyncIterator[InProcessApp]:
    async with management_app(
        database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN, KURZ_API_RATE_LIMIT="100000"
    ) as app:
        yield app


@pytest.fixture
async def api(management: InProcessApp, workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as the test's workspace with `APIKey <key>`."""
    async with client_for(management, workspace) as client:
        yield client


def client_for(management: InProcessApp, ws: Workspace) -> httpx.AsyncClient:
    return management.client({"Authorization": f"APIKey {ws.key}"})
