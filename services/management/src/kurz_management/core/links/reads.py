"""Reading links: by id, by address, a filtered page, and all of them in batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from kurz.validation import is_id

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links.guard import database_available
from kurz_management.core.links.model import (
    MAX_LIST_LIMIT,
    LinkError,
    LinkQuery,
    LinkRecord,
    PublicLink,
)
from kurz_management.core.links.rows import RECORD_SELECT, record_of_row
from kurz_management.core.links.validate import normalize_address

_LIVE = "l.workspace_id = $1 AND l.deleted_at IS NULL"


async def get_by_id(ctx: AppContext, principal: Principal, link_id: int) -> LinkRecord:
    with database_available():
        row = await ctx.pool.fetchrow(
            f"{RECORD_SELECT} WHERE {_LIVE} AND l.id = $2", principal.workspace_id, link_id
        )
    if row is None:
        raise LinkError("not_found", f"no link {link_id} in this workspace")
    return record_of_row(row, ctx.settings.edge.public_scheme)


async def get_public(ctx: AppContext, link_id: int) -> PublicLink:
    """A live link whose owner made its statistics public, with its workspace's time
    zone; any other id (off, deleted, unknown) is the same `not_found`."""
    with database_available():
        row = await ctx.pool.fetchrow(
            f"""SELECT r.*, w.time_zone
                FROM ({RECORD_SELECT} WHERE l.id = $1 AND l.public_analytics
                      AND l.deleted_at IS NULL) AS r
                JOIN workspaces w ON w.id = r.workspace_id""",
            link_id,
        )
    if row is None:
        raise LinkError("not_found", f"no public link {link_id}")
    return PublicLink(record_of_row(row, ctx.settings.edge.public_scheme), row["time_zone"])


async def get_by_address(ctx: AppContext, principal: Principal, host: str, slug: str) -> LinkRecord:
    host, slug = normalize_address(ctx, host, slug)
    with database_available():
        row = await ctx.pool.fetchrow(
            f"{RECORD_SELECT} WHERE {_LIVE} AND l.host = $2 AND l.slug = $3",
            principal.workspace_id,
            host,
            slug,
        )
    if row is None:
        raise LinkError("not_found", f"no link {host}/{slug} in this workspace")
    return record_of_row(row, ctx.settings.edge.public_scheme)


def _filters(principal: Principal, query: LinkQuery) -> tuple[str, list[Any]]:
    clauses, args = [_LIVE], [principal.workspace_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if query.search:
        pattern = arg("%" + _escape_like(query.search) + "%")
        clauses.append(
            f"(l.url ILIKE {pattern} OR l.slug ILIKE {pattern} OR l.title ILIKE {pattern}"
            f" OR l.note ILIKE {pattern})"
        )
    if query.domain:
        clauses.append(f"l.host = {arg(query.domain)}")
    if query.group_id is not None:
        clauses.append(f"l.group_id = {arg(query.group_id)}")
    if query.tag_id is not None:
        tag = arg(query.tag_id)
        clauses.append(
            f"EXISTS (SELECT 1 FROM link_tags t WHERE t.link_id = l.id AND t.tag_id = {tag})"
        )
    if query.slug is not None:
        clauses.append(f"l.slug = {arg(query.slug)}")
    if query.title_contains:
        clauses.append(f"l.title ILIKE {arg('%' + _escape_like(query.title_contains) + '%')}")
    if query.note_contains:
        clauses.append(f"l.note ILIKE {arg('%' + _escape_like(query.note_contains) + '%')}")
    if query.url is not None:
        clauses.append(f"l.url = {arg(query.url)}")
    if query.created_from is not None:
        clauses.append(f"l.created_at >= {arg(query.created_from)}")
    if query.created_to is not None:
        clauses.append(f"l.created_at < {arg(query.created_to)}")
    return " AND ".join(clauses), args


_ORDER_BY = {
    "id": "l.id",
    "created_at": "l.created_at",
    "updated_at": "l.updated_at",
    "title": "lower(l.title)",
    "url": "l.url",
    "clicks": "(SELECT coalesce(sum(d.clicks), 0) FROM link_daily d WHERE d.link_id = l.id)",
}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_page(
    ctx: AppContext, principal: Principal, query: LinkQuery
) -> tuple[list[LinkRecord], int]:
    texts = (query.search, query.domain, query.slug, query.title_contains, query.note_contains,
             query.url)  # fmt: skip
    if any("\x00" in (text or "") for text in texts):
        raise LinkError("invalid", "search text contains a NUL character")
    if any(i is not None and not is_id(i) for i in (query.group_id, query.tag_id)):
        raise LinkError("invalid", "group and tag ids are positive 64-bit numbers")
    if query.offset < 0 or not 1 <= query.limit <= MAX_LIST_LIMIT:
        raise LinkError("invalid", f"offset must be >= 0 and limit from 1 to {MAX_LIST_LIMIT}")
    where, args = _filters(principal, query)
    direction = "DESC" if query.descending else "ASC"
    order = f"{_ORDER_BY[query.order]} {direction} NULLS LAST, l.id {direction}"
    window = f"ORDER BY {order} LIMIT {int(query.limit)} OFFSET {int(query.offset)}"
    with database_available():
        async with ctx.pool.acquire() as conn:
            total = await conn.fetchval(f"SELECT count(*) FROM links l WHERE {where}", *args)
            rows = await conn.fetch(f"{RECORD_SELECT} WHERE {where} {window}", *args)
    scheme = ctx.settings.edge.public_scheme
    return [record_of_row(r, scheme) for r in rows], int(total)


async def iter_all(
    ctx: AppContext, principal: Principal, *, batch: int = 1000, search: str | None = None
) -> AsyncIterator[list[LinkRecord]]:
    """Keyset pages by id: no transaction held open while the caller streams."""
    if search is not None and "\x00" in search:
        raise LinkError("invalid", "search text contains a NUL character")
    where, args = _filters(principal, LinkQuery(search=search))
    after, size = f"${len(args) + 1}", f"${len(args) + 2}"
    last_id = 0
    scheme = ctx.settings.edge.public_scheme
    while True:
        with database_available():
            rows = await ctx.pool.fetch(
                f"{RECORD_SELECT} WHERE {where} AND l.id > {after} ORDER BY l.id LIMIT {size}",
                *args,
                last_id,
                batch,
            )
        if not rows:
            return
        yield [record_of_row(r, scheme) for r in rows]
        last_id = rows[-1]["id"]
