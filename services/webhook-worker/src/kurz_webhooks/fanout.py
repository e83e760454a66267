"""Turn a batch of click events into deliveries and notifications, in one transaction.

Idempotent on event id. An event that moves a group's totals is recorded in
`webhook_processed_events` by the transaction that moves them, and a redelivered one
finds its id there and changes nothing. Other events need no record: their deliveries
are unique per (endpoint, event id), so a redelivery inserts nothing new. Counters,
deliveries and the record commit together: a crash did all of it or none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeAlias

import asyncpg
from kurz import push
from kurz.events import ClickEvent

from kurz_webhooks.facts import Facts, concerns_webhooks, counting_group, load_facts
from kurz_webhooks.plan import (
    PlannedDelivery,
    PlannedNotification,
    group_effects,
    link_deliveries,
    visitor_day,
)

Conn: TypeAlias = "asyncpg.Connection[Any]"


class FanoutResult(NamedTuple):
    events: int  # fresh events with an effect
    deliveries: int
    notifications: int


async def _fresh_events(conn: Conn, events: list[ClickEvent], facts: Facts) -> list[ClickEvent]:
    """The events not processed before, each once, in stream order."""
    counting = sorted({e.id for e in events if counting_group(e, facts) is not None})
    recorded: set[str] = set()
    if counting:
        rows = await conn.fetch(
            """INSERT INTO webhook_processed_events (event_id) SELECT unnest($1::text[])
               ON CONFLICT DO NOTHING RETURNING event_id""",
            counting,
        )
        recorded = {r["event_id"] for r in rows}
    seen: set[str] = set()
    out = []
    for event in events:
        if event.id in seen:
            continue  # a duplicate inside the batch counts once too
        seen.add(event.id)
        if event.id in recorded or counting_group(event, facts) is None:
            out.append(event)
    return out


async def _new_visitors(conn: Conn, marks: list[tuple[int, Any, str]]) -> set[tuple[int, Any, str]]:
    if not marks:
        return set()
    unique = sorted(set(marks))
    rows = await conn.fetch(
        """INSERT INTO webhook_group_visitors (group_id, day, visitor)
           SELECT * FROM unnest($1::bigint[], $2::date[], $3::text[])
           ON CONFLICT DO NOTHING RETURNING group_id, day, visitor""",
        [m[0] for m in unique],
        [m[1] for m in unique],
        [m[2] for m in unique],
    )
    return {(r["group_id"], r["day"], r["visitor"]) for r in rows}


async def _add_to_counters(
    conn: Conn, increments: dict[int, tuple[int, int]]
) -> dict[int, tuple[int, int]]:
    """Add (clicks, visitors) per group; return the totals before the addition."""
    ids = sorted(increments)  # one lock order for every worker: no deadlocks
    rows = await conn.fetch(
        """INSERT INTO webhook_group_counters AS c (group_id, clicks, visitors)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[])
           ON CONFLICT (group_id) DO UPDATE
               SET clicks = c.clicks + EXCLUDED.clicks, visitors = c.visitors + EXCLUDED.visitors
           RETURNING group_id, clicks, visitors""",
        ids,
        [increments[g][0] for g in ids],
        [increments[g][1] for g in ids],
    )
    return {
        r["group_id"]: (
            r["clicks"] - increments[r["group_id"]][0],
            r["visitors"] - increments[r["group_id"]][1],
        )
        for r in rows
    }


async def _group_work(
    conn: Conn, events: list[ClickEvent], facts: Facts, mail_configured: bool
) -> tuple[list[PlannedDelivery], list[PlannedNotification]]:
    by_group: dict[int, list[ClickEvent]] = defaultdict(list)
    for event in events:
        group = counting_group(event, facts)
        if group is not None:
            by_group[group.id].append(event)
    if not by_group:
        return [], []
    marks: dict[str, tuple[int, Any, str]] = {}
    for group_id, group_events in by_group.items():
        if facts.groups[group_id].webhook_metric == "P":
            tz = facts.workspaces[facts.groups[group_id].workspace_id].time_zone
            for e in group_events:
                marks[e.id] = (group_id, visitor_day(e, tz), e.visitor)
    new_marks = await _new_visitors(conn, list(marks.values()))
    tallies: dict[int, list[tuple[ClickEvent, bool]]] = {}
    for group_id, group_events in by_group.items():
        tallies[group_id] = []
        for e in group_events:
            mark = marks.get(e.id)
            is_new = mark is not None and mark in new_marks
            if is_new:
                new_marks.discard(mark)
            tallies[group_id].append((e, is_new))
    increments = {g: (len(t), sum(n for _, n in t)) for g, t in tallies.items()}
    before = await _add_to_counters(conn, increments)
    deliveries: list[PlannedDelivery] = []
    notes: list[PlannedNotification] = []
    for group_id, tallied in tallies.items():
        group = facts.groups[group_id]
        d, n = group_effects(
            group, facts.workspaces[group.workspace_id], tallied, *before[group_id], mail_configured
        )
        deliveries += d
        notes += n
    return deliveries, notes


async def _endpoint_ids(conn: Conn, targets: set[tuple[int, str]]) -> dict[tuple[int, str], int]:
    """Endpoint ids of (workspace, url) pairs, created when new; disabled ones left out."""
    pairs = sorted(targets)
    workspaces, urls = [p[0] for p in pairs], [p[1] for p in pairs]
    await conn.execute(
        """INSERT INTO webhook_endpoints (workspace_id, url)
           SELECT * FROM unnest($1::bigint[], $2::text[]) ON CONFLICT DO NOTHING""",
        workspaces,
        urls,
    )
    rows = await conn.fetch(
        """SELECT e.id, e.workspace_id, e.url FROM webhook_endpoints e
           JOIN unnest($1::bigint[], $2::text[]) AS t (workspace_id, url)
             ON e.workspace_id = t.workspace_id AND e.url = t.url
           WHERE e.disabled_at IS NULL""",
        workspaces,
        urls,
    )
    return {(r["workspace_id"], r["url"]): r["id"] for r in rows}


async def _insert_deliveries(conn: Conn, planned: list[PlannedDelivery]) -> int:
    endpoints = await _endpoint_ids(conn, {(d.workspace_id, d.url) for d in planned})
    rows = [
        (endpoints[(d.workspace_id, d.url)], d)
        for d in planned
        if (d.workspace_id, d.url) in endpoints
    ]
    if not rows:
        return 0
    columns: list[list[Any]] = [[e for e, _ in rows]]
    columns += [list(col) for col in zip(*(d for _, d in rows), strict=True)]
    status: str = await conn.execute(
        """INSERT INTO webhook_deliveries (endpoint_id, workspace_id, url, webhook_id, source,
               link_id, group_id, event_type, message_id, secret, payload, signing)
           SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[],
               $5::text[], $6::bigint[], $7::bigint[], $8::text[], $9::text[], $10::text[],
               $11::bytea[], $12::text[])
           ON CONFLICT (endpoint_id, message_id) DO NOTHING""",
        *columns,
    )
    return int(status.rsplit(" ", 1)[-1])


async def _insert_notifications(conn: Conn, notes: list[PlannedNotification]) -> None:
    """Mail goes to the notifications table (the mailer sends it); a push milestone
    becomes a push message to the group owners' subscriptions, once per milestone."""
    for note in notes:
        if note.channel == "push":
            await push.create_message(conn, push.Message(
                note.workspace_id, note.subject, note.body, None,
                group_id=int(str(note.data["group_id"])), owners=True, source="milestone",
                dedupe_key=note.dedupe_key,
            ))  # fmt: skip
    mail = [note for note in notes if note.channel != "push"]
    await conn.executemany(
        """INSERT INTO notifications (workspace_id, kind, channel, dedupe_key, recipient,
               subject, body, data, status, last_error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (workspace_id, channel, dedupe_key) DO NOTHING""",
        mail,
    )


async def fan_out(
    pool: asyncpg.Pool[Any], events: Sequence[ClickEvent], *, scheme: str, mail_configured: bool
) -> FanoutResult:
    """Create the deliveries and notifications of `events` (counted clicks only)."""
    counted = [e for e in events if e.counted]
    if not counted:
        return FanoutResult(0, 0, 0)
    async with pool.acquire() as conn:
        facts = await load_facts(conn, counted)
        relevant = [e for e in counted if concerns_webhooks(e, facts)]
        if not relevant:
            return FanoutResult(0, 0, 0)
        async with conn.transaction():
            fresh = await _fresh_events(conn, relevant, facts)
            planned: list[PlannedDelivery] = []
            for event in fresh:
                planned += link_deliveries(
                    event,
                    facts.links[event.link_id],
                    facts,
                    facts.workspaces[event.workspace_id],
                    scheme,
                )
            group_deliveries, notes = await _group_work(conn, fresh, facts, mail_configured)
            planned += group_deliveries
            created = await _insert_deliveries(conn, planned) if planned else 0
            if notes:
                await _insert_notifications(conn, notes)
    return FanoutResult(len(fresh), created, len(notes))
