"""Reading links: by id, by address, a filtered page, and all of them in batches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, NamedTuple

from kurz.validation import is_id

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links.guard import database_available
from kurz_management.core.links.model import (
    LINK_ORDERS,
    LINK_STATES,
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


_SEARCHED = ("slug", "title", "note", "url")


def _filters(principal: Principal, query: LinkQuery) -> tuple[str, list[Any]]:
    clauses, args = [_LIVE], [principal.workspace_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    # Case-insensitive as lower() on both sides, which is what ILIKE does in a UTF-8
    # database, at half its cost a row: a search most links match is tested on each.
    # The trigram indexes are on these very expressions. Shortest columns first: the
    # first that matches spares the others.
    if query.search:
        pattern = f"lower({arg('%' + _escape_like(query.search) + '%')})"
        clauses.append("(" + " OR ".join(f"lower(l.{c}) LIKE {pattern}" for c in _SEARCHED) + ")")
    equal = (("host", query.domain or None), ("group_id", query.group_id), ("slug", query.slug),
             ("url", query.url))  # fmt: skip
    for column, value in equal:
        if value is not None:
            clauses.append(f"l.{column} = {arg(value)}")
    if query.tag_id is not None:
        tag = arg(query.tag_id)
        clauses.append(
            f"EXISTS (SELECT 1 FROM link_tags t WHERE t.link_id = l.id AND t.tag_id = {tag})"
        )
    for column, part in (("title", query.title_contains), ("note", query.note_contains)):
        if part:
            pattern = arg("%" + _escape_like(part) + "%")
            clauses.append(f"lower(l.{column}) LIKE lower({pattern})")
    if query.created_from is not None:
        clauses.append(f"l.created_at >= {arg(query.created_from)}")
    if query.created_to is not None:
        clauses.append(f"l.created_at < {arg(query.created_to)}")
    if query.state is not None:
        clauses.append(_STATE[query.state])
    return " AND ".join(clauses), args


# A link's counted clicks, for its click limit (every link has a link_totals row; the
# coalesce keeps the conditions true or false, never NULL, so NOT works on them).
_TOTAL = "coalesce((SELECT t.clicks FROM link_totals t WHERE t.link_id = l.id), 0)"
_ENDED = (
    f"((l.expires_at IS NOT NULL AND l.expires_at <= now())"
    f" OR (l.max_clicks IS NOT NULL AND {_TOTAL} >= l.max_clicks))"
)
# As kurz.decision.decide checks a visit: disabled first, then the schedule.
# The expired condition repeats what links_may_end is partial on, so the planner can
# prove it applies; "disabled" is what links_disabled is partial on.
_STATE = {
    "disabled": "NOT l.enabled",
    "expired": f"l.enabled AND (l.expires_at IS NOT NULL OR l.max_clicks IS NOT NULL) AND {_ENDED}",
    "active": f"l.enabled AND (l.starts_at IS NULL OR l.starts_at <= now()) AND NOT {_ENDED}",
}


# Sort keys. Only title can be NULL: the others leave out NULLS LAST, which an index in
# plain order could not serve (the planner does not read NOT NULL into the sort order).
# Clicks come from link_totals (joined as lt when sorting by them, see list_page).
_ORDER_BY = {
    "id": "l.id",
    "created_at": "l.created_at",
    "updated_at": "l.updated_at",
    "title": "lower(l.title)",
    "url": "l.url",
    "clicks": "lt.clicks",
}
_NULLABLE_ORDERS = frozenset({"title"})


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PageQuery(NamedTuple):
    """The statements of one list page: its rows, and how many links match in all."""

    page_sql: str
    count_sql: str
    args: list[Any]


def page_query(principal: Principal, query: LinkQuery) -> PageQuery:
    """The SQL `list_page` runs for `query` (refused as `invalid` when it is not valid)."""
    texts = (query.search, query.domain, query.slug, query.title_contains, query.note_contains,
             query.url)  # fmt: skip
    if any("\x00" in (text or "") for text in texts):
        raise LinkError("invalid", "search text contains a NUL character")
    if any(i is not None and not is_id(i) for i in (query.group_id, query.tag_id)):
        raise LinkError("invalid", "group and tag ids are positive 64-bit numbers")
    if query.offset < 0 or not 1 <= query.limit <= MAX_LIST_LIMIT:
        raise LinkError("invalid", f"offset must be >= 0 and limit from 1 to {MAX_LIST_LIMIT}")
    if query.state is not None and query.state not in LINK_STATES:
        raise LinkError("invalid", f"state must be one of {', '.join(LINK_STATES)}")
    if query.order not in _ORDER_BY:
        raise LinkError("invalid", f"order must be one of {', '.join(LINK_ORDERS)}")
    where, args = _filters(principal, query)
    direction = "DESC" if query.descending else "ASC"
    nulls = " NULLS LAST" if query.order in _NULLABLE_ORDERS else ""
    order = f"{_ORDER_BY[query.order]} {direction}{nulls}, l.id {direction}"
    window = f"ORDER BY {order} LIMIT {int(query.limit)} OFFSET {int(query.offset)}"
    source = RECORD_SELECT
    if query.order == "clicks":
        # The workspace stated on lt too, so link_totals_clicks is walked in order and
        # the page stops after `limit` live matches instead of sorting the workspace.
        source += " JOIN link_totals lt ON lt.link_id = l.id AND lt.workspace_id = $1"
    count = f"SELECT count(*) FROM links l WHERE {where}"
    return PageQuery(f"{source} WHERE {where} {window}", count, args)


async def list_page(
    ctx: AppContext, principal: Principal, query: LinkQuery
) -> tuple[list[LinkRecord], int]:
    """One page and the exact number of links that match.

    The total costs a count over every match, the dearest part of a page when many
    links match; it is left out when the page itself tells it (a page neither empty
    nor full is the last one). Counting stays exact rather than capped: each API family
    reports it as a number of links or pages its clients page through."""
    statements = page_query(principal, query)
    with database_available():
        async with ctx.pool.acquire() as conn:
            # One snapshot: the total counts the rows the page was cut from.
            snapshot = conn.transaction(isolation="repeatable_read", readonly=True)
            async with snapshot:
                # A plan for these very values: the cached generic plan of a search cannot
                # see how few links match and walks the whole workspace in id order
                # instead of using the trigram indexes (hundreds of ms at 100,000 links).
                # No JIT: the per-row subplans of the state filter price a count over a
                # large workspace above jit_above_cost, and compiling then takes ~200 ms
                # for a scan of ~20 ms.
                # Index reads priced as reads from memory, which a workspace's links and
                # their indexes are on a server that lists them: at the default 4.0 (a
                # spinning disk) the count reads the whole table rather than the
                # workspace's index, or all 100,000 links to count one tag's 5,000 (at
                # 100,000 links: 12 ms instead of 35, 20 instead of 50).
                await conn.execute(
                    "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off;"
                    " SET LOCAL random_page_cost = 1.1"
                )
                rows = await conn.fetch(statements.page_sql, *statements.args)
                if 0 < len(rows) < query.limit:
                    total = query.offset + len(rows)
                else:
                    total = int(await conn.fetchval(statements.count_sql, *statements.args))
    scheme = ctx.settings.edge.public_scheme
    return [record_of_row(r, scheme) for r in rows], total


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
