"""The link use cases every API family calls: create, update, delete, read, list, bulk.

Families parse their request shape into a `kurz.models.LinkSpec`, call here, and render
the `LinkRecord` or `LinkError` in their own format. No family re-implements a rule.

Updates change only the fields of the spec that are not None. To clear a field, name
it in `spec_clears` (LinkSpec field names): text and time fields become NULL,
`max_clicks` becomes unlimited, `tag_ids` / `webhook_urls` / `rules` become empty,
`password` removes the password. Fields without an "empty" value (url, domain, slug,
redirect_type, link_type and the booleans) cannot be cleared: `invalid`.

Everything is scoped to `principal.workspace_id`: another workspace's link is
`not_found`, exactly like a link that does not exist.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection

from kurz.models import LinkSpec, LinkType
from kurz.validation import InvalidLink, is_id, normalize_destination

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links import reads, writes
from kurz_management.core.links.model import (
    MAX_LIST_LIMIT,
    NOT_WRITTEN,
    ErrorKind,
    LinkError,
    LinkQuery,
    LinkRecord,
    PublicLink,
    public_stats_path,
)

__all__ = [
    "MAX_LIST_LIMIT",
    "NOT_WRITTEN",
    "ErrorKind",
    "LinkError",
    "LinkQuery",
    "LinkRecord",
    "PublicLink",
    "bulk_upsert",
    "create_link",
    "delete_link",
    "find_link",
    "get_link",
    "iter_links",
    "list_links",
    "public_link",
    "public_stats_path",
    "update_link",
]


async def create_link(
    ctx: AppContext, principal: Principal, spec: LinkSpec, *, reuse: bool = False
) -> LinkRecord:
    """A new link; with `reuse`, the workspace's first live link to the same destination
    when there is one (Vivoldi's reuseYn), else a new one."""
    if reuse and spec.url:
        try:
            url = normalize_destination(spec.link_type or LinkType.URL, spec.url)
        except InvalidLink:
            url = None  # not a destination: creating it reports why
        if url is not None:
            found, _ = await reads.list_page(
                ctx, principal, LinkQuery(url=url, order="id", descending=False, limit=1)
            )
            if found:
                return found[0]
    return await writes.create_one(ctx, principal, spec)


async def update_link(
    ctx: AppContext,
    principal: Principal,
    link_id: int,
    spec: LinkSpec,
    *,
    spec_clears: Collection[str] = (),
) -> LinkRecord:
    _known_id(link_id)
    return await writes.update_one(ctx, principal, link_id, spec, frozenset(spec_clears))


async def delete_link(ctx: AppContext, principal: Principal, link_id: int) -> None:
    """Soft delete: the row stays (statistics keep their link) and the address is
    freed; the edge record is dropped."""
    _known_id(link_id)
    await writes.delete_one(ctx, principal, link_id)


async def delete_links(ctx: AppContext, principal: Principal, link_ids: list[int]) -> None:
    """Soft-delete several links at once, all or none (an id not in the workspace
    refuses the request and deletes nothing)."""
    if not link_ids:
        raise LinkError("invalid", "give at least one link id", field="ids")
    for link_id in link_ids:
        _known_id(link_id)
    await writes.delete_many(ctx, principal, link_ids)


async def get_link(ctx: AppContext, principal: Principal, link_id: int) -> LinkRecord:
    _known_id(link_id)
    return await reads.get_by_id(ctx, principal, link_id)


async def public_link(ctx: AppContext, link_id: int) -> PublicLink:
    """For the public statistics page, without a principal: the link when it is live and
    its statistics are public (public_analytics), else `not_found`, the same for a link
    that does not exist, so the page never tells whether a private link exists."""
    if not is_id(link_id):
        raise LinkError("not_found", f"no public link {link_id}")
    return await reads.get_public(ctx, link_id)


async def find_link(ctx: AppContext, principal: Principal, host: str, slug: str) -> LinkRecord:
    """By address (Vivoldi identifies links by domain + slug)."""
    return await reads.get_by_address(ctx, principal, host, slug)


async def list_links(
    ctx: AppContext, principal: Principal, query: LinkQuery
) -> tuple[list[LinkRecord], int]:
    """One window of the workspace's links and the total matching the filters."""
    return await reads.list_page(ctx, principal, query)


def iter_links(
    ctx: AppContext, principal: Principal, *, batch: int = 1000, search: str | None = None
) -> AsyncIterator[list[LinkRecord]]:
    """Every live link of the workspace (matching `search`, as list_links does), oldest
    first, in batches (constant memory: for streamed exports)."""
    return reads.iter_all(ctx, principal, batch=batch, search=search)


async def bulk_upsert(
    ctx: AppContext,
    principal: Principal,
    items: list[tuple[int | None, LinkSpec]],
    *,
    atomic: bool,
    validate_only: bool = False,
) -> list[LinkRecord | LinkError]:
    """Create (id None) or update (id given) many links: every item is validated first,
    then one round of multi-row writes in one transaction, then one pipelined edge
    cache write. The result has one entry per item, in order.

    atomic=True: if any item fails, nothing is written and the result holds the
    errors (items that were fine are reported as `LinkError("invalid", "not written:
    another item failed")` with their index). atomic=False: the valid items are
    written, each invalid one is reported in its place.

    validate_only=True: every check runs, nothing is written, and the result holds the
    errors (fine items as NOT_WRITTEN): to report every problem of a batch refused
    for another reason.

    More than settings.api.bulk_max items: raises LinkError("invalid") and writes
    nothing. Postgres unreachable: raises LinkError("unavailable")."""
    return await writes.upsert_many(
        ctx, principal, items, atomic=atomic, validate_only=validate_only
    )


def _known_id(link_id: int) -> None:
    """An id no bigint can hold names no link (and must not reach the database)."""
    if not is_id(link_id):
        raise LinkError("not_found", f"no link {link_id} in this workspace")
