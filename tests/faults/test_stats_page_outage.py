"""The public statistics page while Postgres or Redis does not answer: a page saying so,
503 with Retry-After, never a server error; and the page again once they are back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from kurz.passwords import hash_password

from tests.conftest import Workspace
from tests.faults.conftest import FaultServers, ServiceFactory
from tests.faults.kit import in_thread
from tests.integration.analytics.conftest import add_group, add_link
from tests.support.tcpproxy import TcpProxy

pytestmark = pytest.mark.slow


def _is_outage_page(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text[:200]
    assert answer.headers["retry-after"] == "5"
    assert answer.headers["content-type"].startswith("text/html")
    assert "Statistics unavailable" in answer.text


async def test_stats_page_answers_503_while_a_dependency_is_down(
    fault_servers: FaultServers,
    services: ServiceFactory,
    proxies: Callable[[int], TcpProxy],
    fault_pool: asyncpg.Pool[Any],
    tenant: Workspace,
) -> None:
    database = proxies(fault_servers.postgres.port)
    redis = proxies(fault_servers.redis.port)
    stack = services(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{database.port}/kurz",
        REDIS_URL=f"redis://127.0.0.1:{redis.port}/0",
    )
    management = stack.add("management")
    await in_thread(management.start)
    group = await add_group(
        fault_pool, tenant.id, "Outage", stats_password_hash=hash_password("secret")
    )
    page = f"/stats/g/{group}"
    link, _ = await add_link(fault_pool, tenant.id, None, public_analytics=True)
    link_page = f"/stats/l/{link}"
    async with httpx.AsyncClient(base_url=management.url, timeout=30) as http:
        assert (await http.get(page)).status_code == 200
        assert (await http.get(link_page)).status_code == 200
        database.cut()
        _is_outage_page(await http.get(page))
        _is_outage_page(await http.get(link_page))  # never the 404 of a private link
        _is_outage_page(await http.post(page, data={"password": "secret"}))
        database.restore()
        assert (await http.get(link_page)).status_code == 200
        redis.cut()
        assert (await http.get(page)).status_code == 200  # the form needs no Redis
        _is_outage_page(await http.post(page, data={"password": "secret"}))
        redis.restore()
        assert (await http.post(page, data={"password": "secret"})).status_code == 303
