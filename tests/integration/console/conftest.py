from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.console import new_user, sign_in
from tests.support.inprocess import InProcessApp, management_app


@pytest.fixture(scope="module")
async def app(database_url: str, redis_url: str) -> AsyncIterator[InProcessApp]:
    async with management_app(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN) as a:
        yield a


@pytest.fixture
async def owner(
    app: InProcessApp, pool: asyncpg.Pool[Any], workspace: Workspace
) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in to the console as an owner of `workspace`."""
    async with app.client() as client:
        assert (await sign_in(client, *await new_user(pool, workspace.id))).status_code == 303
        yield client
