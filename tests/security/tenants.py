"""Workspace B's data for the isolation matrix: made through the APIs (links, tags, a
custom domain, a group, a grouped link), a webhook through the registry, and clicks
through the aggregator's own writer. Every string B owns carries one marker and B's
click count is one unusual number, so a leak to another workspace is easy to spot."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from kurz.events import ClickEvent, new_event_id
from kurz.settings import WebhookSettings
from kurz.webhooks.registry import register_webhook
from kurz_aggregator.lookups import Lookups
from kurz_aggregator.rows import to_row, utc_days
from kurz_aggregator.writer import ensure_partitions, write_batch

from tests.conftest import DEFAULT_DOMAIN, Workspace
from tests.support.console import dead_delivery

CLICKS = 4099  # B's clicks (and distinct visitors) on its one day: appears nowhere else
CLICK_DAY = "2025-03-14"


@dataclass
class Tenant:
    ws: Workspace
    marker: str
    link_id: int
    slug: str
    grouped_link_id: int
    grouped_slug: str
    group_id: int
    tag_id: int
    domain_id: int
    webhook_id: int
    delivery_id: int
    push_message_id: int
    push_subscription_id: int


async def public_resolver(host: str, port: int) -> list[str]:
    return ["93.184.215.14"]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


async def make_tenant(http: httpx.AsyncClient, pool: asyncpg.Pool[Any], ws: Workspace) -> Tenant:
    marker = f"bsecret{uuid.uuid4().hex[:10]}"
    bearer, vivoldi = ws.bearer, {"Authorization": f"APIKey {ws.key}"}
    tag = _ok(await http.post("/api/v1/tags", headers=bearer, json={"name": f"{marker}-tag"}))
    domain = _ok(await http.post("/api/v1/domains", headers=bearer,
                                 json={"host": f"{marker}.example"}))  # fmt: skip
    link = _ok(await http.post("/api/v1/links", headers=bearer, json={
        "url": f"https://{marker}.example/page", "title": f"{marker} title",
        "tagIds": [tag["tag"]["id"]], "note": f"{marker} note",
    }))["link"]  # fmt: skip
    link_id = int(link["id"])  # answered as a string, as every link id
    group = _ok(await http.post("/api/link-group/v1/create", headers=vivoldi, json={
        "nm": f"{marker} group", "memo": f"{marker} memo",
    }))["result"]  # fmt: skip
    group_id = group["grpIdx"] if isinstance(group, dict) else group
    grouped = _ok(await http.post("/api/link/v2/create", headers=vivoldi, json={
        "url": f"https://{marker}.example/grouped", "grpIdx": group_id, "ttl": f"{marker} ttl",
    }))["result"]  # fmt: skip
    grouped_row = await pool.fetchrow(
        "SELECT id, slug FROM links WHERE workspace_id = $1 AND group_id = $2", ws.id, group_id
    )
    assert grouped_row is not None, grouped
    async with pool.acquire() as conn:
        hook = await register_webhook(
            conn, ws.id, f"https://{marker}.example/hook", settings=WebhookSettings(),
            link_id=link_id, resolver=public_resolver,
        )  # fmt: skip
    delivery_id = await dead_delivery(pool, ws.id, link_id, hook.url, webhook_id=hook.id)
    await record_clicks(pool, ws.id, grouped_row["id"], group_id)
    message_id, subscription_id = await push_objects(pool, ws.id, link_id)
    return Tenant(
        ws, marker, link_id, link["slug"], grouped_row["id"], grouped_row["slug"], group_id,
        tag["tag"]["id"], domain["domain"]["id"], hook.id, delivery_id, message_id,
        subscription_id,
    )  # fmt: skip


async def push_objects(pool: asyncpg.Pool[Any], ws_id: int, link_id: int) -> tuple[int, int]:
    """A browser subscribed on B's link, and a message sent to it."""
    subscription: int = await pool.fetchval(
        """INSERT INTO push_subscriptions (workspace_id, link_id, audience, endpoint, p256dh, auth)
           VALUES ($1, $2, 'visitor', 'https://push.example/b', 'BAAA', 'AAAA') RETURNING id""",
        ws_id, link_id,
    )  # fmt: skip
    message: int = await pool.fetchval(
        """INSERT INTO push_messages (workspace_id, link_id, source, title, recipients)
           VALUES ($1, $2, 'api', 'for B only', 1) RETURNING id""",
        ws_id, link_id,
    )  # fmt: skip
    await pool.execute(
        """INSERT INTO push_deliveries (message_id, subscription_id, endpoint, status)
           VALUES ($1, $2, 'https://push.example/b', 'sent')""",
        message, subscription,
    )  # fmt: skip
    return message, subscription


async def record_clicks(pool: asyncpg.Pool[Any], ws_id: int, link_id: int, group_id: int) -> None:
    """What the aggregator does with a batch: enrich, then one transaction."""
    events = [
        ClickEvent(
            id=new_event_id(at),
            at=at,
            workspace_id=ws_id,
            link_id=link_id,
            group_id=group_id,
            host=DEFAULT_DOMAIN,
            slug="s",
            destination="https://example.com/",
            rule=None,
            outcome="redirect",
            visitor=f"v{i}",
            country="NZ",
            referrer=None,
            user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
        )
        for i in range(CLICKS)
        for at in [_timestamp(f"{CLICK_DAY}T10:{i % 60:02d}:00+00:00")]
    ]
    lookups = Lookups(ttl=0)
    async with pool.acquire() as conn:
        await lookups.load(conn, {ws_id}, {group_id})
        rows = [to_row(e, lookups) for e in events]
        await ensure_partitions(conn, sorted(utc_days(rows)))
        await write_batch(conn, rows)


def _timestamp(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()


_SNAPSHOT = {
    "links": "SELECT * FROM links WHERE workspace_id = $1 ORDER BY id",
    "groups": "SELECT * FROM link_groups WHERE workspace_id = $1 ORDER BY id",
    "tags": "SELECT * FROM tags WHERE workspace_id = $1 ORDER BY id",
    "link_tags": """SELECT lt.* FROM link_tags lt JOIN tags t ON t.id = lt.tag_id
                    WHERE t.workspace_id = $1 ORDER BY lt.link_id, lt.tag_id""",
    "grouped": """SELECT l.id FROM links l JOIN link_groups g ON g.id = l.group_id
                  WHERE g.workspace_id = $1 ORDER BY l.id""",
    "domains": "SELECT * FROM domains WHERE workspace_id = $1 ORDER BY id",
    "webhooks": "SELECT * FROM webhooks WHERE workspace_id = $1 ORDER BY id",
    "keys": "SELECT id, revoked_at FROM api_keys WHERE workspace_id = $1 ORDER BY id",
    "deliveries": """SELECT id, status, attempts, next_attempt_at, finished_at
                     FROM webhook_deliveries WHERE workspace_id = $1 ORDER BY id""",
    "endpoints": "SELECT * FROM webhook_endpoints WHERE workspace_id = $1 ORDER BY id",
    "push_subscriptions": "SELECT * FROM push_subscriptions WHERE workspace_id = $1 ORDER BY id",
    "push_messages": "SELECT * FROM push_messages WHERE workspace_id = $1 ORDER BY id",
    "push_deliveries": """SELECT d.* FROM push_deliveries d JOIN push_messages m
                          ON m.id = d.message_id WHERE m.workspace_id = $1 ORDER BY d.id""",
    "clicks": """SELECT coalesce(sum(d.clicks), 0) FROM link_daily d
                 JOIN links l ON l.id = d.link_id WHERE l.workspace_id = $1""",
}


async def snapshot(pool: asyncpg.Pool[Any], ws_id: int) -> dict[str, str]:
    """Everything B owns, as comparable text."""
    out = {}
    for name, sql in _SNAPSHOT.items():
        rows = await pool.fetch(sql, ws_id)
        out[name] = json.dumps([dict(r) for r in rows], default=str, sort_keys=True)
    return out
