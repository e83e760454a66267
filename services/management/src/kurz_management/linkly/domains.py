"""Linkly's workspace domains: list, add, delete, on the same use cases as kurz's own
/api/v1/domains (a domain is verified by a DNS TXT record before links may use it)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from kurz.validation import parse_id
from starlette.requests import Request
from starlette.responses import Response

from kurz_management import constraints as c
from kurz_management.context import AppContext
from kurz_management.core import catalog
from kurz_management.core.auth import Principal
from kurz_management.linkly.errors import LinklyError
from kurz_management.linkly.render import encode
from kurz_management.linkly.request import authorized
from kurz_management.linkly.schema import LinklyLinkIn
from kurz_management.openapi import DocumentedRoute

FAMILY = "linkly"


class LinklyDomainIn(msgspec.Struct, forbid_unknown_fields=False):
    """Other members (api_key, workspace_id) are read by authentication.

    Fields:
        name: The domain, e.g. links.example.com.
    """

    name: c.Host


class LinklyDomain(msgspec.Struct):
    """Fields:
    id: The domain's id.
    name: The domain (international names in punycode).
    full_url: The domain as its short URLs begin, https://name.
    verified: Whether its DNS TXT record was found; links may use it once verified.
    verify_record: The TXT record to publish.
    verify_token: The value the TXT record holds.
    workspace_id: The domain's workspace.
    created_at: When it was added.
    deleted: Whether this answer is the domain just deleted.
    """

    id: int
    name: str
    full_url: str
    verified: bool
    verify_record: str
    verify_token: str | None
    workspace_id: int
    created_at: datetime
    deleted: bool = False


class LinklyDomains(msgspec.Struct):
    """Fields:
    domains: The workspace's custom domains.
    """

    domains: list[LinklyDomain]


async def resolve_domain_ids(
    ctx: AppContext, principal: Principal, links: list[LinklyLinkIn]
) -> None:
    """Links that name their domain by `domain_id` get its host (Pipedream's update
    action sends it); an id that is not one of the workspace's domains is refused, and
    one that disagrees with a `domain` given beside it too."""
    wanted = [link.domain_id for link in links if link.domain_id is not None]
    if not wanted:
        return
    hosts = await catalog.domain_hosts(ctx, principal, wanted)
    for link in links:
        if link.domain_id is None:
            continue
        host = hosts[link.domain_id]
        if link.domain is not None and link.domain.strip().lower() not in (host, f"https://{host}"):
            raise LinklyError(422, "domain_id and domain name different domains", field="domain_id")
        link.domain = host


def _render(
    ctx: AppContext, domain: catalog.DomainRecord, workspace_id: int, deleted: bool = False
) -> LinklyDomain:
    return LinklyDomain(
        domain.id, domain.host, f"{ctx.settings.edge.public_scheme}://{domain.host}",
        domain.verified,
        domain.verify_record, domain.verify_token, workspace_id, domain.created_at, deleted,
    )  # fmt: skip


def _json(value: object, status: int = 200) -> Response:
    return Response(encode(value), status_code=status, media_type="application/json")


async def list_domains(request: Request, ctx: AppContext) -> Response:
    return _json(LinklyDomains(await _domains(request, ctx, workspace_in_path=True)))


async def account_domains(request: Request, ctx: AppContext) -> Response:
    """GET /api/v1/domains for a Linkly caller (Pipedream's list-domains): the key's
    custom domains as a bare array; no domain means the default one."""
    return _json(await _domains(request, ctx, workspace_in_path=False))


async def _domains(
    request: Request, ctx: AppContext, *, workspace_in_path: bool
) -> list[LinklyDomain]:
    principal, _ = await authorized(request, ctx, workspace_in_path=workspace_in_path)
    found = await catalog.list_domains(ctx, principal)
    return [_render(ctx, d, principal.workspace_id) for d in found]


async def add_domain(request: Request, ctx: AppContext) -> Response:
    principal, payload = await authorized(request, ctx)
    try:
        body = msgspec.convert(payload.fields, LinklyDomainIn, strict=False)
    except msgspec.ValidationError as exc:
        raise LinklyError(400, f"invalid domain: {exc}", field="name") from None
    domain = await catalog.add_domain(ctx, principal, body.name)
    return _json(_render(ctx, domain, principal.workspace_id))


async def delete_domain(request: Request, ctx: AppContext) -> Response:
    principal, _ = await authorized(request, ctx)
    raw = request.path_params["domain_id"]
    domain_id = parse_id(raw)
    if domain_id is None:
        raise LinklyError(404, f"no domain {raw} in this workspace", field="domain_id")
    domain = await catalog.delete_domain(ctx, principal, domain_id)
    return _json(_render(ctx, domain, principal.workspace_id, deleted=True))


def declared() -> list[DocumentedRoute]:
    from kurz_management.linkly.endpoint import linkly_operation, linkly_route

    domains = "/api/v1/workspace/{ws}/domains"
    return [
        linkly_route(
            linkly_operation("GET", domains, None, LinklyDomains,
                             "The workspace's custom domains", errors=(404,)),
            list_domains,
        ),
        linkly_route(
            linkly_operation("POST", domains, LinklyDomainIn, LinklyDomain,
                             "Add a custom domain", errors=(400, 404, 409, 413, 422),
                             description="Publish the TXT record it answers, then verify it "
                             "(POST /api/v1/domains/{id}/verify); links may use it once "
                             "verified."),
            add_domain,
        ),
        linkly_route(
            linkly_operation("DELETE", domains + "/{domain_id}", None, LinklyDomain,
                             "Remove a custom domain no link uses", errors=(404, 409),
                             description="409 while live links use the domain."),
            delete_domain,
        ),
    ]  # fmt: skip
