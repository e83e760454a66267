"""Upkeep keeps what can still matter and forgets the rest."""

from __future__ import annotations

from typing import Any

import asyncpg
from kurz_webhooks import maintenance
from kurz_webhooks.fanout import fan_out

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import click, make_link


async def test_prune_keeps_recent_and_waiting_deliveries(
    pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    link = await make_link(pool, workspace.id, webhook_urls=["https://hooks.example.com/a"])
    await fan_out(pool, [click(link) for _ in range(6)], scheme="https", mail_configured=False)
    ids = [
        r["id"]
        for r in await pool.fetch(
            "SELECT id FROM webhook_deliveries WHERE workspace_id = $1 ORDER BY id", workspace.id
        )
    ]
    ages = [  # (status, days since finished)
        ("succeeded", 8),  # pruned
        ("succeeded", 2),
        ("dead", 8),  # dead letters wait longer
        ("dead", 31),  # pruned
        ("pending", None),
        ("pending", None),
    ]
    for delivery_id, (status, days) in zip(ids, ages, strict=True):
        await pool.execute(
            """UPDATE webhook_deliveries SET status = $2,
                   finished_at = CASE WHEN $3::int IS NULL THEN NULL
                                      ELSE now() - make_interval(days => $3) END
               WHERE id = $1""",
            delivery_id,
            status,
            days,
        )
    await pool.execute(
        "INSERT INTO webhook_dead_letters (delivery_id, workspace_id, reason) VALUES ($1, $2, 'x')",
        ids[3],
        workspace.id,
    )
    await maintenance.prune(pool)
    left = [
        r["id"]
        for r in await pool.fetch(
            "SELECT id FROM webhook_deliveries WHERE workspace_id = $1 ORDER BY id", workspace.id
        )
    ]
    assert left == [ids[1], ids[2], ids[4], ids[5]]
    assert not await pool.fetchval(
        "SELECT count(*) FROM webhook_dead_letters WHERE delivery_id = $1", ids[3]
    )
