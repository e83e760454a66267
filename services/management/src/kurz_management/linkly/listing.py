"""Linkly's listing endpoints: the key's workspaces, a workspace's links page by page
(with search, sorting and each link's clicks), one link by `/link/{id}`, and deleting
several links at once."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from kurz_management import constraints as c
from kurz_management.constraints import query_breach
from kurz_management.context import AppContext
from kurz_management.core import workspace_settings
from kurz_management.core.links import service
from kurz_management.core.links.model import MAX_LIST_LIMIT, LinkQuery
from kurz_management.linkly.errors import LinklyError
from kurz_management.linkly.render import LinklyLink, encode, to_linkly
from kurz_management.linkly.request import authorized
from kurz_management.openapi import DocumentedRoute, fields_doc

FAMILY = "linkly"
PageSize = Annotated[int, msgspec.Meta(ge=1, le=MAX_LIST_LIMIT)]
Page = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
SortBy = Literal[
    "id", "created_at", "inserted_at", "updated_at", "name", "url", "clicks_total"
]  # fmt: skip
# inserted_at: Pipedream's new-link source sorts by it (Linkly's name for created_at).
_ORDER_OF_SORT = {"name": "title", "clicks_total": "clicks", "inserted_at": "created_at"}


class LinkListQuery(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """Fields:
    page: The page, from 1.
    page_size: Links a page, 1 to 1000.
    search: Only links whose URL, name, slug or note contains this (any case).
    sort_by: id (default), created_at (or inserted_at), updated_at, name, url or
        clicks_total.
    sort_dir: desc (default) or asc.
    api_key: The API key, when not in a header.
    workspace_id: The key's workspace, when not in the path.
    """

    page: Page = 1
    page_size: PageSize = 25
    search: c.Text | None = None
    sort_by: SortBy = "id"
    sort_dir: Literal["asc", "desc"] = "desc"
    api_key: str | None = None
    workspace_id: str | None = None


class LinklyListedLink(LinklyLink):
    __doc__ = fields_doc(
        "A link as in the other answers, with its clicks and when it was made.",
        {"clicks_total": "Counted clicks of the link, all time.",
         "inserted_at": "When the link was created (ISO 8601)."},
    )  # fmt: skip

    clicks_total: int
    inserted_at: str


class LinklyLinkPage(msgspec.Struct):
    """Fields:
    links: This page's links.
    total: Links matching the search, in all pages.
    page: This page.
    page_size: Links a page.
    """

    links: list[LinklyListedLink]
    total: int
    page: int
    page_size: int


class LinklyWorkspace(msgspec.Struct):
    """Fields:
    id: The workspace's id (the {ws} of the other paths).
    name: Its name.
    """

    id: int
    name: str


class LinkIds(msgspec.Struct, forbid_unknown_fields=False):
    """Fields:
    ids: The links to delete: all of them, or none when one is not in the workspace.
    """

    ids: Annotated[list[c.Id], msgspec.Meta(min_length=1)]


class LinksDeleted(msgspec.Struct):
    """Fields:
    deleted: How many links were deleted.
    ids: Their ids.
    """

    deleted: int
    ids: list[int]


def _json(value: object) -> Response:
    return Response(encode(value), media_type="application/json")


def _query(request: Request) -> LinkListQuery:
    params = dict(request.query_params)
    if breach := query_breach(LinkListQuery, params):
        raise LinklyError(400, f"invalid query: {breach[1]}", field=breach[0])
    try:
        return msgspec.convert(params, LinkListQuery, strict=False)
    except msgspec.ValidationError as exc:
        raise LinklyError(400, f"invalid query: {exc}") from None


async def list_links(request: Request, ctx: AppContext) -> Response:
    principal, _ = await authorized(request, ctx)
    q = _query(request)
    query = LinkQuery.page(
        q.page, q.page_size, search=q.search or None,
        order=_ORDER_OF_SORT.get(q.sort_by, q.sort_by), descending=q.sort_dir == "desc",
    )  # fmt: skip
    records, total = await service.list_links(ctx, principal, query)
    domain = ctx.settings.edge.default_domain
    links = [
        LinklyListedLink(
            **msgspec.structs.asdict(to_linkly(r, domain)),
            clicks_total=r.clicks,
            inserted_at=r.created_at.isoformat(),
        )
        for r in records
    ]
    return _json(LinklyLinkPage(links, total, q.page, q.page_size))


async def list_workspaces(request: Request, ctx: AppContext) -> Response:
    principal, _ = await authorized(request, ctx, workspace_in_path=False)
    settings = await workspace_settings.get_settings(ctx, principal)
    # A bare array, as Pipedream's list-workspaces reads it (a kurz key reaches one).
    return _json([LinklyWorkspace(principal.workspace_id, settings.name)])


async def delete_links(request: Request, ctx: AppContext) -> Response:
    principal, payload = await authorized(request, ctx)
    try:
        body = msgspec.convert(payload.data, LinkIds, strict=False)
    except msgspec.ValidationError as exc:
        raise LinklyError(400, f'the body must be {{"ids": [link ids]}}: {exc}') from None
    limit = ctx.settings.api.bulk_max
    if len(body.ids) > limit:
        raise LinklyError(413, f"at most {limit} ids per request; this one has {len(body.ids)}")
    await service.delete_links(ctx, principal, body.ids)
    unique = sorted(set(body.ids))
    return _json(LinksDeleted(len(unique), unique))


def declared() -> list[DocumentedRoute]:
    from kurz_management.linkly.endpoint import linkly_operation, linkly_route
    from kurz_management.linkly.handlers import get_link

    return [
        linkly_route(
            linkly_operation("GET", "/api/v1/workspaces", None, list[LinklyWorkspace],
                             "The workspaces the key reaches", errors=(400, 404)),
            list_workspaces,
        ),
        linkly_route(
            linkly_operation("GET", "/api/v1/workspace/{ws}/list_links", None, LinklyLinkPage,
                             "A page of the workspace's links with their clicks; search and "
                             "sort", errors=(400, 404), query=LinkListQuery),
            list_links,
        ),
        linkly_route(
            linkly_operation("GET", "/api/v1/link/{link_id}", None, LinklyLink, "One link",
                             errors=(404,)),
            get_link,
        ),
        linkly_route(
            linkly_operation("DELETE", "/api/v1/workspace/{ws}/links", LinkIds, LinksDeleted,
                             "Delete several links, all or none", errors=(400, 404, 413, 422)),
            delete_links,
        ),
    ]  # fmt: skip
