"""Vivoldi's statistics endpoints, over the rollups.

- `GET /api/link/v1/clicks-by-group?ymd=&grpIdxList=&pages=`: one day, 30 groups a page.
- `GET /api/link/v2/clicks-by-group?startYmd=&endYmd=&grpIdxList=&pages=`: a range of at
  most one month (31 days, both ends included).
- `GET /api/statistics/v2/clicks-by-date?startYmd=&endYmd=[&linkId&domain|&grpIdx]`.
- `GET /api/statistics/v2/clicks-by-hour?ymd=[&linkId&domain|&grpIdx]`.

acesCnt = counted clicks; pernCnt = distinct visitors of a day. Over a range, pernCnt is
the sum of each day's distinct visitors (what the rollups keep exactly; a visitor id is
rotated daily, so visitors cannot be matched across days anyway).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import msgspec
from kurz.plans import entitlements
from kurz.validation import is_id, parse_id

from kurz_management import constraints as c
from kurz_management import openapi
from kurz_management.core.analytics import groups, rollups
from kurz_management.core.analytics.model import AnalyticsError, Period, Selection
from kurz_management.core.analytics.periods import parse_day, period
from kurz_management.core.analytics.selection import select
from kurz_management.core.links import service as links
from kurz_management.openapi import DocumentedRoute
from kurz_management.vivoldi.endpoint import Call, Handler, route
from kurz_management.vivoldi.envelope import Code, Envelope, VivoldiError
from kurz_management.vivoldi.fields import host_of
from kurz_management.vivoldi.operations import KEY, answers
from kurz_management.vivoldi.paging import PAGE_SIZE, Page, Paged, offset_of, paged

MONTH_DAYS = 31  # "a range of at most one month": the longest month, both ends included


class VivoldiClicksByGroupQuery(msgspec.Struct):
    """Fields:
    ymd: A local day, YYYY-MM-DD (the workspace's time zone).
    grpIdxList: Comma-separated group ids (required on some plans); omitted: every group.
    pages: Page number, from 1 (30 groups a page).
    """

    ymd: c.Date
    grpIdxList: str | None = None  # "151,207,209"
    pages: Page = 1


class VivoldiClicksByGroupRangeQuery(msgspec.Struct):
    """Fields:
    startYmd: First day, YYYY-MM-DD.
    endYmd: Last day, included (at most 31 days).
    grpIdxList: Comma-separated group ids; omitted: every group (plan permitting).
    pages: Page number, from 1.
    """

    startYmd: c.Date
    endYmd: c.Date
    grpIdxList: str | None = None
    pages: Page = 1


class VivoldiClicksByDateQuery(msgspec.Struct):
    """Fields:
    startYmd: First day, YYYY-MM-DD.
    endYmd: Last day, included.
    linkId: Only this link (with domain).
    domain: The link's short domain; default: the default domain.
    grpIdx: Only this group's links.
    """

    startYmd: c.Date
    endYmd: c.Date
    linkId: str | None = None  # with domain (default: the default short domain)
    domain: str | None = None
    grpIdx: c.Id | None = None


class VivoldiClicksByHourQuery(msgspec.Struct):
    """Fields:
    ymd: A local day, YYYY-MM-DD (the workspace's time zone).
    linkId: Only this link (with domain).
    domain: The link's short domain.
    grpIdx: Only this group's links.
    """

    ymd: c.Date
    linkId: str | None = None
    domain: str | None = None
    grpIdx: c.Id | None = None


class VivoldiGroupClicks(msgspec.Struct):
    """Fields:
    grpIdx: The group's id.
    grpNm: Its name.
    acesCnt: Counted clicks.
    pernCnt: Distinct visitors of each day, summed.
    """

    grpIdx: int
    grpNm: str
    acesCnt: int
    pernCnt: int


class VivoldiDateClicks(msgspec.Struct):
    """Fields:
    ymd: The day.
    linkId: The link's path.
    domain: Its short domain, with its scheme (https://go.example.com).
    acesCnt: Counted clicks.
    pernCnt: Distinct visitors.
    """

    ymd: str
    linkId: str
    domain: str
    acesCnt: int
    pernCnt: int


class VivoldiHourClicks(msgspec.Struct):
    """Fields:
    ymd: The day.
    hour: The local hour, 0 to 23.
    acesCnt: Counted clicks.
    pernCnt: Distinct visitors.
    """

    ymd: str
    hour: int
    acesCnt: int
    pernCnt: int


_ANALYTICS_CODES = {"not_found": Code.NOT_FOUND, "invalid": Code.INVALID, "forbidden": Code.PLAN}


def _statistics(handler: Handler) -> Handler:
    """The query layer's refusals in the envelope (not found: the family's 404)."""

    async def run(call: Call) -> object:
        try:
            return await handler(call)
        except AnalyticsError as exc:
            raise VivoldiError(_ANALYTICS_CODES[exc.kind], exc.message) from None

    run.__name__ = handler.__name__
    return run


def _day(text: str, field: str) -> date:
    day = parse_day(text, field)
    if day is None:
        raise VivoldiError(Code.INVALID, f"{field} is required (YYYY-MM-DD)")
    return day


def _range(start: str, end: str, tz: str, max_days: int = MONTH_DAYS) -> Period:
    first, last = _day(start, "startYmd"), _day(end, "endYmd")
    return period(first, last, tz, fields=("startYmd", "endYmd"), max_days=max_days)


def _group_list(raw: str | None) -> list[int] | None:
    if raw is None or not raw.strip():
        return None
    ids = []
    for part in raw.split(","):
        found = parse_id(part.strip())
        if found is None:
            raise VivoldiError(
                Code.INVALID, f"grpIdxList must be group IDXs separated by commas, got {raw!r}"
            )
        ids.append(found)
    return ids


async def _by_group(call: Call, span: Period, raw_list: str | None, page: int) -> object:
    found = await groups.group_page(
        call.ctx.pool,
        call.principal.workspace_id,
        _group_list(raw_list),
        span,
        entitlements=entitlements(call.principal.entitlements),
        offset=offset_of(page),
        limit=PAGE_SIZE,
    )
    items = [VivoldiGroupClicks(g.group_id, g.name, g.clicks, g.visitors) for g in found.groups]
    return paged(items, page, found.total)


@_statistics
async def clicks_by_group_v1(call: Call) -> object:
    query = call.query(VivoldiClicksByGroupQuery)
    day = _day(query.ymd, "ymd")
    return await _by_group(call, Period(day, day), query.grpIdxList, query.pages)


@_statistics
async def clicks_by_group_v2(call: Call) -> object:
    query = call.query(VivoldiClicksByGroupRangeQuery)
    span = _range(query.startYmd, query.endYmd, call.principal.time_zone)
    return await _by_group(call, span, query.grpIdxList, query.pages)


async def _selection(
    call: Call, link_id: str | None, domain: str | None, group_id: int | None
) -> Selection:
    """One link (linkId on domain), one group (grpIdx), or the whole workspace."""
    if link_id is not None and group_id is not None:
        raise VivoldiError(Code.INVALID, "give linkId (with domain) or grpIdx, not both")
    if link_id is None and domain is not None:
        raise VivoldiError(Code.INVALID, "domain needs linkId")
    ids: list[int] | None = None
    if link_id is not None:
        host = host_of(domain) if domain else call.ctx.settings.edge.default_domain
        ids = [(await links.find_link(call.ctx, call.principal, host, link_id)).id]
    if group_id is not None and not is_id(group_id):
        raise VivoldiError(Code.NOT_FOUND, f"no group {group_id} in this workspace")
    return await select(
        call.ctx.pool,
        call.principal.workspace_id,
        call.principal.time_zone,
        entitlements=entitlements(call.principal.entitlements),
        link_ids=ids,
        group_id=group_id,
    )


@_statistics
async def clicks_by_date(call: Call) -> object:
    """Clicks per link and day. For one link every day of the range appears; otherwise
    only the link-days with clicks."""
    query = call.query(VivoldiClicksByDateQuery)
    span = _range(query.startYmd, query.endYmd, call.principal.time_zone)
    sel = await _selection(call, query.linkId, query.domain, query.grpIdx)
    rows = await groups.link_days(call.ctx.pool, sel, span, fill=sel.link_ids is not None)
    scheme = call.ctx.settings.edge.public_scheme
    # `domain` with its scheme, as in every Vivoldi answer (link/list, the request's own).
    return [
        VivoldiDateClicks(r.day.isoformat(), r.slug, f"{scheme}://{r.host}", r.clicks, r.visitors)
        for r in rows
    ]


@_statistics
async def clicks_by_hour(call: Call) -> object:
    """The 24 local hours of one day (every hour, zeros included)."""
    query = call.query(VivoldiClicksByHourQuery)
    day = _day(query.ymd, "ymd")
    sel = await _selection(call, query.linkId, query.domain, query.grpIdx)
    buckets = await rollups.hourly(call.ctx.pool, sel, Period(day, day))
    return [
        VivoldiHourClicks(b.day.isoformat(), b.hour or 0, b.clicks, b.visitors) for b in buckets
    ]


class VivoldiGroupClicksPage(Paged[VivoldiGroupClicks]):
    pass


class VivoldiGroupClicksAnswer(Envelope[VivoldiGroupClicksPage]):
    pass


class VivoldiDateClicksAnswer(Envelope[list[VivoldiDateClicks]]):
    pass


class VivoldiHourClicksAnswer(Envelope[list[VivoldiHourClicks]]):
    pass


_OPERATIONS: list[
    tuple[str, Callable[[Call], Awaitable[object]], object, object, tuple[Code, ...], str]
] = [
    (
        "/api/link/v1/clicks-by-group",
        clicks_by_group_v1,
        VivoldiClicksByGroupQuery,
        VivoldiGroupClicksAnswer,
        (Code.INVALID, Code.PLAN, Code.NOT_FOUND),
        "Clicks by group on one day, 30 groups a page",
    ),
    (
        "/api/link/v2/clicks-by-group",
        clicks_by_group_v2,
        VivoldiClicksByGroupRangeQuery,
        VivoldiGroupClicksAnswer,
        (Code.INVALID, Code.PLAN, Code.NOT_FOUND),
        "Clicks by group over at most one month; pernCnt sums each day's unique visitors",
    ),
    (
        "/api/statistics/v2/clicks-by-date",
        clicks_by_date,
        VivoldiClicksByDateQuery,
        VivoldiDateClicksAnswer,
        (Code.INVALID, Code.NOT_FOUND),
        "Clicks per link and day (one link: every day; else days with clicks)",
    ),
    (
        "/api/statistics/v2/clicks-by-hour",
        clicks_by_hour,
        VivoldiClicksByHourQuery,
        VivoldiHourClicksAnswer,
        (Code.INVALID, Code.NOT_FOUND),
        "Clicks by local hour of one day",
    ),
]


def declared() -> list[DocumentedRoute]:
    """The statistics routes, each with its OpenAPI entry."""
    return [
        route(
            openapi.operation(
                "GET",
                path,
                "vivoldi",
                None,
                answer,
                query_type=query,
                **answers(frozenset(codes)),
                summary=summary,
                security=KEY,
            ),
            handler,
        )
        for path, handler, query, answer, codes, summary in _OPERATIONS
    ]
