"""Helpers for the aggregator's tests: events built with kurz.events, a fresh stream per
test (the session's Redis is shared), and an Aggregator running in burst mode."""

from __future__ import annotations

import itertools
import math
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.events import BATCH_FIELD, FIELD, ClickEvent, encode_batch, encode_event, new_event_id
from kurz.settings import AggregatorSettings
from kurz_aggregator.worker import Aggregator

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

_link_ids = itertools.count(10_000_000 + uuid.uuid4().int % 1_000_000 * 100)


def new_link_id() -> int:
    """Link ids no other test uses (clicks need no row in `links`)."""
    return next(_link_ids)


def at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def click(workspace_id: int, link_id: int, **fields: Any) -> ClickEvent:
    when = fields.pop("at", None) or at("2025-06-01T12:00:00+00:00")
    values: dict[str, Any] = {
        "id": new_event_id(when if math.isfinite(when) else None), "at": when,
        "workspace_id": workspace_id, "link_id": link_id, "group_id": None,
        "host": "kurz.test", "slug": "s",
        "destination": "https://example.com/", "rule": None, "outcome": "redirect",
        "visitor": "v1", "country": "DE", "referrer": None, "user_agent": BROWSER,
    }  # fmt: skip
    values.update(fields)
    return ClickEvent(**values)


async def add(
    redis: aioredis.Redis, stream: str, events: Iterable[ClickEvent], *, batch: bool = False
) -> list[bytes]:
    """An entry per event, or with `batch` one entry holding them all (as the edge writes)."""
    if batch:
        encoded = encode_batch([encode_event(event) for event in events])
        return [cast(bytes, await redis.xadd(stream, {BATCH_FIELD: encoded}))]
    async with redis.pipeline(transaction=False) as pipe:
        for event in events:
            pipe.xadd(stream, {FIELD: encode_event(event)})
        ids: list[bytes] = await pipe.execute()
    return ids


AggregatorFactory = Callable[..., Aggregator]


@pytest.fixture
def stream() -> str:
    return f"clicks-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_aggregator(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, stream: str
) -> AggregatorFactory:
    def make(consumer: str = "test", **settings: Any) -> Aggregator:
        # Test events are dated in the past: keep them, whatever their age.
        values: dict[str, Any] = {
            "claim_idle_ms": 60_000, "batch_size": 100, "click_retention_days": 0,
            "visitor_mark_days": 0,
        }  # fmt: skip
        values.update(settings)
        return Aggregator(
            pool, redis, AggregatorSettings(**values), consumer=consumer, stream=stream
        )

    return make


async def pending(redis: aioredis.Redis, stream: str) -> int:
    summary = await redis.xpending(stream, keys.AGGREGATOR_GROUP)
    return int(summary["pending"])
