"""The aggregator against the session's real Postgres and Redis, in burst mode: exact
clicks and unique visitors, counting rules, time zones, overseas exclusion."""

from __future__ import annotations

from typing import Any

import asyncpg
import redis.asyncio as aioredis
from kurz import keys

from tests.conftest import Workspace
from tests.integration.aggregator.conftest import (
    GOOGLEBOT,
    IPHONE,
    AggregatorFactory,
    add,
    at,
    click,
    new_link_id,
    pending,
)


async def _rollup(
    pool: asyncpg.Pool[Any], table: str, key: str, ident: int
) -> list[tuple[Any, ...]]:
    order = "day, hour" if "hourly" in table else "day"
    rows = await pool.fetch(f"SELECT * FROM {table} WHERE {key} = $1 ORDER BY {order}", ident)
    return [tuple(r.values())[1:] for r in rows]


async def _dims(pool: asyncpg.Pool[Any], link_id: int) -> dict[tuple[str, str], int]:
    rows = await pool.fetch(
        "SELECT dimension, value, clicks FROM link_daily_dims WHERE link_id = $1", link_id
    )
    return {(r["dimension"], r["value"]): r["clicks"] for r in rows}


async def test_counts_clicks_and_exact_visitors_and_leaves_out_what_is_not_a_click(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    noon = at("2025-06-01T12:10:00+00:00")
    counted = [
        click(workspace.id, link, visitor="alice", at=noon),
        click(workspace.id, link, visitor="alice", at=noon + 1),
        click(workspace.id, link, visitor="bob", at=noon + 2, user_agent=IPHONE,
              referrer="https://News.example.org/a?b=c", qr=True, country="fr"),
        click(workspace.id, link, visitor="carol", at=noon + 3600, outcome="page"),
        click(workspace.id, link, visitor="alice", at=noon + 3601),
    ]  # fmt: skip
    not_counted = [
        click(workspace.id, link, visitor="dave", at=noon, bot=True),  # the edge's bot flag
        click(workspace.id, link, visitor="erin", at=noon, user_agent=GOOGLEBOT),  # crawler list
        click(workspace.id, link, visitor="frank", at=noon, method="HEAD"),
        click(workspace.id, link, visitor="gina", at=noon, outcome="limited"),
        click(workspace.id, link, visitor="hank", at=noon, outcome="password"),
    ]
    await add(redis, stream, counted + not_counted)

    assert await make_aggregator().run(burst=True) == 10

    assert await _rollup(pool, "link_daily", "link_id", link) == [(at_day("2025-06-01"), 5, 3)]
    assert await _rollup(pool, "link_hourly", "link_id", link) == [
        (at_day("2025-06-01"), 12, 3, 2),
        (at_day("2025-06-01"), 13, 2, 2),
    ]
    assert await _rollup(pool, "workspace_daily", "workspace_id", workspace.id) == [
        (at_day("2025-06-01"), 5, 3)
    ]
    raw = await pool.fetch(
        "SELECT visitor, counted, bot, bot_name, device, referrer_host FROM clicks "
        "WHERE link_id = $1",
        link,
    )
    assert len(raw) == 10 and sum(r["counted"] for r in raw) == 5
    erin = next(r for r in raw if r["visitor"] == "erin")
    assert erin["bot"] and erin["bot_name"] == "Googlebot" and erin["device"] == "bot"
    dims = await _dims(pool, link)
    assert dims[("country", "DE")] == 4 and dims[("country", "FR")] == 1
    assert dims[("device", "desktop")] == 4 and dims[("device", "mobile")] == 1
    assert dims[("os", "iOS")] == 1 and dims[("browser", "Firefox")] == 4
    assert dims[("referrer", "news.example.org")] == 1 and dims[("referrer", "")] == 4
    assert dims[("source", "qr")] == 1 and dims[("source", "link")] == 4
    assert dims[("bot", "Googlebot")] == 1  # bots are kept apart, not as clicks
    assert await pending(redis, stream) == 0


def at_day(iso: str) -> Any:
    from datetime import date

    return date.fromisoformat(iso)


async def test_redelivered_events_are_counted_once(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    events = [click(workspace.id, link, visitor=f"v{i % 4}") for i in range(10)]
    await add(redis, stream, events)
    aggregator = make_aggregator()
    assert await aggregator.run(burst=True) == 10

    # The whole stream delivered again, and the same events added again as new entries
    # (an edge that retried a flush): nothing changes.
    await redis.xgroup_setid(stream, keys.AGGREGATOR_GROUP, "0")
    await add(redis, stream, events[:3])
    assert await make_aggregator(consumer="other").run(burst=True) == 13

    assert await _rollup(pool, "link_daily", "link_id", link) == [(at_day("2025-06-01"), 10, 4)]
    assert await pool.fetchval("SELECT count(*) FROM clicks WHERE link_id = $1", link) == 10
    assert await pending(redis, stream) == 0


async def test_days_and_hours_are_the_workspace_s(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    await pool.execute("UPDATE workspaces SET time_zone = 'Asia/Seoul' WHERE id = $1", workspace.id)
    link = new_link_id()
    await add(redis, stream, [
        click(workspace.id, link, at=at("2025-03-01T14:59:59+00:00"), visitor="a"),  # 23:59 KST
        click(workspace.id, link, at=at("2025-03-01T15:00:00+00:00"), visitor="a"),  # 00:00 next
        click(workspace.id, link, at=at("2025-03-01T16:30:00+00:00"), visitor="b"),  # 01:30
    ])  # fmt: skip
    await make_aggregator().run(burst=True)

    assert await _rollup(pool, "link_daily", "link_id", link) == [
        (at_day("2025-03-01"), 1, 1),
        (at_day("2025-03-02"), 2, 2),
    ]
    assert await _rollup(pool, "link_hourly", "link_id", link) == [
        (at_day("2025-03-01"), 23, 1, 1),
        (at_day("2025-03-02"), 0, 1, 1),
        (at_day("2025-03-02"), 1, 1, 1),
    ]


async def _group(pool: asyncpg.Pool[Any], workspace_id: int, block: bool) -> int:
    group_id: int = await pool.fetchval(
        "INSERT INTO link_groups (workspace_id, name, block_overseas_stats) "
        "VALUES ($1, 'g', $2) RETURNING id",
        workspace_id,
        block,
    )
    return group_id


async def test_block_overseas_stats_leaves_other_countries_out_of_the_group(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    await pool.execute("UPDATE workspaces SET home_country = 'KR' WHERE id = $1", workspace.id)
    blocking, open_group = (
        await _group(pool, workspace.id, True),
        await _group(pool, workspace.id, False),
    )
    blocked_link, open_link = new_link_id(), new_link_id()
    for link, group in ((blocked_link, blocking), (open_link, open_group)):
        await add(redis, stream, [
            click(workspace.id, link, group_id=group, country="KR", visitor="k1"),
            click(workspace.id, link, group_id=group, country="kr", visitor="k2"),
            click(workspace.id, link, group_id=group, country="US", visitor="u1"),
            click(workspace.id, link, group_id=group, country=None, visitor="n1"),  # unknown
        ])  # fmt: skip
    await make_aggregator().run(burst=True)

    day = at_day("2025-06-01")
    assert await _rollup(pool, "group_daily", "group_id", blocking) == [(day, 3, 3)]
    assert await _rollup(pool, "link_daily", "link_id", blocked_link) == [(day, 3, 3)]
    assert await _rollup(pool, "group_daily", "group_id", open_group) == [(day, 4, 4)]
    assert await _rollup(pool, "link_daily", "link_id", open_link) == [(day, 4, 4)]
    overseas = await pool.fetch(
        "SELECT country, counted FROM clicks WHERE link_id = $1 AND overseas", blocked_link
    )
    assert [tuple(r.values()) for r in overseas] == [("US", False)]  # kept, not counted
    group_dims = await pool.fetch(
        "SELECT value, clicks FROM group_daily_dims WHERE group_id = $1 AND dimension = 'country'",
        blocking,
    )
    assert {r["value"]: r["clicks"] for r in group_dims} == {"KR": 2, "": 1}


async def test_entries_that_are_not_click_events_are_skipped_and_acknowledged(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    await redis.xadd(stream, {b"e": b"\x93not msgpack of an event"})
    await redis.xadd(stream, {b"other": b"field"})
    await add(redis, stream, [
        click(workspace.id, link, at=float("nan")),
        click(workspace.id, 2**63, visitor="too big for bigint"),
        click(workspace.id, link, user_agent="bad\x00agent", referrer="http://[::1"),
    ])  # fmt: skip
    assert await make_aggregator().run(burst=True) == 5
    raw = await pool.fetch("SELECT user_agent, referrer_host FROM clicks WHERE link_id = $1", link)
    assert [tuple(r.values()) for r in raw] == [("badagent", None)]
    assert await pending(redis, stream) == 0


async def test_a_visitor_is_new_to_the_day_once_across_batches(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    stream: str,
    make_aggregator: AggregatorFactory,
    workspace: Workspace,
) -> None:
    link = new_link_id()
    noon = at("2025-06-01T12:00:00+00:00")
    await add(redis, stream, [click(workspace.id, link, visitor="alice", at=noon)])
    await make_aggregator().run(burst=True)
    await add(redis, stream, [
        click(workspace.id, link, visitor="alice", at=noon + 3600),  # same day, new hour
        click(workspace.id, link, visitor="alice", at=noon + 3700),
        click(workspace.id, link, visitor="bob", at=noon + 3600),
        click(workspace.id, link, visitor="alice", at=noon + 86_400),  # the next day
    ])  # fmt: skip
    await make_aggregator(batch_size=2).run(burst=True)  # and in small batches

    assert await _rollup(pool, "link_daily", "link_id", link) == [
        (at_day("2025-06-01"), 4, 2),
        (at_day("2025-06-02"), 1, 1),
    ]
    assert await _rollup(pool, "link_hourly", "link_id", link) == [
        (at_day("2025-06-01"), 12, 1, 1),
        (at_day("2025-06-01"), 13, 3, 2),
        (at_day("2025-06-02"), 12, 1, 1),
    ]
