"""Native link endpoints: thin adapters over kurz_management.core.links.service."""

from __future__ import annotations

import math

import msgspec
from kurz import validation
from kurz.models import LinkSpec
from starlette.responses import Response

from kurz_management.constraints import id_of
from kurz_management.core.links import service
from kurz_management.core.links.service import NOT_WRITTEN, LinkError, LinkQuery, LinkRecord
from kurz_management.native.convert import body_field, link_out, spec_of
from kurz_management.native.endpoint import (
    STATUS_OF_KIND,
    Call,
    NativeError,
    json_response,
    link_error_message,
)
from kurz_management.native.schema import (
    MAX_PAGE,
    MAX_PAGE_SIZE,
    BulkFailure,
    BulkLinkOut,
    BulkRequest,
    BulkResponse,
    ItemError,
    LinkCreate,
    LinkEnvelope,
    LinkList,
    LinkPatch,
    ListQuery,
    Pagination,
)


async def create_link(call: Call) -> Response:
    spec, _ = spec_of(await call.body(LinkCreate))
    record = await service.create_link(call.ctx, call.principal, spec)
    return json_response(LinkEnvelope(link_out(record, call.site)), 201)


async def get_link(call: Call) -> Response:
    record = await service.get_link(call.ctx, call.principal, call.path_id())
    return json_response(LinkEnvelope(link_out(record, call.site)))


async def update_link(call: Call) -> Response:
    link_id = call.path_id()
    spec, clears = spec_of(await call.body(LinkPatch), nulls_clear=True)
    record = await service.update_link(call.ctx, call.principal, link_id, spec, spec_clears=clears)
    return json_response(LinkEnvelope(link_out(record, call.site)))


async def delete_link(call: Call) -> Response:
    await service.delete_link(call.ctx, call.principal, call.path_id())
    return Response(status_code=204)


async def list_links(call: Call) -> Response:
    query = call.query(ListQuery)
    if not 1 <= query.page <= MAX_PAGE or not 1 <= query.limit <= MAX_PAGE_SIZE:
        raise NativeError(
            400, f"page must be from 1 to {MAX_PAGE} and limit from 1 to {MAX_PAGE_SIZE}"
        )
    records, total = await service.list_links(
        call.ctx,
        call.principal,
        LinkQuery(
            search=query.search,
            domain=query.domain,
            group_id=query.groupId,
            tag_id=query.tagId,
            created_from=query.createdAfter,
            created_to=query.createdBefore,
            offset=(query.page - 1) * query.limit,
            limit=query.limit,
        ),
    )
    pages = Pagination(query.page, query.limit, total, math.ceil(total / query.limit))
    return json_response(LinkList([link_out(r, call.site) for r in records], pages))


async def bulk_links(call: Call) -> Response:
    body = await call.body(BulkRequest)
    limit = call.ctx.settings.api.bulk_max
    if len(body.links) > limit:
        raise NativeError(422, f"at most {limit} links per request, got {len(body.links)}")
    atomic = body.all_or_nothing
    if body.domain is not None:
        try:
            validation.normalize_host(body.domain)
        except validation.InvalidLink as exc:
            refused = BulkFailure(f"domain: {exc.message}; nothing was written", [])
            return json_response(refused, 422)
    parsed: list[tuple[int, int | None, LinkSpec]] = []
    errors: list[ItemError] = []
    for index, item in enumerate(body.links):
        try:
            spec = spec_of(item)[0]
            if body.domain is not None and spec.domain is None and item.id is None:
                spec = msgspec.structs.replace(spec, domain=body.domain)
            parsed.append((index, id_of(item.id), spec))
        except LinkError as exc:
            exc.index = index
            errors.append(_item_error(exc))
    # With an item that did not even parse, an atomic batch is refused; the others are
    # still checked (nothing written) so the answer lists every problem at once.
    results = await service.bulk_upsert(
        call.ctx,
        call.principal,
        [(link_id, spec) for _, link_id, spec in parsed],
        atomic=atomic,
        validate_only=atomic and bool(errors),
    )
    written: list[BulkLinkOut] = []
    created = 0
    for (index, link_id, _), result in zip(parsed, results, strict=True):
        if isinstance(result, LinkRecord):
            written.append(_bulk_link(result, call.site))
            created += link_id is None
        elif result.message != NOT_WRITTEN:
            result.index = index
            errors.append(_item_error(result))
    errors.sort(key=lambda e: e.index)
    if atomic and errors:
        return _atomic_failure(errors, len(body.links))
    active = sum(link.isActive for link in written)
    answer = BulkResponse(created, active, 0, written, errors, errors)
    return json_response(answer, 201 if written and not errors else 200)


def _bulk_link(record: LinkRecord, site: str) -> BulkLinkOut:
    out = link_out(record, site)
    return BulkLinkOut(**msgspec.structs.asdict(out), pendingVerification=False)


def _item_error(error: LinkError) -> ItemError:
    return ItemError(
        index=error.index if error.index is not None else -1,
        status=STATUS_OF_KIND[error.kind],
        error=link_error_message(error),
        field=body_field(error.field),
    )


def _atomic_failure(errors: list[ItemError], total: int) -> Response:
    message = f"{len(errors)} of {total} links refused; nothing was written"
    return json_response(BulkFailure(message, errors), errors[0].status)
