"""Fault fixtures: a Postgres and a Redis of the fault suite's own (its tests stop, flush
and cut them, so the session's servers stay up for every other test), the services as
real processes against them, and clients of the management API.

Every redirector of the suite listens on one port chosen for the session: its address
is the default short domain, so links created in one test stay reachable in the next."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz.db import create_pool
from kurz.dev.servers import Postgres, Redis, _as_postgres_user, _pg_bindir, free_port
from kurz.migrate import apply_migrations

from tests.conftest import Workspace, new_workspace
from tests.faults.kit import in_thread
from tests.support.services import Service, Stack, service_env
from tests.support.tcpproxy import TcpProxy


@dataclass
class FaultServers:
    postgres: Postgres
    redis: Redis
    edge_port: int

    @property
    def edge_host(self) -> str:
        return f"127.0.0.1:{self.edge_port}"

    def stop_postgres(self) -> None:
        """A fast shutdown: sessions end, open transactions roll back, data stays."""
        data = self.postgres.root / "pgdata"
        subprocess.run(
            _as_postgres_user([str(_pg_bindir() / "pg_ctl"), "stop", "-D", str(data), "-m",
                               "fast", "-w", "-t", "30"]),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if self.postgres.process is not None:
            self.postgres.process.wait(10)

    def start_postgres(self) -> None:
        self.postgres.start()


@pytest.fixture(scope="session")
def fault_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultServers]:
    root = tmp_path_factory.mktemp("faults")
    pg = Postgres(root / "postgres", free_port(), ephemeral=True).start()
    try:
        apply_migrations(pg.url)
        rd = Redis(root / "redis", free_port()).start()
        try:
            yield FaultServers(pg, rd, free_port())
        finally:
            rd.stop()
    finally:
        pg.stop()


@pytest.fixture(scope="session")
async def fault_pool(fault_servers: FaultServers) -> AsyncIterator[asyncpg.Pool[Any]]:
    """Straight to the fault Postgres (never through a test's proxy)."""
    pool = await create_pool(fault_servers.postgres.url, max_size=4)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def fault_redis(fault_servers: FaultServers) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(fault_servers.redis.url)
    yield client
    await client.aclose()


@pytest.fixture
async def tenant(fault_pool: asyncpg.Pool[Any]) -> AsyncIterator[Workspace]:
    """A fresh workspace in the fault Postgres. At teardown its unsent webhook deliveries
    are retired, so no later test's worker sends them to a port reused by then."""
    tenant = await new_workspace(fault_pool, "faults")
    yield tenant
    await fault_pool.execute(
        "UPDATE webhook_deliveries SET status = 'dead' WHERE workspace_id = $1 "
        "AND status = 'pending'",
        tenant.id,
    )


ServiceFactory = Callable[..., Stack]


@pytest.fixture
def services(fault_servers: FaultServers, tmp_path: Path) -> Iterator[ServiceFactory]:
    """`services(**env)` → a Stack against the fault servers; every process it starts
    is stopped at teardown."""
    stacks: list[Stack] = []

    def make(**env: str) -> Stack:
        base = service_env(
            fault_servers.postgres.url,
            fault_servers.redis.url,
            KURZ_DEFAULT_DOMAIN=fault_servers.edge_host,
            KURZ_API_RATE_LIMIT="100000",
            KURZ_SHUTDOWN_GRACE="10",
        )
        base.update(env)
        stack = Stack(base, tmp_path)
        stacks.append(stack)
        return stack

    yield make
    # In parallel: each service may take its whole drain time to stop.
    running = [svc for stack in stacks for svc in stack.services.values()]
    with ThreadPoolExecutor(max_workers=max(len(running), 1)) as pool:
        list(pool.map(lambda svc: svc.stop(), running))


def add_redirector(stack: Stack, fault_servers: FaultServers, **env: str) -> Service:
    """The redirector on the session's edge port (not started)."""
    service = stack.add("redirector", **env)
    service.port = fault_servers.edge_port
    return service


async def start_pipeline(stack: Stack, fault_servers: FaultServers) -> tuple[Service, Service]:
    """Management, the redirector on the edge port, the aggregator and the webhook worker,
    started side by side; (management, redirector)."""
    management = stack.add("management")
    redirector = add_redirector(stack, fault_servers)
    workers = [stack.add("aggregator"), stack.add("webhook-worker")]
    await asyncio.gather(*(in_thread(s.start) for s in (management, redirector, *workers)))
    return management, redirector


@pytest.fixture
def proxies() -> Iterator[Callable[[int], TcpProxy]]:
    started: list[TcpProxy] = []

    def make(target_port: int) -> TcpProxy:
        proxy = TcpProxy(target_port).start()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.stop()


def api(service: Service, tenant: Workspace) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=service.url, headers=tenant.bearer, timeout=60)


async def create_links(client: httpx.AsyncClient, n: int, **fields: Any) -> list[dict[str, Any]]:
    """`n` links through the native API; destinations differ by number."""
    links = []
    for i in range(n):
        body = {"url": f"https://example.com/landing/{i}", **fields}
        answer = await client.post("/api/v1/links", json=body)
        assert answer.status_code == 201, answer.text
        links.append(answer.json()["link"])
    return links
