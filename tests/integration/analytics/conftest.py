"""A management server, and one workspace's clicks written through the aggregator's own
row builder and batch writer, so every statistics endpoint reads real rollups and raw
clicks with known, hand-counted figures (the table in `Seeded`'s docstring)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import msgspec
import pytest
from kurz.events import ClickEvent, new_event_id
from kurz_aggregator.lookups import Lookups
from kurz_aggregator.rows import to_row, utc_days
from kurz_aggregator.writer import ensure_partitions, write_batch

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.conftest import new_workspace as any_workspace
from tests.support.inprocess import management_client
from tests.support.rows import insert_row

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
async def http(database_url: str, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The management app in this process: the statistics endpoints and pages."""
    async with management_client(
        database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN,
        KURZ_API_RATE_LIMIT="100000", KURZ_PASSWORD_ATTEMPTS="3",
        KURZ_COOKIE_SECRET="analytics-test-secret",
    ) as client:  # fmt: skip
        yield client


async def new_workspace(pool: asyncpg.Pool[Any], **extra: Any) -> Workspace:
    return await any_workspace(pool, "stats", **extra)


async def add_group(pool: asyncpg.Pool[Any], workspace_id: int, name: str, **cols: Any) -> int:
    return await insert_row(
        pool, "link_groups", {"workspace_id": workspace_id, "name": name, **cols}
    )


async def add_link(
    pool: asyncpg.Pool[Any], workspace_id: int, group_id: int | None, **cols: Any
) -> tuple[int, str]:
    slug = f"s{uuid.uuid4().hex[:10]}"
    values = {"host": DEFAULT_DOMAIN, "slug": slug, "url": "https://example.com/", **cols}
    link_id = await insert_row(
        pool, "links", {"workspace_id": workspace_id, "group_id": group_id, **values}
    )
    return link_id, slug


def at(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def click(
    ws: int, link: int, group: int | None, when: str, visitor: str, **fields: Any
) -> ClickEvent:
    moment = at(when)
    values: dict[str, Any] = {
        "id": new_event_id(moment), "at": moment, "workspace_id": ws, "link_id": link,
        "group_id": group, "host": DEFAULT_DOMAIN, "slug": "s",
        "destination": "https://example.com/", "rule": None, "outcome": "redirect",
        "visitor": visitor, "country": "DE", "referrer": None, "user_agent": FIREFOX,
    }  # fmt: skip
    values.update(fields)
    return ClickEvent(**values)


async def record(pool: asyncpg.Pool[Any], events: list[ClickEvent]) -> None:
    """What the aggregator does with a batch: enrich, then one transaction."""
    lookups = Lookups(ttl=0)
    async with pool.acquire() as conn:
        await lookups.load(
            conn,
            {e.workspace_id for e in events},
            {e.group_id for e in events if e.group_id is not None},
        )
        rows = [to_row(e, lookups) for e in events]
        await ensure_partitions(conn, sorted(utc_days(rows)))
        await write_batch(conn, rows)


class Seeded(msgspec.Struct):
    """Workspace `ws` (UTC, home country DE) and its clicks ("v1 09 DE x2": visitor v1,
    twice at 09:xx from Germany; Firefox on Linux unless said):

    - 2025-08-01, l1 (group a): v1 09 DE x2 (referrer news.example.com), v2 14 US iPhone;
      not counted: Googlebot 12, a HEAD request 13
    - 2025-08-01, l2 (a): v1 09 DE, v4 20 FR
    - 2025-08-01, l3 (group b, blockOverseasSticsYn): v5 11 DE; not counted: v6 11 US
    - 2025-08-02, l1 (a): v1 10 DE, v7 15 DE

    Day 1: a 5 clicks / 3 visitors, b 1/1, workspace 6/4 (hour 09: 3/1).
    Day 2: a 2/2, workspace 2/2. l1 has utm_source=newsletter, utm_campaign=aug;
    l1 and l2 carry the tag "promo"."""

    ws: Workspace
    a: int
    b: int
    l1: int
    l2: int
    l3: int
    slug1: str


@pytest.fixture
async def seeded(pool: asyncpg.Pool[Any]) -> Seeded:
    ws = await new_workspace(pool, home_country="DE")
    a = await add_group(pool, ws.id, "Electronics")
    b = await add_group(pool, ws.id, "Kitchenware", block_overseas_stats=True)
    l1, slug1 = await add_link(pool, ws.id, a, utm_source="newsletter", utm_campaign="aug")
    l2, _ = await add_link(pool, ws.id, a)
    l3, _ = await add_link(pool, ws.id, b)
    tag = await pool.fetchval(
        "INSERT INTO tags (workspace_id, name) VALUES ($1, 'promo') RETURNING id", ws.id
    )
    await pool.execute(
        "INSERT INTO link_tags (link_id, tag_id) VALUES ($1, $3), ($2, $3)", l1, l2, tag
    )
    w, d1, d2 = ws.id, "2025-08-01T", "2025-08-02T"
    ref = "https://news.example.com/article"
    await record(pool, [
        click(w, l1, a, d1 + "09:00:00+00:00", "v1", referrer=ref),
        click(w, l1, a, d1 + "09:30:00+00:00", "v1", referrer=ref),
        click(w, l1, a, d1 + "14:00:00+00:00", "v2", country="US", user_agent=IPHONE),
        click(w, l1, a, d1 + "12:00:00+00:00", "bot", user_agent=GOOGLEBOT),
        click(w, l1, a, d1 + "13:00:00+00:00", "v3", method="HEAD"),
        click(w, l2, a, d1 + "09:45:00+00:00", "v1"),
        click(w, l2, a, d1 + "20:00:00+00:00", "v4", country="FR"),
        click(w, l3, b, d1 + "11:00:00+00:00", "v5"),
        click(w, l3, b, d1 + "11:30:00+00:00", "v6", country="US"),
        click(w, l1, a, d2 + "10:00:00+00:00", "v1"),
        click(w, l1, a, d2 + "15:00:00+00:00", "v7"),
    ])  # fmt: skip
    return Seeded(ws, a, b, l1, l2, l3, slug1)
