"""Vivoldi link endpoints: a thin adapter over kurz_management.core.links.service.

`linkId` is the slug, `domain` the short domain (with or without its scheme).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kurz import validation
from kurz.models import LinkSpec
from msgspec import UNSET, UnsetType

from kurz_management.core.links import service
from kurz_management.core.links.service import NOT_WRITTEN, LinkError, LinkQuery, LinkRecord
from kurz_management.vivoldi.endpoint import Call, from_domain
from kurz_management.vivoldi.envelope import Code, VivoldiError
from kurz_management.vivoldi.fields import flag, format_time, host_of, parse_date, parse_time, yn
from kurz_management.vivoldi.link_schema import (
    REDIRECT_TYPES,
    LinkSettings,
    VivoldiBulkCreate,
    VivoldiLink,
    VivoldiLinkCreate,
    VivoldiLinkDeleteQuery,
    VivoldiLinkListQuery,
    VivoldiLinkUpdate,
)
from kurz_management.vivoldi.paging import PAGE_SIZE, Paged, offset_of, paged

_TEXT = {
    "description": "description",
    "metaImg": "image",
    "memo": "note",
    "expireUrl": "expiry_url",
    "pwd": "password",
}
_TIMES = {"strtYmdt": "starts_at", "expireYmdt": "expires_at", "delYmdt": "delete_at"}


# Vivoldi's link kinds by kurz's link type: Vivoldi numbers a short URL 103.
VIVOLDI_TYPES = {"URL": 103}


async def create(call: Call) -> str:
    """The result is the new short URL."""
    body = await call.body(VivoldiLinkCreate)
    spec, _ = _spec(body, call.principal.time_zone)
    record = await service.create_link(
        call.ctx, call.principal, spec, reuse=flag(body.reuseYn) is True
    )
    return record.short_url


async def update(call: Call) -> None:
    body = await call.body(VivoldiLinkUpdate)
    spec, clears = _spec(body, call.principal.time_zone)
    link = await _find(call, body.domain, body.linkId)
    await service.update_link(call.ctx, call.principal, link.id, spec, spec_clears=clears)


async def delete(call: Call) -> None:
    query = call.query(VivoldiLinkDeleteQuery)
    link = await _find(call, query.domain, query.linkId)
    await service.delete_link(call.ctx, call.principal, link.id)


async def list_links(call: Call) -> Paged[VivoldiLink]:
    query = call.query(VivoldiLinkListQuery)
    tz = call.principal.time_zone
    start = end = None
    if query.regStartYmdt:
        start = parse_date(query.regStartYmdt, "regStartYmdt").replace(tzinfo=ZoneInfo(tz))
    if query.regEndYmdt:
        end = _end_of(query.regEndYmdt, tz)
    host = _filter_host(query.domain) if query.domain else None
    window = LinkQuery(
        offset=offset_of(query.pages),
        limit=PAGE_SIZE,
        search=query.searchKwd,
        domain=host,
        group_id=query.grpIdx,
        slug=query.linkId,
        title_contains=query.ttl,
        note_contains=query.memo,
        url=query.url,
        created_from=start,
        created_to=end,
    )
    records, total = await service.list_links(call.ctx, call.principal, window)
    return paged([_item(r, tz) for r in records], query.pages, total)


async def create_bulk(call: Call) -> list[str]:
    """All or nothing: every item is checked; one bad item and nothing is written.
    The result lists the new short URLs in request order."""
    body = await call.body(VivoldiBulkCreate)
    items: list[tuple[int | None, LinkSpec]] = []
    for index, link in enumerate(body.links):
        try:
            items.append((None, _spec(link, call.principal.time_zone)[0]))
        except VivoldiError as exc:
            raise VivoldiError(exc.code, f"links[{index}]: {exc.message}") from None
    results = await service.bulk_upsert(call.ctx, call.principal, items, atomic=True)
    failures = [r for r in results if isinstance(r, LinkError) and r.message != NOT_WRITTEN]
    if failures:
        first = from_domain(failures[0])
        shown = "; ".join(from_domain(f).message for f in failures[:5])
        more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
        raise VivoldiError(first.code, f"nothing written: {shown}{more}")
    return [r.short_url for r in results if isinstance(r, LinkRecord)]


def _filter_host(domain: str) -> str:
    """A domain filter's host; a value that is no host name is refused, not matched."""
    try:
        return validation.normalize_host(host_of(domain))
    except validation.InvalidLink as exc:
        raise VivoldiError(Code.INVALID, f"domain: {exc.message}") from None


async def _find(call: Call, domain: str | UnsetType | None, link_id: str) -> LinkRecord:
    host = host_of(domain) if domain else call.ctx.settings.edge.default_domain
    return await service.find_link(call.ctx, call.principal, host, link_id)


def _spec(body: VivoldiLinkCreate | VivoldiLinkUpdate, tz: str) -> tuple[LinkSpec, set[str]]:
    """The LinkSpec a request asks for, and the fields it clears (null, or "" where a
    field has an empty state); clears only matter to an update."""
    values, clears = _clearable(body, tz)
    if isinstance(body.redirectType, int):
        if body.redirectType not in REDIRECT_TYPES:
            raise VivoldiError(Code.INVALID, "redirectType must be 200, 301 or 302")
        values["redirect_type"] = body.redirectType
    for wire, field in (("notfSubscYn", "push_subscribe"), ("qrBypassYn", "qr_bypass")):
        if (on := flag(getattr(body, wire))) is not UNSET:
            values[field] = on
    if body.url:
        values["url"] = body.url
    if body.domain:
        values["domain"] = host_of(body.domain)
    if isinstance(body, VivoldiLinkCreate) and body.brandLinkId:
        values["slug"] = body.brandLinkId
    return LinkSpec(**values), clears


def _clearable(body: LinkSettings, tz: str) -> tuple[dict[str, Any], set[str]]:
    """Settings that have an empty state: a value sets them, null or "" clears them
    (a title "" is left unchanged, as Vivoldi documents; grpIdx 0 leaves the group,
    acesMaxCnt 0 is unlimited)."""
    values: dict[str, Any] = {}
    clears: set[str] = set()

    def put(field: str, value: object) -> None:
        if value is UNSET:
            return
        if value is None or value == "":
            clears.add(field)
        else:
            values[field] = value

    for wire, field in _TEXT.items():
        put(field, getattr(body, wire))
    for wire, field in _TIMES.items():
        put(field, parse_time(getattr(body, wire), wire, tz))
    if body.ttl != "":
        put("title", body.ttl)
    put("group_id", None if body.grpIdx == 0 else body.grpIdx)
    put("max_clicks", None if body.acesMaxCnt == 0 else body.acesMaxCnt)
    return values, clears


def _end_of(value: str, tz: str) -> datetime:
    """regEndYmdt is inclusive: a bare day covers the day, a time covers that second."""
    moment = parse_date(value, "regEndYmdt").replace(tzinfo=ZoneInfo(tz))
    step = timedelta(days=1) if len(value.strip()) <= len("YYYY-MM-DD") else timedelta(seconds=1)
    return moment + step


def _item(link: LinkRecord, tz: str) -> VivoldiLink:
    return VivoldiLink(
        idx=link.id,
        linkId=link.slug,
        typeIdx=VIVOLDI_TYPES.get(link.link_type, 0),
        typeNm=link.link_type,
        domain=link.short_url.removesuffix("/" + link.slug),
        shortUrl=link.short_url,
        url=link.url,
        redirectType=link.redirect_type,
        grpIdx=link.group_id,
        ttl=link.title,
        description=link.description,
        metaImg=link.image,
        memo=link.note,
        notfSubscYn=yn(link.push_subscribe),
        qrBypassYn=yn(link.qr_bypass),
        pwdYn=yn(link.has_password),
        strtYmdt=format_time(link.starts_at, tz),
        expireYmdt=format_time(link.expires_at, tz),
        expireUrl=link.expiry_url,
        acesMaxCnt=link.max_clicks or 0,
        acesCnt=link.clicks,
        delYmdt=format_time(link.delete_at, tz),
        regYmdt=format_time(link.created_at, tz) or "",
        modYmdt=format_time(link.updated_at, tz) or "",
    )
