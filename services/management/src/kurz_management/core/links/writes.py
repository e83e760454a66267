"""Writing links: check everything, then Postgres (one transaction, multi-row
statements, and the edge outbox), then the edge cache in one pipelined round trip."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg
from kurz import edge_outbox
from kurz.edge_records import edge_link_from_row
from kurz.models import LinkSpec
from kurz.passwords import hash_password
from kurz.validation import is_id

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.faults import DATABASE_UNAVAILABLE
from kurz_management.core.links import slugs, store, validate
from kurz_management.core.links.guard import database_available
from kurz_management.core.links.model import NOT_WRITTEN, LinkError, LinkRecord
from kurz_management.core.links.rows import record_of_row
from kurz_management.core.links.validate import Change

log = logging.getLogger(__name__)


class _Rollback(Exception):
    """Leaves the transaction without writing: an atomic batch had a failing item."""


async def create_one(ctx: AppContext, principal: Principal, spec: LinkSpec) -> LinkRecord:
    return _single(await apply(ctx, principal, [Change(0, None, spec)], atomic=True))


async def update_one(
    ctx: AppContext, principal: Principal, link_id: int, spec: LinkSpec, clears: frozenset[str]
) -> LinkRecord:
    change = Change(0, link_id, spec, clears)
    return _single(await apply(ctx, principal, [change], atomic=True))


async def upsert_many(
    ctx: AppContext,
    principal: Principal,
    items: list[tuple[int | None, LinkSpec]],
    *,
    atomic: bool,
    validate_only: bool = False,
) -> list[LinkRecord | LinkError]:
    limit = ctx.settings.api.bulk_max
    if len(items) > limit:
        raise LinkError("invalid", f"at most {limit} links per request, got {len(items)}")
    changes = [Change(i, link_id, spec) for i, (link_id, spec) in enumerate(items)]
    return await apply(ctx, principal, changes, atomic=atomic, validate_only=validate_only)


def _single(results: list[LinkRecord | LinkError]) -> LinkRecord:
    result = results[0]
    if isinstance(result, LinkError):
        result.index = None
        raise result
    return result


async def apply(
    ctx: AppContext,
    principal: Principal,
    changes: list[Change],
    *,
    atomic: bool,
    validate_only: bool = False,
) -> list[LinkRecord | LinkError]:
    if not changes:
        return []
    await _hash_passwords(changes)
    await validate.resolve_webhook_targets(ctx, changes)  # DNS: before any lock or transaction
    for change in changes:
        if change.link_id is not None and not is_id(change.link_id):
            change.fail("not_found", f"no link {change.link_id} in this workspace")
            change.link_id = None
    locked = [c.link_id for c in changes if c.link_id is not None]
    with database_available():
        async with ctx.pool.acquire() as conn:
            await store.lock_links(conn, locked)
            try:
                records, outbox = await _commit(
                    conn, ctx, principal, changes, atomic=atomic, validate_only=validate_only
                )
                await _refresh_edge(ctx, conn, changes, records, outbox)
            finally:
                with contextlib.suppress(*DATABASE_UNAVAILABLE):
                    await store.unlock_links(conn, locked)
    unwritten = validate_only or (atomic and not all(c.live for c in changes))
    return _results(ctx, changes, records, unwritten=unwritten)


async def _hash_passwords(changes: list[Change]) -> None:
    """argon2 is slow by design: hash off the event loop, before any lock is taken."""
    wanting = [c for c in changes if c.spec.password]
    if wanting:
        hashes = await asyncio.to_thread(
            lambda: [hash_password(c.spec.password or "") for c in wanting]
        )
        for change, hashed in zip(wanting, hashes, strict=True):
            change.password_hash = hashed


async def _commit(
    conn: asyncpg.Connection[Any],
    ctx: AppContext,
    principal: Principal,
    changes: list[Change],
    *,
    atomic: bool,
    validate_only: bool,
) -> tuple[dict[int, Any], list[int]]:
    """The committed rows by link id, and the edge outbox rows written with them."""
    workspace_id = principal.workspace_id
    try:
        async with conn.transaction():
            await _check(conn, ctx, principal, changes)
            if validate_only or (atomic and not all(c.live for c in changes)):
                raise _Rollback
            live = [c for c in changes if c.live]
            creates = [c for c in live if c.stored is None]
            await store.insert(conn, workspace_id, principal.key_id or None, creates)
            for change in creates:
                if change.link_id is None:
                    host, slug = change.address
                    change.fail("conflict", f"slug {slug!r} is already taken on {host}", "slug")
            if atomic and not all(c.live for c in changes):
                raise _Rollback
            await store.update(conn, workspace_id, [c for c in live if c.stored is not None])
            live = [c for c in changes if c.live]
            await store.replace_tags(conn, live)
            records = await store.fetch_records(conn, [c.link_id for c in live if c.link_id])
            outbox = await edge_outbox.record(
                conn, links=[c.link_id for c in live if c.link_id], addresses=_vacated(live)
            )
            return records, outbox
    except _Rollback:
        return {}, []
    except asyncpg.UniqueViolationError:
        # A concurrent writer took an address this batch moves a link to, after the
        # check: the transaction is gone, nothing was written.
        raise LinkError(
            "conflict", "a slug was taken by a concurrent request; nothing was written, try again"
        ) from None


async def _check(
    conn: asyncpg.Connection[Any], ctx: AppContext, principal: Principal, changes: list[Change]
) -> None:
    ids = [c.link_id for c in changes if c.link_id is not None]
    stored = await store.load_for_update(conn, principal.workspace_id, ids)
    seen: set[int] = set()
    for change in changes:
        if not change.live:
            continue
        if change.link_id is not None:
            if change.link_id in seen:
                change.fail("invalid", f"link {change.link_id} appears twice in the batch", "id")
                continue
            seen.add(change.link_id)
            change.stored = stored.get(change.link_id)
            if change.stored is None:
                change.fail("not_found", f"no link {change.link_id} in this workspace")
                continue
        validate.prepare(ctx, change)
    await validate.check_workspace(conn, ctx, principal, changes)
    await slugs.assign(conn, changes)


def _vacated(changes: list[Change]) -> list[tuple[str, str]]:
    """Addresses the changes moved links away from (a new slug or domain)."""
    return [c.old_address for c in changes if c.old_address and c.old_address != c.address]


async def _refresh_edge(
    ctx: AppContext,
    conn: asyncpg.Connection[Any],
    changes: list[Change],
    records: dict[int, Any],
    outbox: list[int],
) -> None:
    """Write the committed rows to the edge; if Redis fails, the outbox rows written
    with them bring the edge to the truth later (edge_sync)."""
    written = [c for c in changes if c.live and c.link_id in records]
    if not written:
        return
    links = [edge_link_from_row(records[c.link_id]) for c in written if c.link_id]
    gone = _vacated(written)
    await edge_outbox.settle(conn, outbox, lambda: ctx.cache.put_links(links, gone=gone))


def _results(
    ctx: AppContext, changes: list[Change], records: dict[int, Any], *, unwritten: bool
) -> list[LinkRecord | LinkError]:
    """One entry per change; with `unwritten` the fine ones say they were not written."""
    scheme = ctx.settings.edge.public_scheme
    results: list[LinkRecord | LinkError] = []
    for change in changes:
        if change.error is not None:
            results.append(change.error)
        elif unwritten:
            results.append(LinkError("invalid", NOT_WRITTEN, index=change.index))
        else:
            assert change.link_id is not None
            results.append(record_of_row(records[change.link_id], scheme))
    return results


async def delete_one(ctx: AppContext, principal: Principal, link_id: int) -> None:
    await delete_many(ctx, principal, [link_id])


async def delete_many(ctx: AppContext, principal: Principal, link_ids: list[int]) -> None:
    """Soft-delete every link of `link_ids`, or none: one not in the workspace (or gone
    already) refuses the whole request, naming every such id."""
    wanted = sorted(set(link_ids))
    with database_available():
        async with ctx.pool.acquire() as conn:
            await store.lock_links(conn, wanted)
            try:
                async with conn.transaction():
                    rows = await conn.fetch(
                        """UPDATE links SET deleted_at = now(), version = version + 1,
                               updated_at = now()
                           WHERE id = ANY($1) AND workspace_id = $2 AND deleted_at IS NULL
                           RETURNING id, host, slug""",
                        wanted,
                        principal.workspace_id,
                    )
                    missing = sorted(set(wanted) - {r["id"] for r in rows})
                    if missing:
                        listed = ", ".join(map(str, missing))
                        noun = "link" if len(missing) == 1 else "links"
                        raise LinkError("not_found", f"no {noun} {listed} in this workspace")
                    # A deleted link is kept (its statistics stay); its visitors' push
                    # subscriptions are not: nobody can send to them any more.
                    await conn.execute(
                        "DELETE FROM push_subscriptions WHERE link_id = ANY($1)", wanted
                    )
                    outbox = await edge_outbox.record(conn, links=wanted)
                addresses = [(r["host"], r["slug"]) for r in rows]
                await edge_outbox.settle(conn, outbox, lambda: ctx.cache.drop_links(addresses))
            finally:
                with contextlib.suppress(*DATABASE_UNAVAILABLE):
                    await store.unlock_links(conn, wanted)
