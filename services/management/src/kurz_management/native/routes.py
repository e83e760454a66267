"""The native API: routes and their OpenAPI entries."""

from __future__ import annotations

from starlette.routing import BaseRoute

from kurz_management import openapi
from kurz_management.linkly import domains as linkly_domains
from kurz_management.linkly.endpoint import linkly_endpoint
from kurz_management.native import catalog, links
from kurz_management.native.routing import FAMILY, SECURITY, native_route, shared_with_linkly
from kurz_management.native.schema import (
    BulkFailure,
    BulkRequest,
    BulkResponse,
    LinkCreate,
    LinkEnvelope,
    LinkList,
    LinkPatch,
    ListQuery,
)

DOC = openapi.FamilyDoc(
    FAMILY,
    'kurz\'s own API. Success: {"link": {...}}; '
    'failure: {"error": "..."} (400 bad body, 401 bad key, 403 not allowed, 404 not in '
    "your workspace, 409 slug taken, 413 body too large, 422 validation failed, 429 rate "
    "limited, 503 database unavailable). Rate-limit headers on every answer. Request "
    "bodies are strict: an unknown field is a 400. PATCH changes the fields given, "
    "clears those given as null, and leaves absent ones. Custom domains are verified by "
    "a DNS TXT record (KURZ_DOMAIN_VERIFICATION=trust verifies at once, for development).",
    {
        SECURITY: {
            "type": "http",
            "scheme": "bearer",
            "description": "Authorization: Bearer <API key>",
        }
    },
)


routes: list[BaseRoute] = [
    native_route(
        "POST",
        "/api/v1/links",
        links.create_link,
        "Create a link",
        request=LinkCreate,
        response=LinkEnvelope,
        errors=(400, 403, 409, 413, 422),
        status=201,
    ),
    native_route(
        "GET",
        "/api/v1/links",
        links.list_links,
        "Search and page through links",
        response=LinkList,
        query=ListQuery,
        errors=(400, 422),
    ),
    native_route(
        "POST",
        "/api/v1/links/bulk",
        links.bulk_links,
        "Create or update up to KURZ_BULK_MAX links at once",
        request=BulkRequest,
        response=BulkResponse,
        errors=(400, 403, 409, 413, 422),
        status=201,
        failure=BulkFailure,
        # 200: not every item written (or none given); an atomic batch refused for an
        # unknown id answers that item's 404.
        also={200: BulkResponse, 404: BulkFailure},
    ),
    native_route(
        "GET",
        "/api/v1/links/{link_id:id}",
        links.get_link,
        "Get a link",
        response=LinkEnvelope,
        errors=(404,),
    ),
    native_route(
        "PATCH",
        "/api/v1/links/{link_id:id}",
        links.update_link,
        "Change a link: given fields change, null clears, absent fields stay",
        request=LinkPatch,
        response=LinkEnvelope,
        errors=(400, 403, 404, 409, 413, 422),
    ),
    native_route(
        "DELETE",
        "/api/v1/links/{link_id:id}",
        links.delete_link,
        "Delete a link",
        errors=(404,),
        status=204,
    ),
    native_route("GET", "/api/v1/tags", catalog.list_tags, "List tags", response=catalog.TagList),
    native_route(
        "GET",
        "/api/v1/pixels",
        catalog.list_pixels,
        "List the tracking pixels the workspace's links fire",
        response=catalog.PixelList,
    ),
    native_route(
        "POST",
        "/api/v1/tags",
        catalog.create_tag,
        "Create a tag",
        request=catalog.TagCreate,
        response=catalog.TagEnvelope,
        errors=(400, 409, 413, 422),
        status=201,
    ),
    native_route(
        "PATCH",
        "/api/v1/tags/{tag_id:id}",
        catalog.change_tag,
        "Rename or recolour a tag (its links keep it)",
        request=catalog.TagPatch,
        response=catalog.TagEnvelope,
        errors=(400, 404, 409, 413, 422),
    ),
    native_route(
        "DELETE",
        "/api/v1/tags/{tag_id:id}",
        catalog.delete_tag,
        "Delete a tag: links that had it keep their other tags",
        errors=(404,),
        status=204,
    ),
    shared_with_linkly(
        native_route(
            "GET",
            "/api/v1/domains",
            catalog.list_domains,
            "List custom domains",
            response=catalog.DomainList,
            description="Called with a Linkly key (`api_key` in the query, as Linkly's "
            "integrations send it), it answers Linkly's form: a bare array of domains.",
        ),
        linkly_endpoint(linkly_domains.account_domains),
    ),
    native_route(
        "POST",
        "/api/v1/domains",
        catalog.add_domain,
        "Add a custom domain (verify it next)",
        request=catalog.DomainCreate,
        response=catalog.DomainEnvelope,
        errors=(400, 409, 413, 422),
        status=201,
    ),
    native_route(
        "POST",
        "/api/v1/domains/{domain_id}/verify",
        catalog.verify_domain,
        "Verify a custom domain by its DNS TXT record",
        response=catalog.DomainEnvelope,
        errors=(404, 422),
    ),
    native_route(
        "DELETE",
        "/api/v1/domains/{domain_id}",
        catalog.delete_domain,
        "Remove a custom domain that no link uses",
        errors=(404, 409),
        status=204,
        description="409 while live links use the domain: delete or move them first.",
    ),
]

from kurz_management.native import workspace  # noqa: E402

routes += [
    native_route(
        "GET",
        "/api/v1/workspace",
        workspace.get_workspace,
        "Get the key's workspace: its branding and not-found redirects",
        response=workspace.WorkspaceEnvelope,
    ),
    native_route(
        "PATCH",
        "/api/v1/workspace",
        workspace.update_workspace,
        "Change the workspace's branding and not-found redirects: given fields change, "
        "null clears, absent fields stay",
        request=workspace.WorkspacePatch,
        response=workspace.WorkspaceEnvelope,
        errors=(400, 413, 422),
    ),
]

from kurz_management.native import analytics  # noqa: E402

routes += analytics.routes

from kurz_management.webhooks import routes as webhook_routes  # noqa: E402

routes += webhook_routes.routes

from kurz_management.push import routes as push_routes  # noqa: E402

routes += push_routes.routes
