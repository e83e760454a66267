"""A real management server process for the Vivoldi family's tests, and a client that
speaks the family's auth scheme."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.services import Service, one_service, service_env


@pytest.fixture(scope="session")
def management(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    env = service_env(
        database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN, KURZ_API_RATE_LIMIT="100000"
    )
    yield from one_service("management", env, tmp_root / "vivoldi-logs")


@pytest.fixture
async def api(management: Service, workspace: Workspace) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as the test's workspace with `APIKey <key>`."""
    async with httpx.AsyncClient(
        base_url=management.url, headers={"Authorization": f"APIKey {workspace.key}"}, timeout=10
    ) as client:
        yield client


def client_for(management: Service, ws: Workspace) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=management.url, headers={"Authorization": f"APIKey {ws.key}"}, timeout=10
    )
