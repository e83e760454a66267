"""The security suite's servers: a management process and a redirector process on free
ports over the session's Postgres and Redis, and clients speaking each family's auth."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.services import Service, Stack, service_env

MAX_BODY = 200_000
BULK_MAX = 1000
MANAGEMENT_ENV = {
    "KURZ_DEFAULT_DOMAIN": DEFAULT_DOMAIN,
    "KURZ_DOMAIN_VERIFICATION": "trust",
    "KURZ_API_MAX_BODY": str(MAX_BODY),
    "KURZ_BULK_MAX": str(BULK_MAX),
    "KURZ_API_RATE_LIMIT": "100000",
    # The guard is on here: registration must refuse private targets.
    "KURZ_WEBHOOK_ALLOW_PRIVATE": "false",
}
REDIRECTOR_ENV = {
    "KURZ_DEFAULT_DOMAIN": DEFAULT_DOMAIN,
    "KURZ_PASSWORD_ATTEMPTS": "3",
    "KURZ_PASSWORD_WINDOW": "300",
    "KURZ_COOKIE_SECRET": "security-cookie-secret",
    "KURZ_VISITOR_SECRET": "security-visitor-secret",
}


def start(
    name: str, database_url: str, redis_url: str, logs: Path, env: dict[str, str]
) -> tuple[Stack, Service]:
    logs.mkdir(parents=True, exist_ok=True)
    # service_env allows private webhook targets for the other suites; this one does not.
    stack = Stack({**service_env(database_url, redis_url), **env}, logs)
    return stack, stack.add(name).start()


@pytest.fixture(scope="session")
def management(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    stack, service = start(
        "management", database_url, redis_url, tmp_root / "security-management", MANAGEMENT_ENV
    )
    yield service
    stack.stop()


@pytest.fixture(scope="session")
def redirector(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    stack, service = start(
        "redirector", database_url, redis_url, tmp_root / "security-redirector", REDIRECTOR_ENV
    )
    yield service
    stack.stop()


@pytest.fixture
async def http(management: Service) -> AsyncIterator[httpx.AsyncClient]:
    """Unauthenticated: each test sends the key the way its family expects."""
    async with httpx.AsyncClient(base_url=management.url, timeout=30) as client:
        yield client


@pytest.fixture
async def edge(redirector: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=redirector.url,
        headers={"Host": DEFAULT_DOMAIN},
        follow_redirects=False,
        timeout=30,
    ) as client:
        yield client


def family_headers(family: str, ws: Workspace) -> dict[str, str]:
    """How each family carries the key (OpenAPI security schemes)."""
    if family == "vivoldi":
        return {"Authorization": f"APIKey {ws.key}"}
    if family == "linkly":
        return {"X-API-KEY": ws.key, "X-WORKSPACE-ID": str(ws.id)}
    return ws.bearer
