"""The group use cases every API family shares: create, update, get, list, delete.

Postgres first (with the edge outbox), then the edge cache: a group's settings live in
ONE edge record, so an update is one cache write and one invalidation however many links
the group holds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
from collections.abc import Mapping
from typing import Any

import asyncpg
from kurz import edge_outbox
from kurz.edge_records import LINK_COLUMNS, edge_group_from_row, edge_link_from_row
from kurz.passwords import hash_password
from kurz.plans import entitlements

from kurz_management.core import webhook_targets
from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.faults import DATABASE_UNAVAILABLE
from kurz_management.core.groups import rules
from kurz_management.core.groups.model import (
    GroupError,
    GroupPage,
    GroupRecord,
    GroupSpec,
    GroupWrite,
)
from kurz_management.core.links import store

log = logging.getLogger(__name__)

_LINK_COUNT = (
    "(SELECT count(*) FROM links l WHERE l.group_id = g.id AND l.deleted_at IS NULL) AS link_count"
)
_UNGROUP_BATCH = 1000
_MEMBERS = """SELECT id FROM links
    WHERE group_id = $1 AND workspace_id = $2 AND deleted_at IS NULL"""


async def create_group(ctx: AppContext, principal: Principal, spec: GroupSpec) -> GroupWrite:
    cols, passwords = rules.changes(spec)
    merged = {**rules.DEFAULTS, **cols}
    rules.check(merged, cols, entitlements(principal.entitlements))
    await _check_webhook_target(ctx, cols)
    secret = _new_secret() if merged["webhook_enabled"] else None
    merged.update(await _hashed(passwords), webhook_secret=secret)
    names = ", ".join(rules.COLUMNS)
    params = ", ".join(f"${i}" for i in range(2, len(rules.COLUMNS) + 2))
    async with ctx.pool.acquire() as conn:
        async with conn.transaction():
            row = await conn.fetchrow(
                f"""WITH g AS (INSERT INTO link_groups (workspace_id, {names})
                    VALUES ($1, {params}) RETURNING *)
                    SELECT g.*, 0::bigint AS link_count FROM g""",
                principal.workspace_id,
                *(merged[c] for c in rules.COLUMNS),
            )
            assert row is not None
            outbox = await edge_outbox.record(conn, groups=[row["id"]])
        group = edge_group_from_row(row)
        await edge_outbox.settle(conn, outbox, lambda: ctx.cache.put_group(group))
    return GroupWrite(_record(row), secret)


async def update_group(
    ctx: AppContext, principal: Principal, group_id: int, spec: GroupSpec
) -> GroupWrite:
    cols, passwords = rules.changes(spec)
    await _check_webhook_target(ctx, cols)  # before the row lock: it resolves a name
    hashed = await _hashed(passwords)  # before the row lock: hashing takes milliseconds
    # The group's lock, held until the edge write: two updates reach Redis in commit order.
    async with ctx.pool.acquire() as conn, edge_outbox.locked(conn, "group", [group_id]):
        row, secret, outbox = await _update(conn, principal, group_id, cols, hashed)
        group = edge_group_from_row(row)
        await edge_outbox.settle(conn, outbox, lambda: ctx.cache.put_group(group))
    return GroupWrite(_record(row), secret)


async def _update(
    conn: asyncpg.Connection[Any],
    principal: Principal,
    group_id: int,
    cols: dict[str, Any],
    hashed: Mapping[str, str | None],
) -> tuple[asyncpg.Record, str | None, list[int]]:
    """The update's transaction: the new row, a new webhook secret if one was made, and
    the edge outbox rows."""
    async with conn.transaction():
        current = await conn.fetchrow(
            "SELECT * FROM link_groups WHERE id = $1 AND workspace_id = $2 FOR UPDATE",
            group_id,
            principal.workspace_id,
        )
        if current is None:
            raise _not_found(group_id)
        merged = {**dict(current), **cols}
        rules.check(merged, cols, entitlements(principal.entitlements))
        secret = None
        if merged["webhook_enabled"] and not merged["webhook_secret"]:
            secret = merged["webhook_secret"] = _new_secret()
        merged.update(hashed)
        assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(rules.COLUMNS, start=2))
        row = await conn.fetchrow(
            f"""WITH g AS (UPDATE link_groups SET {assignments}, updated_at = now()
                WHERE id = $1 RETURNING *) SELECT g.*, {_LINK_COUNT} FROM g""",
            group_id,
            *(merged[c] for c in rules.COLUMNS),
        )
        assert row is not None
        return row, secret, await edge_outbox.record(conn, groups=[group_id])


async def _check_webhook_target(ctx: AppContext, cols: dict[str, Any]) -> None:
    """A group's webhook URL is a registration: the SSRF guard refuses internal targets."""
    url = cols.get("webhook_url")
    if url:
        refused = await webhook_targets.refusals([url], ctx.settings.webhooks)
        if url in refused:
            raise GroupError("invalid", refused[url], "webhook_url")


async def get_group(ctx: AppContext, principal: Principal, group_id: int) -> GroupRecord:
    row = await ctx.pool.fetchrow(
        f"SELECT g.*, {_LINK_COUNT} FROM link_groups g WHERE g.id = $1 AND g.workspace_id = $2",
        group_id,
        principal.workspace_id,
    )
    if row is None:
        raise _not_found(group_id)
    return _record(row)


async def list_groups(
    ctx: AppContext,
    principal: Principal,
    *,
    group_id: int | None = None,
    name_contains: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> GroupPage:
    """The workspace's groups, oldest first; `name_contains` matches case-insensitively
    anywhere in the name (as text, not as a LIKE pattern)."""
    where = (
        "g.workspace_id = $1 AND ($2::bigint IS NULL OR g.id = $2)"
        " AND ($3::text IS NULL OR strpos(lower(g.name), lower($3)) > 0)"
    )
    args = (principal.workspace_id, group_id, name_contains or None)
    async with ctx.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        total = await conn.fetchval(f"SELECT count(*) FROM link_groups g WHERE {where}", *args)
        rows = await conn.fetch(
            f"""SELECT g.*, {_LINK_COUNT} FROM link_groups g WHERE {where}
                ORDER BY g.id OFFSET $4 LIMIT $5""",
            *args,
            offset,
            limit,
        )
    return GroupPage([_record(r) for r in rows], total)


async def delete_group(ctx: AppContext, principal: Principal, group_id: int) -> None:
    """Delete a group; its links stay, ungrouped, and their own settings apply again.

    The links' edge records are rewritten under the links layer's per-link locks, so a
    concurrent link write cannot leave an older record in Redis after this one."""
    async with ctx.pool.acquire() as conn:
        locked = [r["id"] for r in await conn.fetch(_MEMBERS, group_id, principal.workspace_id)]
        await store.lock_links(conn, locked)
        await edge_outbox.lock(conn, "group", [group_id])
        try:
            links, outbox = await _ungroup(conn, principal, group_id)
            known = set(locked)
            late = [r["id"] for r in links if r["id"] not in known]
            await store.lock_links(conn, late)  # joined meanwhile: wait for their writer
            locked += late

            async def write() -> None:
                # Links first: until the group record goes, a redirector applies the
                # group, never a half state where a link names a group that is gone.
                for start in range(0, len(links), _UNGROUP_BATCH):
                    batch = links[start : start + _UNGROUP_BATCH]
                    await ctx.cache.put_links(edge_link_from_row(r) for r in batch)
                await ctx.cache.drop_group(group_id)

            await edge_outbox.settle(conn, outbox, write)
        finally:
            with contextlib.suppress(*DATABASE_UNAVAILABLE):
                await edge_outbox.unlock(conn, "group", [group_id])
                await store.unlock_links(conn, locked)


async def _ungroup(
    conn: asyncpg.Connection[Any], principal: Principal, group_id: int
) -> tuple[list[asyncpg.Record], list[int]]:
    async with conn.transaction():
        found = await conn.fetchval(
            "SELECT id FROM link_groups WHERE id = $1 AND workspace_id = $2 FOR UPDATE",
            group_id,
            principal.workspace_id,
        )
        if found is None:
            raise _not_found(group_id)
        links: list[asyncpg.Record] = await conn.fetch(
            f"""UPDATE links AS l SET group_id = NULL, version = l.version + 1,
                updated_at = now() WHERE l.group_id = $1 AND l.deleted_at IS NULL
                RETURNING {LINK_COLUMNS}""",
            group_id,
        )
        await conn.execute("DELETE FROM link_groups WHERE id = $1", group_id)
        outbox = await edge_outbox.record(conn, links=[r["id"] for r in links], groups=[group_id])
    return links, outbox


def _record(row: Mapping[str, Any]) -> GroupRecord:
    return GroupRecord(
        id=row["id"],
        workspace_id=row["workspace_id"],
        name=row["name"],
        memo=row["memo"],
        push_subscribe=row["push_subscribe"],
        qr_bypass=row["qr_bypass"],
        block_overseas_stats=row["block_overseas_stats"],
        push_notify=row["push_notify"],
        mail_notify=row["mail_notify"],
        has_stats_password=row["stats_password_hash"] is not None,
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        expire_url=row["expire_url"],
        has_password=row["password_hash"] is not None,
        max_clicks=row["max_clicks"],
        webhook_enabled=row["webhook_enabled"],
        webhook_url=row["webhook_url"],
        webhook_metric=row["webhook_metric"],
        webhook_frequency=row["webhook_frequency"],
        webhook_format=row["webhook_format"],
        link_count=row["link_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _not_found(group_id: int) -> GroupError:
    # Another workspace's group reads as unknown: ids must not reveal what exists.
    return GroupError("not_found", f"group {group_id} not found", "group_id")


def _new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def _hashed(passwords: Mapping[str, str | None]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for column, clear in passwords.items():
        out[column] = None if clear is None else await asyncio.to_thread(hash_password, clear)
    return out
