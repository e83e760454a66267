"""A dependency fault is answered the same way by every API family.

Postgres restarting (its sessions terminated, new ones refused while it shuts down):
503 in the family's envelope, and the family works again once Postgres is back. Redis
refusing in any way (unreachable, a read-only replica, a cluster node without the slot,
a cluster that moved the slot): the API goes on, since Postgres is its truth; the rate
limit is skipped (no rate-limit headers) and the link is written."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz.db import create_pool
from kurz.dev.servers import Postgres, Redis, _as_postgres_user, _pg_bindir, free_port

from tests.conftest import new_workspace
from tests.support.families import FAMILIES, Family
from tests.support.inprocess import management_client
from tests.support.waiting import wait_for

RATE_HEADERS = {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"}


def _pg_ctl(pg: Postgres, *args: str) -> None:
    data = pg.root / "pgdata"
    command = [str(_pg_bindir() / "pg_ctl"), *args, "-D", str(data)]
    subprocess.run(_as_postgres_user(command), check=True, stdout=subprocess.DEVNULL)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
async def test_postgres_restarting_answers_503_then_recovers(
    family: Family, own_postgres: Postgres, redis_url: str
) -> None:
    pool = await create_pool(own_postgres.url, max_size=2)
    try:
        tenant = await new_workspace(pool)
    finally:
        await pool.close()
    async with management_client(own_postgres.url, redis_url, DATABASE_POOL_MAX="2") as http:
        assert family.created(await family.create(http, tenant.key, tenant.id, "https://a.test/"))
        held = await asyncpg.connect(own_postgres.url)
        try:
            # A smart shutdown refuses new sessions ("the database system is shutting
            # down") until the last one ends; the app's own sessions are terminated.
            _pg_ctl(own_postgres, "stop", "-m", "smart", "-W")
            await held.execute(
                """SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                   WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"""
            )
            for n in range(4):
                answer = await family.create(http, tenant.key, tenant.id, f"https://b.test/{n}")
                family.assert_refused(answer, 503)
        finally:
            await held.close()
        if own_postgres.process is not None:
            own_postgres.process.wait(30)
        own_postgres.start()

        async def works_again() -> bool:
            answer = await family.create(http, tenant.key, tenant.id, "https://c.test/")
            return family.created(answer)

        await wait_for(works_again, 20, f"{family.name} to work after the restart")


def _cluster_node(root: Path) -> tuple[Redis, int]:
    """A cluster-enabled node and its cluster bus port (the default, port + 10000, may
    be past 65535 for a free port)."""
    bus = free_port()
    options = (
        "--cluster-enabled", "yes", "--cluster-config-file", str(root / "nodes.conf"),
        "--cluster-port", str(bus),
    )  # fmt: skip
    return Redis(root, free_port(), options=options).start(), bus


@pytest.fixture(scope="module")
async def refusing_redis(
    tmp_path_factory: pytest.TempPathFactory, redis_server: Redis
) -> AsyncIterator[dict[str, str]]:
    """Redis URLs that refuse every command the API sends, each in its own way."""
    root = tmp_path_factory.mktemp("policy-redis")
    replica = Redis(
        root / "replica", free_port(), options=("--replicaof", "127.0.0.1", str(redis_server.port))
    ).start()
    slotless, _ = _cluster_node(root / "slotless")
    owner, owner_bus = _cluster_node(root / "owner")
    moved, _ = _cluster_node(root / "moved")
    nodes = [replica, slotless, owner, moved]
    try:
        async with (
            aioredis.Redis(port=owner.port) as first,
            aioredis.Redis(port=moved.port) as other,
        ):
            await first.execute_command("CLUSTER ADDSLOTSRANGE", 0, 16383)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
            await other.execute_command("CLUSTER MEET", "127.0.0.1", owner.port, owner_bus)  # type: ignore[no-untyped-call]  # redis-py leaves it untyped

            async def slots_known() -> bool:
                info = await other.execute_command("CLUSTER INFO")  # type: ignore[no-untyped-call]  # redis-py leaves it untyped
                return bool(info["cluster_state"] == "ok")

            await wait_for(slots_known, 20, "the second node to learn the slots")
        yield {
            "unreachable": f"redis://127.0.0.1:{free_port()}/0",
            "read-only replica": replica.url,
            "cluster slot not served": slotless.url,
            "cluster slot moved": moved.url,
        }
    finally:
        for node in nodes:
            node.stop()


KINDS = ["unreachable", "read-only replica", "cluster slot not served", "cluster slot moved"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("family", FAMILIES, ids=lambda f: f.name)
async def test_redis_refusing_in_any_way_lets_the_api_write(
    family: Family,
    kind: str,
    refusing_redis: dict[str, str],
    pool: asyncpg.Pool[Any],
    database_url: str,
) -> None:
    tenant = await new_workspace(pool)
    url = f"https://example.com/{family.name}/{kind.replace(' ', '-')}"
    async with management_client(database_url, refusing_redis[kind]) as http:
        answer = await asyncio.wait_for(family.create(http, tenant.key, tenant.id, url), 15)
    assert family.created(answer), (answer.status_code, answer.text)
    assert not RATE_HEADERS & set(answer.headers)
    stored = await pool.fetchval(
        "SELECT count(*) FROM links WHERE workspace_id = $1 AND url = $2", tenant.id, url
    )
    assert stored == 1
