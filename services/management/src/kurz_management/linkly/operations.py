"""The Linkly family's link routes with their OpenAPI entries, and the types they
document."""

from __future__ import annotations

import msgspec

from kurz_management import openapi
from kurz_management.linkly.errors import LinklyErrorBody
from kurz_management.linkly.export import LinklyExportQuery
from kurz_management.linkly.render import LinklyLink
from kurz_management.linkly.schema import LinklyLinkIn
from kurz_management.openapi import DocumentedRoute

FAMILY = "linkly"
_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded")


class LinklyAuthQuery(msgspec.Struct, omit_defaults=True):
    """The key and workspace may come in the query instead of headers or body.

    Fields:
        api_key: The API key, when not in the X-API-KEY header.
        workspace_id: The key's workspace, when not in the X-WORKSPACE-ID header.
    """

    api_key: str | None = None
    workspace_id: int | None = None


DOC = openapi.FamilyDoc(
    FAMILY,
    "Linkly-compatible link API. Key and workspace by X-API-KEY / "
    "X-WORKSPACE-ID headers, or api_key / workspace_id in the query or body.",
    {"linkly_key": {"type": "apiKey", "in": "header", "name": "X-API-KEY"}},
)


def declared() -> list[DocumentedRoute]:
    """The link routes, each with its OpenAPI entry."""
    from kurz_management.linkly import handlers
    from kurz_management.linkly.endpoint import linkly_route
    from kurz_management.linkly.export import export_links

    return [
        linkly_route(
            openapi.operation(
                "POST",
                "/api/v1/link",
                FAMILY,
                LinklyLinkIn,
                LinklyLink | list[LinklyLink],
                errors={s: LinklyErrorBody for s in (400, 401, 403, 404, 409, 413, 422, 429)},
                summary="Create a link, or update it when id / link_id is given",
                description="A JSON array of links is saved like the bulk endpoint and answered "
                "with an array.",
                request_content_types=_BODY_TYPES,
                security="linkly_key",
                query_type=LinklyAuthQuery,
            ),
            handlers.save_link,
        ),
        linkly_route(
            openapi.operation(
                "POST",
                "/api/v1/workspace/{ws}/links",
                FAMILY,
                list[LinklyLinkIn],
                list[LinklyLink],
                errors={s: LinklyErrorBody for s in (400, 401, 403, 404, 413, 422, 429)},
                summary="Create and update up to 1000 links, all or nothing",
                description="A single link object is answered with a single link object.",
                security="linkly_key",
                query_type=LinklyAuthQuery,
            ),
            handlers.save_links,
        ),
        linkly_route(
            openapi.operation(
                "GET",
                "/api/v1/get_link/{link_id:id}",
                FAMILY,
                None,
                LinklyLink,
                errors={s: LinklyErrorBody for s in (401, 403, 404, 429)},
                summary="One link",
                security="linkly_key",
                query_type=LinklyAuthQuery,
            ),
            handlers.get_link,
        ),
        linkly_route(
            openapi.operation(
                "DELETE",
                "/api/v1/workspace/{ws}/links/{link_id:id}",
                FAMILY,
                None,
                LinklyLink,
                errors={s: LinklyErrorBody for s in (401, 403, 404, 429)},
                summary="Delete a link; answers it with deleted: true",
                security="linkly_key",
                query_type=LinklyAuthQuery,
            ),
            handlers.delete_link,
        ),
        linkly_route(
            openapi.operation(
                "GET",
                "/api/v1/workspace/{ws}/links/export",
                FAMILY,
                None,
                list[LinklyLink],
                errors={s: LinklyErrorBody for s in (400, 401, 403, 429)},
                summary="Every link of the workspace, streamed as JSON or CSV (format=csv)",
                security="linkly_key",
                query_type=LinklyExportQuery,
                text_media=("text/csv",),
            ),
            export_links,
        ),
    ]
