"""Linkly's batch: one link or an array of up to settings.api.bulk_max, all or nothing.

Every item is parsed and checked before anything is written; if any item is bad the
answer is 422 with every bad item by index, and nothing is written."""

from __future__ import annotations

from typing import Any

from kurz.models import LinkSpec
from starlette.requests import Request
from starlette.responses import Response

from kurz_management.context import AppContext
from kurz_management.core.auth import Principal
from kurz_management.core.links import service
from kurz_management.core.links.service import NOT_WRITTEN, LinkError, LinkRecord
from kurz_management.linkly.domains import resolve_domain_ids
from kurz_management.linkly.errors import LinklyError, LinklyItemError, item_errors
from kurz_management.linkly.render import encode, to_linkly
from kurz_management.linkly.request import (
    Payload,
    authorize,
    check_workspace,
    refuse_form_rules,
)
from kurz_management.linkly.schema import LinklyLinkIn, SchemaError, parse_link, to_spec


async def save_batch(
    request: Request, ctx: AppContext, payload: Payload, *, path_workspace: str | None
) -> Response:
    principal = await authorize(request, ctx, payload, path_workspace=path_workspace)
    single = isinstance(payload.data, dict)
    refuse_form_rules(payload)
    items: list[Any] = [payload.data] if single else payload.data
    if not isinstance(items, list):
        raise LinklyError(400, "the body must be a link object or an array of link objects")
    limit = ctx.settings.api.bulk_max
    if len(items) > limit:
        raise LinklyError(413, f"at most {limit} links per request; this one has {len(items)}")
    links = _parse_items(items, principal)
    await resolve_domain_ids(ctx, principal, links)
    specs = [(link.target_id, to_spec(link)) for link in links]
    records = await _write(ctx, principal, specs)
    answered = [to_linkly(r, ctx.settings.edge.default_domain) for r in records]
    body = encode(answered[0] if single else answered)
    return Response(body, media_type="application/json")


def _parse_items(items: list[Any], principal: Principal) -> list[LinklyLinkIn]:
    """Every item checked before any is written. An item naming another workspace makes
    the whole request a 404 (that workspace is not found for this key, as in the path),
    listing every such item."""
    links: list[LinklyLinkIn] = []
    invalid: list[LinklyItemError] = []
    foreign: list[LinklyItemError] = []
    for index, raw in enumerate(items):
        try:
            link = parse_link(raw)
        except SchemaError as exc:
            invalid.append(LinklyItemError(index, exc.message, exc.field))
            continue
        try:
            check_workspace(principal, [link.workspace_id])
        except LinklyError as exc:
            foreign.append(LinklyItemError(index, exc.message, exc.field))
            continue
        links.append(link)
    if foreign:
        raise LinklyError(404, foreign[0].error, field="workspace_id", errors=foreign)
    if invalid:
        raise _batch_refused(invalid)
    return links


async def _write(
    ctx: AppContext, principal: Principal, specs: list[tuple[int | None, LinkSpec]]
) -> list[LinkRecord]:
    if not specs:
        return []
    results = await service.bulk_upsert(ctx, principal, specs, atomic=True)
    failed = [r for r in results if isinstance(r, LinkError)]
    if not failed:
        return [r for r in results if isinstance(r, LinkRecord)]
    bad = [e for e in failed if e.message != NOT_WRITTEN] or failed
    raise _batch_refused(item_errors(bad))


def _batch_refused(errors: list[LinklyItemError]) -> LinklyError:
    count = len(errors)
    noun = "link is" if count == 1 else "links are"
    return LinklyError(422, f"{count} {noun} invalid; nothing was written", errors=errors)
