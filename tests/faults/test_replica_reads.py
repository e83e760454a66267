"""The redirector reading a Postgres streaming replica that falls behind.

A primary and a streaming replica of it (pg_basebackup from the same binaries), the
replica's replay paused to make it lag at will. With the replica behind:
- a link deleted on the primary is not brought back: the replica still has the row, but
  the primary, asked whether it is current, says it is gone, so the visit is a 404 and
  Redis is not refilled with it;
- a link made on the primary, whose Redis record was lost, is a miss on the replica for
  a second at most once the replica has replayed it, not for the cache's minute."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.db import create_pool
from kurz.dev.servers import (
    Postgres,
    Redis,
    _as_postgres_user,
    _pg_bindir,
    _postgres_home,
    free_port,
)
from kurz.migrate import apply_migrations

from tests.conftest import new_workspace
from tests.faults.kit import in_thread, metric
from tests.support.services import Stack, service_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


def replica_of(primary: Postgres, root: Path) -> Postgres:
    """A streaming replica of `primary`, from a base backup of it."""
    home = _postgres_home(root.resolve())
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    shutil.chown(home, "postgres", "postgres")
    subprocess.run(
        _as_postgres_user([
            str(_pg_bindir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
            "-U", "postgres", "-D", str(home / "pgdata"), "-R", "-X", "stream", "--no-sync",
            "-c", "fast",
        ]),
        check=True, capture_output=True,
    )  # fmt: skip
    return Postgres(home, free_port(), ephemeral=True).start()


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[tuple[Postgres, Postgres]]:
    primary = Postgres(tmp_path / "primary", free_port(), ephemeral=True).start()
    try:
        apply_migrations(primary.url)
        replica = replica_of(primary, tmp_path / "replica")
        try:
            yield primary, replica
        finally:
            replica.stop()
    finally:
        primary.stop()


async def test_a_lagging_replica_neither_resurrects_nor_hides_links(
    databases: tuple[Postgres, Postgres], tmp_path: Path
) -> None:
    primary, replica = databases
    redis_server = Redis(tmp_path / "redis", free_port()).start()
    edge = f"127.0.0.1:{free_port()}"
    stack = Stack(
        service_env(primary.url, redis_server.url, KURZ_DEFAULT_DOMAIN=edge,
                    KURZ_API_RATE_LIMIT="100000"),
        tmp_path,
    )  # fmt: skip
    management = stack.add("management")
    redirector = stack.add("redirector", DATABASE_REPLICA_URL=replica.url)
    redirector.port = int(edge.rsplit(":", 1)[1])
    primary_pool = await create_pool(primary.url, max_size=2)
    replica_pool = await create_pool(replica.url, max_size=2)
    redis = aioredis.Redis.from_url(redis_server.url)
    try:
        await asyncio.gather(in_thread(management.start), in_thread(redirector.start))
        tenant = await new_workspace(primary_pool)
        api = httpx.AsyncClient(base_url=management.url, headers=tenant.bearer, timeout=30)

        async def create(slug: str) -> dict[str, Any]:
            made = await api.post("/api/v1/links", json={"url": f"https://example.com/{slug}",
                                                          "customSlug": slug})  # fmt: skip
            assert made.status_code == 201, made.text
            link: dict[str, Any] = made.json()["link"]
            return link

        async def on_replica(link_id: int) -> bool:
            found = await replica_pool.fetchval(
                "SELECT count(*) FROM links WHERE id = $1 AND deleted_at IS NULL", link_id
            )
            return bool(found)

        async def visit(slug: str) -> int:
            async with httpx.AsyncClient() as visitor:
                answer = await visitor.get(f"http://{edge}/{slug}", follow_redirects=False)
            return answer.status_code

        deleted = await create("lag-deleted")
        await wait_for(lambda: on_replica(int(deleted["id"])), 20, "the replica has the link")
        await replica_pool.execute("SELECT pg_wal_replay_pause()")

        # Deleted on the primary (and in Redis); the paused replica still has it.
        assert (await api.delete(f"/api/v1/links/{deleted['id']}")).status_code == 204
        assert await on_replica(int(deleted["id"]))
        assert await visit("lag-deleted") == 404
        assert await redis.exists(keys.link(edge, "lag-deleted")) == 0
        stale = metric(httpx.get(redirector.url + "/metrics").text,
                       "kurz_edge_replica_stale_reads_total")  # fmt: skip
        assert stale >= 1

        # Made on the primary while the replica is paused; its Redis record lost.
        fresh = await create("lag-fresh")
        await redis.delete(keys.link(edge, "lag-fresh"))
        assert await visit("lag-fresh") == 404  # not on the replica yet
        await replica_pool.execute("SELECT pg_wal_replay_resume()")
        await wait_for(lambda: on_replica(int(fresh["id"])), 20, "the replica caught up")

        async def redirects() -> bool:
            return await visit("lag-fresh") == 302

        # Well inside the edge cache's minute, which a miss on the primary is kept for.
        await wait_for(redirects, 10, "the new link redirects once the replica has it")
        # Found current on the primary: Redis has it again; the deleted link stays gone.
        assert await redis.exists(keys.link(edge, "lag-fresh")) == 1
        assert await visit("lag-deleted") == 404
        assert await redis.exists(keys.link(edge, "lag-deleted")) == 0
        await api.aclose()
    finally:
        await redis.aclose()
        await primary_pool.close()
        await replica_pool.close()
        stack.stop()
        redis_server.stop()
