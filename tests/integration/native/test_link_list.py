"""The link list every family and the console share (`list_links`): the state filter,
sorting by clicks the aggregator counted, search text taken literally, and the search
served by the trigram indexes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from kurz.models import LinkSpec
from kurz_management.context import AppContext
from kurz_management.core.auth import Principal
from kurz_management.core.links import service
from kurz_management.core.links.reads import page_query
from kurz_management.core.links.service import LinkError, LinkQuery

from tests.conftest import Workspace
from tests.integration.analytics.conftest import click, record


async def _link(ctx: AppContext, principal: Principal, **fields: Any) -> int:
    made = await service.create_link(
        ctx, principal, LinkSpec(url="https://example.com/list", **fields)
    )
    return made.id


async def _clicks(pool: asyncpg.Pool[Any], ws: int, link: int, n: int, day: str) -> list[Any]:
    """`n` counted clicks on `link`, written as the aggregator writes a batch."""
    events = [click(ws, link, None, f"{day}T10:{i:02d}:00+00:00", f"v{i}") for i in range(n)]
    await record(pool, events)
    return events


async def _ids(ctx: AppContext, principal: Principal, query: LinkQuery) -> list[int]:
    records, total = await service.list_links(ctx, principal, query)
    assert total == len(records)
    return [r.id for r in records]


async def test_state_filter_splits_links_as_the_edge_decides_a_visit(
    ctx: AppContext, principal: Principal, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    now = datetime.now(UTC)
    plain = await _link(ctx, principal)
    off = await _link(ctx, principal, enabled=False)
    ends_later = await _link(ctx, principal, expires_at=now + timedelta(days=1))
    under_limit = await _link(ctx, principal, max_clicks=3)
    at_limit = await _link(ctx, principal, max_clicks=2)
    timed_out = await _link(ctx, principal)
    off_and_ended = await _link(ctx, principal, enabled=False)
    scheduled = await _link(ctx, principal, starts_at=now + timedelta(days=1))
    # An end in the past is refused by validation; the clock passing it is what happens.
    await pool.execute(
        "UPDATE links SET expires_at = $2 WHERE id = ANY($1::bigint[])",
        [timed_out, off_and_ended],
        now - timedelta(minutes=1),
    )
    await _clicks(pool, workspace.id, under_limit, 2, "2025-08-01")
    await _clicks(pool, workspace.id, at_limit, 2, "2025-08-01")

    active = await _ids(ctx, principal, LinkQuery(state="active"))
    assert sorted(active) == sorted([plain, ends_later, under_limit])
    assert await _ids(ctx, principal, LinkQuery(state="disabled")) == [off_and_ended, off]
    assert await _ids(ctx, principal, LinkQuery(state="expired")) == [timed_out, at_limit]
    everything = await _ids(ctx, principal, LinkQuery())
    assert scheduled in everything and len(everything) == 8
    # Combined with another filter, and counted when the page is full.
    records, total = await service.list_links(
        ctx, principal, LinkQuery(state="active", limit=1, order="clicks")
    )
    assert [r.id for r in records] == [under_limit] and total == 3
    with pytest.raises(LinkError) as refused:
        await service.list_links(ctx, principal, LinkQuery(state="paused"))
    assert refused.value.kind == "invalid"


async def test_sort_by_clicks_follows_aggregated_clicks_and_ignores_replays(
    ctx: AppContext, principal: Principal, pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    quiet, busy, middling, tied = [await _link(ctx, principal) for _ in range(4)]
    busy_events = await _clicks(pool, workspace.id, busy, 5, "2025-08-01")
    await _clicks(pool, workspace.id, busy, 1, "2025-08-02")
    await _clicks(pool, workspace.id, middling, 3, "2025-08-01")
    await _clicks(pool, workspace.id, tied, 3, "2025-08-03")
    await record(pool, busy_events)  # a redelivered batch: already counted

    records, total = await service.list_links(ctx, principal, LinkQuery(order="clicks"))
    assert [(r.id, r.clicks) for r in records] == [(busy, 6), (tied, 3), (middling, 3), (quiet, 0)]
    assert total == 4
    rising = await _ids(ctx, principal, LinkQuery(order="clicks", descending=False))
    assert rising == [quiet, middling, tied, busy]
    second, total = await service.list_links(
        ctx, principal, LinkQuery(order="clicks", offset=1, limit=2)
    )
    assert [r.id for r in second] == [tied, middling] and total == 4
    summed = await pool.fetchval("SELECT sum(clicks) FROM link_daily WHERE link_id = $1", busy)
    assert summed == 6


async def test_search_takes_like_metacharacters_literally(
    ctx: AppContext, principal: Principal
) -> None:
    percent = await _link(ctx, principal, title="50% off")
    plain = await _link(ctx, principal, title="50 off")
    underscore = await _link(ctx, principal, note="a_b")
    letter = await _link(ctx, principal, note="axb")
    backslash = await _link(ctx, principal, title="back\\slash")
    assert plain and letter  # present, and must not match the searches below

    assert await _ids(ctx, principal, LinkQuery(search="50%")) == [percent]
    assert await _ids(ctx, principal, LinkQuery(search="%")) == [percent]
    assert await _ids(ctx, principal, LinkQuery(search="a_b")) == [underscore]
    assert await _ids(ctx, principal, LinkQuery(search="\\")) == [backslash]
    assert await _ids(ctx, principal, LinkQuery(title_contains="0%")) == [percent]
    assert await _ids(ctx, principal, LinkQuery(note_contains="_")) == [underscore]


async def test_search_uses_the_trigram_indexes(
    pool: asyncpg.Pool[Any], principal: Principal, workspace: Workspace
) -> None:
    # Enough links that walking the workspace in id order would cost more than the
    # index. The test database is too small for a scan of the whole table to cost more
    # than either, so that one is ruled out: what is checked is that the search as
    # written can be answered from the trigram indexes at all.
    await pool.execute(
        """INSERT INTO links (workspace_id, host, slug, url, title)
           SELECT $1, 'trgm.test', 'w' || $1::bigint || '-' || n, 'https://trgm.example/' || n,
                  'entry ' || n
           FROM generate_series(1, 20000) n""",
        workspace.id,
    )
    # VACUUM moves the new entries out of the GIN indexes' pending lists, as autovacuum
    # does; until then the planner prices the trigram scans with the list read whole.
    await pool.execute("VACUUM ANALYZE links")
    statements = page_query(principal, LinkQuery(search="trgm.example/14321"))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {statements.page_sql}", *statements.args)
        count_plan = await conn.fetchval(
            f"EXPLAIN (FORMAT JSON) {statements.count_sql}", *statements.args
        )
    for shown in (plan, count_plan):
        text = shown if isinstance(shown, str) else json.dumps(shown)
        assert "links_search_url" in text, text
