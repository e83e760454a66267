"""Linkly's single-link endpoints: create or update, read, delete."""

from __future__ import annotations

from kurz.validation import parse_id
from starlette.requests import Request
from starlette.responses import Response

from kurz_management.context import AppContext
from kurz_management.core.links import service
from kurz_management.linkly.bulk import save_batch
from kurz_management.linkly.domains import resolve_domain_ids
from kurz_management.linkly.errors import LinklyError
from kurz_management.linkly.render import encode, to_linkly
from kurz_management.linkly.request import authorize, read_payload, refuse_form_rules
from kurz_management.linkly.schema import SchemaError, clears_of, parse_link, to_spec


def json_response(value: object, status: int = 200) -> Response:
    return Response(encode(value), status_code=status, media_type="application/json")


def link_id_of(request: Request) -> int:
    raw = request.path_params["link_id"]
    found = parse_id(raw)
    if found is None:
        raise LinklyError(404, f"no link with id {raw} in this workspace", field="id")
    return found


async def save_link(request: Request, ctx: AppContext) -> Response:
    """POST /api/v1/link: one link object creates (no id) or updates (id / link_id).
    A JSON array is accepted too, as Linkly's bulk documentation sends it here."""
    payload = await read_payload(request, ctx.settings.api.max_body_bytes)
    if isinstance(payload.data, list):
        return await save_batch(request, ctx, payload, path_workspace=None)
    if not isinstance(payload.data, dict):
        raise LinklyError(400, "the body must be a link object")
    principal = await authorize(request, ctx, payload)
    refuse_form_rules(payload)
    try:
        link = parse_link(payload.data)
    except SchemaError as exc:
        raise LinklyError(422, exc.message, field=exc.field) from None
    await resolve_domain_ids(ctx, principal, [link])
    spec = to_spec(link)
    if link.target_id is None:
        record = await service.create_link(ctx, principal, spec)
    else:
        record = await service.update_link(
            ctx, principal, link.target_id, spec, spec_clears=clears_of(payload.data)
        )
    return json_response(to_linkly(record, ctx.settings.edge.default_domain))


async def save_links(request: Request, ctx: AppContext) -> Response:
    """POST /api/v1/workspace/{ws}/links: one link or an array of up to bulk_max."""
    payload = await read_payload(request, ctx.settings.api.max_body_bytes)
    return await save_batch(request, ctx, payload, path_workspace=request.path_params["ws"])


async def get_link(request: Request, ctx: AppContext) -> Response:
    """GET /api/v1/get_link/{link_id}."""
    payload = await read_payload(request, ctx.settings.api.max_body_bytes)
    principal = await authorize(request, ctx, payload)
    record = await service.get_link(ctx, principal, link_id_of(request))
    return json_response(to_linkly(record, ctx.settings.edge.default_domain))


async def delete_link(request: Request, ctx: AppContext) -> Response:
    """DELETE /api/v1/workspace/{ws}/links/{link_id}: answers the link as it was, with
    `deleted: true`."""
    payload = await read_payload(request, ctx.settings.api.max_body_bytes)
    principal = await authorize(request, ctx, payload, path_workspace=request.path_params["ws"])
    link_id = link_id_of(request)
    record = await service.get_link(ctx, principal, link_id)
    await service.delete_link(ctx, principal, link_id)
    return json_response(to_linkly(record, ctx.settings.edge.default_domain, deleted=True))
