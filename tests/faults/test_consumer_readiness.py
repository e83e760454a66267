"""A consumer whose every batch fails is not ready, though Redis answers PING and Postgres
answers SELECT 1: both consumers pointed at a Redis that turned read-only (a replica,
as a demoted master is) report not ready, and ready again once it takes writes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import redis
from kurz.dev.servers import Redis, free_port

from tests.faults.kit import in_thread
from tests.support.services import Stack, service_env
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


async def test_consumers_whose_batches_keep_failing_are_not_ready(
    database_url: str, tmp_path: Path
) -> None:
    master = Redis(tmp_path / "master", free_port()).start()
    follow = ("--replicaof", "127.0.0.1", str(master.port))
    replica = Redis(tmp_path / "replica", free_port(), options=follow).start()
    stack = Stack(service_env(database_url, replica.url, KURZ_AGGREGATOR_BLOCK_MS="200"), tmp_path)
    consumers = [stack.add("aggregator"), stack.add("webhook-worker")]
    try:
        await asyncio.gather(*(in_thread(c.start) for c in consumers))
        assert redis.Redis(port=replica.port).ping()  # what readiness used to ask

        async def readiness() -> list[int]:
            async with httpx.AsyncClient(timeout=5) as client:
                answers = [await client.get(c.url + "/readyz") for c in consumers]
            return [a.status_code for a in answers]

        async def not_ready() -> bool:
            return await readiness() == [503, 503]

        await wait_for(not_ready, 30, "both consumers not ready while every batch fails")
        async with httpx.AsyncClient() as client:
            said = (await client.get(consumers[0].url + "/readyz")).text
        assert "failed in a row" in said and "ReadOnly" in said, said

        redis.Redis(port=replica.port).replicaof("NO", "ONE")  # it takes writes again

        async def ready() -> bool:
            return await readiness() == [200, 200]

        await wait_for(ready, 30, "both consumers ready once their batches succeed")
    finally:
        stack.stop()
        replica.stop()
        master.stop()
