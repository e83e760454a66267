"""What the worker needs to know about a batch of click events, read from Postgres:
the links (with their webhook URLs), groups, workspaces and registered webhooks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import asyncpg
import msgspec
from kurz.events import ClickEvent
from kurz.webhooks.payloads import LinkFacts
from kurz.webhooks.signing import generate_secret


class LinkHooks(msgspec.Struct, frozen=True):
    facts: LinkFacts
    webhook_urls: tuple[str, ...]


class GroupFacts(msgspec.Struct, frozen=True):
    id: int
    workspace_id: int
    name: str
    webhook_enabled: bool
    webhook_url: str | None
    webhook_metric: str
    webhook_frequency: int
    webhook_secret: str | None
    mail_notify: bool
    push_notify: bool
    webhook_format: str = "standard"  # how its webhooks are signed: standard | vivoldi

    @property
    def fires_webhook(self) -> bool:
        return self.webhook_enabled and bool(self.webhook_url)

    @property
    def counts(self) -> bool:
        """Whether the worker keeps this group's running totals."""
        return self.fires_webhook or self.mail_notify or self.push_notify


class WorkspaceFacts(msgspec.Struct, frozen=True):
    id: int
    time_zone: str
    webhook_secret: str
    owner_email: str | None


class RegisteredHook(msgspec.Struct, frozen=True):
    id: int
    workspace_id: int
    link_id: int | None
    url: str
    secret: str
    format: str


class Facts(msgspec.Struct):
    links: dict[int, LinkHooks]
    groups: dict[int, GroupFacts]
    workspaces: dict[int, WorkspaceFacts]
    link_hooks: dict[int, list[RegisteredHook]]
    workspace_hooks: dict[int, list[RegisteredHook]]


async def _workspaces(conn: asyncpg.Connection[Any], ids: list[int]) -> dict[int, WorkspaceFacts]:
    # A workspace signs link-level and group webhooks with its own secret; one that has
    # none yet gets one here, once (the conditional UPDATE keeps concurrent workers agreed).
    await conn.execute(
        """UPDATE workspaces SET webhook_secret = s.secret
           FROM unnest($1::bigint[], $2::text[]) AS s (id, secret)
           WHERE workspaces.id = s.id AND workspaces.webhook_secret IS NULL""",
        ids,
        [generate_secret() for _ in ids],
    )
    rows = await conn.fetch(
        "SELECT id, time_zone, webhook_secret, owner_email FROM workspaces WHERE id = ANY($1)", ids
    )
    return {r["id"]: WorkspaceFacts(**dict(r)) for r in rows}


def _rules(stored: object) -> tuple[dict[str, Any], ...]:
    """A link's rules as stored (jsonb, read as text), in Linkly's shape."""
    decoded = msgspec.json.decode(stored) if isinstance(stored, str | bytes) else stored
    if not isinstance(decoded, list):
        return ()
    return tuple(
        {k: v for k, v in rule.items() if v is not None}
        for rule in decoded
        if isinstance(rule, dict)
    )


async def load_facts(conn: asyncpg.Connection[Any], events: Iterable[ClickEvent]) -> Facts:
    events = list(events)
    link_ids = sorted({e.link_id for e in events})
    group_ids = sorted({e.group_id for e in events if e.group_id is not None})
    workspace_ids = sorted({e.workspace_id for e in events})
    link_rows = await conn.fetch(
        """SELECT id, workspace_id, host, slug, url, title, note, enabled, webhook_urls,
                  cloaked, forward_params, block_bots, utm_source, utm_medium, utm_campaign,
                  og_title, description, rules, public_analytics
           FROM links WHERE id = ANY($1)""",
        link_ids,
    )
    links = {
        r["id"]: LinkHooks(
            LinkFacts(
                r["id"],
                r["workspace_id"],
                r["host"],
                r["slug"],
                r["url"],
                r["title"],
                r["note"],
                r["enabled"],
                r["cloaked"],
                r["forward_params"],
                r["block_bots"],
                r["utm_source"],
                r["utm_medium"],
                r["utm_campaign"],
                r["og_title"],
                r["description"],
                _rules(r["rules"]),
                r["public_analytics"],
            ),
            tuple(dict.fromkeys(u.strip() for u in r["webhook_urls"] if u and u.strip())),
        )
        for r in link_rows
    }
    group_rows = await conn.fetch(
        """SELECT id, workspace_id, name, webhook_enabled, webhook_url,
                  trim(webhook_metric) AS webhook_metric, webhook_frequency, webhook_secret,
                  mail_notify, push_notify, webhook_format
           FROM link_groups WHERE id = ANY($1)""",
        group_ids,
    )
    groups = {r["id"]: GroupFacts(**dict(r)) for r in group_rows}
    hook_rows = await conn.fetch(
        """SELECT id, workspace_id, link_id, url, secret, format FROM webhooks
           WHERE enabled AND (link_id = ANY($1) OR (link_id IS NULL AND workspace_id = ANY($2)))
           ORDER BY id""",
        link_ids,
        workspace_ids,
    )
    link_hooks: dict[int, list[RegisteredHook]] = defaultdict(list)
    workspace_hooks: dict[int, list[RegisteredHook]] = defaultdict(list)
    for r in hook_rows:
        hook = RegisteredHook(**dict(r))
        if hook.link_id is None:
            workspace_hooks[hook.workspace_id].append(hook)
        else:
            link_hooks[hook.link_id].append(hook)
    return Facts(links, groups, await _workspaces(conn, workspace_ids), link_hooks, workspace_hooks)


def counting_group(event: ClickEvent, facts: Facts) -> GroupFacts | None:
    """The event's group when the worker keeps that group's totals."""
    group = facts.groups.get(event.group_id) if event.group_id is not None else None
    if group is None or not group.counts or group.workspace_id != event.workspace_id:
        return None
    return group


def concerns_webhooks(event: ClickEvent, facts: Facts) -> bool:
    """Whether a counted click has any webhook or notification effect at all."""
    link = facts.links.get(event.link_id)
    if link is None or link.facts.workspace_id != event.workspace_id:
        return False
    return bool(
        link.webhook_urls
        or facts.link_hooks.get(link.facts.id)
        or facts.workspace_hooks.get(event.workspace_id)
        or counting_group(event, facts)
    )
