"""A batch's rollups are summed before they reach Postgres (writer.tally): the sums of one
batch that repeats links, visitors, hours and dimension values must equal what the same
events written one batch each add up to, and a batch partly stored already must count
only its new events.

Two workspaces get the same clicks (their own links and groups, mapped one to one):
one in a single batch (after half of it in a batch of its own, then once more as a
replay), the other one event per batch."""

from __future__ import annotations

import random
from typing import Any

import asyncpg
from kurz.events import ClickEvent
from kurz_aggregator.lookups import Lookups
from kurz_aggregator.rows import Row, to_row, utc_days
from kurz_aggregator.writer import Written, ensure_partitions, write_batch

from tests.conftest import Workspace, new_workspace
from tests.integration.aggregator.conftest import (
    BROWSER,
    GOOGLEBOT,
    IPHONE,
    at,
    click,
    new_link_id,
)

# Rollup table → the scope column whose ids differ between the two workspaces (the
# monthly ones are kept by triggers on the daily ones; workspace_daily_dims is left out:
# its trigger reads the links table, and these clicks' links have no rows there).
TABLES = {
    "link_daily": "link_id", "link_hourly": "link_id", "link_daily_dims": "link_id",
    "link_monthly": "link_id", "group_daily": "group_id", "group_hourly": "group_id",
    "group_daily_dims": "group_id", "group_monthly": "group_id",
    "workspace_daily": "workspace_id", "workspace_hourly": "workspace_id",
}  # fmt: skip


class Place:
    """A workspace with 4 links: two in a group that blocks overseas statistics, one in
    an open group, one in none."""

    def __init__(self, workspace: Workspace, blocking: int, open_group: int) -> None:
        self.workspace = workspace
        self.links = [new_link_id() for _ in range(4)]
        self.groups: list[int | None] = [blocking, blocking, open_group, None]

    def ids(self) -> dict[str, dict[int, int]]:
        """Each scope's ids → their index, the same for both places."""
        return {
            "link_id": {link: i for i, link in enumerate(self.links)},
            "group_id": {g: i for i, g in enumerate(self.groups) if g is not None},
            "workspace_id": {self.workspace.id: 0},
        }


async def _place(pool: asyncpg.Pool[Any]) -> Place:
    workspace = await new_workspace(pool, time_zone="Asia/Seoul")
    await pool.execute("UPDATE workspaces SET home_country = 'KR' WHERE id = $1", workspace.id)
    groups = []
    for block in (True, False):
        groups.append(
            await pool.fetchval(
                "INSERT INTO link_groups (workspace_id, name, block_overseas_stats) "
                "VALUES ($1, 'g', $2) RETURNING id",
                workspace.id,
                block,
            )
        )
    return Place(workspace, *groups)


def _clicks(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Clicks as fields, with few distinct values, so that a batch repeats every key."""
    rng = random.Random(seed)
    start = at("2025-06-01T13:30:00+00:00")  # 22:30 in Seoul: the local day turns
    return [
        {
            "link": rng.randrange(4),
            "at": start + rng.randrange(4 * 3600),
            "visitor": rng.choice(["v1", "v2", "v3"]),
            "country": rng.choice(["KR", "kr", "US", None]),
            "referrer": rng.choice([None, "https://t.co/x", "https://News.example:8443/a"]),
            "user_agent": rng.choice([BROWSER, IPHONE, GOOGLEBOT, None]),
            "qr": rng.random() < 0.3,
            "outcome": rng.choice(["redirect", "redirect", "page", "not_found"]),
            "bot": rng.random() < 0.1,
            "method": rng.choice(["GET", "GET", "GET", "HEAD"]),
            "destination": rng.choice(["https://a.example/", "https://b.example/"]),
        }
        for _ in range(n)
    ]


def _events(place: Place, clicks: list[dict[str, Any]]) -> list[ClickEvent]:
    events = []
    for fields in clicks:
        fields = dict(fields)
        link = fields.pop("link")
        events.append(
            click(place.workspace.id, place.links[link], group_id=place.groups[link], **fields)
        )
    return events


async def _write(pool: asyncpg.Pool[Any], place: Place, events: list[ClickEvent]) -> Written:
    lookups = Lookups(60.0)
    async with pool.acquire() as conn:
        await lookups.load(conn, [place.workspace.id], [g for g in place.groups if g])
        rows: list[Row] = [to_row(e, lookups) for e in events]
        await ensure_partitions(conn, sorted(utc_days(rows)))
        return await write_batch(conn, rows)


async def _rollups(pool: asyncpg.Pool[Any], place: Place) -> dict[str, list[tuple[Any, ...]]]:
    """Every rollup row of the place, its scope id replaced by the id's index."""
    ids = place.ids()
    found = {}
    for table, key in TABLES.items():
        mapping = ids[key]
        rows = await pool.fetch(f"SELECT * FROM {table} WHERE {key} = ANY($1)", list(mapping))
        found[table] = sorted(
            tuple(sorted((c, mapping[v] if c == key else v) for c, v in r.items())) for r in rows
        )
    return found


async def test_a_batch_of_repeated_keys_sums_as_its_events_one_by_one(
    pool: asyncpg.Pool[Any],
) -> None:
    batched, single = await _place(pool), await _place(pool)
    clicks = _clicks(300)
    events = _events(batched, clicks)

    first = await _write(pool, batched, events[::2])
    whole = await _write(pool, batched, events)  # half of it stored already
    replay = await _write(pool, batched, events)
    assert (first.fresh, whole.fresh, replay) == (150, 150, Written(0, 0))

    counted = 0
    for event in _events(single, clicks):
        counted += (await _write(pool, single, [event])).counted
    assert first.counted + whole.counted == counted > 0

    expected = await _rollups(pool, single)
    assert [t for t in TABLES if not expected[t]] == []  # every rollup has rows to compare
    assert any(r for r in expected["link_daily_dims"] if ("dimension", "bot") in r)
    assert await _rollups(pool, batched) == expected
