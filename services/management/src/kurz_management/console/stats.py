"""The statistics pages: the workspace's, a group's and a link's clicks and unique
visitors over a period, by day, country, device, browser, operating system, referrer and
source (QR code scan or link), as a page or as a CSV file of the same numbers.

The figures come from the rollup queries the native analytics endpoints call
(`rollups.totals`, `rollups.daily`, `rollups.counts`), over a selection made by the same
`select`, so a page shows exactly what the API answers for the same range. The figures'
HTML is the public statistics page's (kurz_management.figures)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from kurz.plans import entitlements
from kurz.validation import is_id
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management import figures
from kurz_management.console.pages import Page, console_page, problem
from kurz_management.core.analytics import rollups
from kurz_management.core.analytics.exporting import defang
from kurz_management.core.analytics.model import AnalyticsError, Bucket, Count, Period, Totals
from kurz_management.core.analytics.periods import today
from kurz_management.core.analytics.selection import select
from kurz_management.core.groups import service as groups
from kurz_management.core.groups.model import GroupError
from kurz_management.core.links import service as links
from kurz_management.core.links.model import LinkError
from kurz_management.statspage.period import chosen

PRESETS = (7, 30, 90)  # days a person can choose with one click
TOP = 10  # rows of each ranking on the page
CSV_ROWS = 1000  # rows of each ranking in the CSV: the native API's largest limit


@dataclass(frozen=True)
class Dimension:
    name: str  # the rollups' dimension
    ident: str  # the ranking's element id
    title: str
    label: Callable[[str], str]


DIMENSIONS = (
    Dimension("country", "countries", "Countries", figures.country),
    Dimension("device", "devices", "Devices", figures.device),
    Dimension("browser", "browsers", "Browsers", figures.unknown),
    Dimension("os", "systems", "Operating systems", figures.unknown),
    Dimension("referrer", "referrers", "Referrers", figures.referrer),
    Dimension("source", "sources", "QR code scans vs link clicks", figures.source),
)


@dataclass(frozen=True)
class Scope:
    """What a page counts: the whole workspace, one group or one link."""

    kind: str  # workspace | group | link
    name: str
    link_id: int | None = None
    group_id: int | None = None

    @property
    def file_name(self) -> str:
        which = self.link_id or self.group_id
        return f"{self.kind}-{which}" if which else self.kind


@dataclass(frozen=True)
class Shown:
    span: Period
    totals: Totals
    days: list[Bucket]
    counts: dict[str, list[Count]]


@console_page()
async def workspace_stats(request: Request, page: Page) -> Response:
    scope = Scope("workspace", page.session.workspace_name)
    found = await groups.list_groups(page.ctx, page.principal)
    return await _answer(request, page, scope, groups=found.groups)


@console_page()
async def group_stats(request: Request, page: Page) -> Response:
    group_id = request.path_params["group_id"]
    try:
        if not is_id(group_id):
            raise GroupError("not_found", "not a group id")
        group = await groups.get_group(page.ctx, page.principal, group_id)
    except GroupError as exc:
        if exc.kind == "not_found":
            return _missing(page, "group")
        raise
    return await _answer(request, page, Scope("group", group.name, group_id=group.id))


@console_page()
async def link_stats(request: Request, page: Page) -> Response:
    try:
        link = await links.get_link(page.ctx, page.principal, request.path_params["link_id"])
    except LinkError as exc:
        if exc.kind == "not_found":
            return _missing(page, "link")
        raise
    name = f"{link.host}/{link.slug}"
    return await _answer(request, page, Scope("link", name, link_id=link.id), link=link)


def _missing(page: Page, what: str) -> Response:
    """The same answer for an id of another workspace as for one that does not exist."""
    return problem(404, f"No such {what}", f"This workspace has no such {what}.", page)


async def _answer(request: Request, page: Page, scope: Scope, **extra: Any) -> Response:
    tz = page.principal.time_zone
    csv_wanted = request.query_params.get("format") == "csv"
    try:
        span = chosen(request.query_params, tz)
        sel = await select(
            page.ctx.pool,
            page.principal.workspace_id,
            tz,
            entitlements=entitlements(page.principal.entitlements),
            link_ids=None if scope.link_id is None else [scope.link_id],
            group_id=scope.group_id,
        )
    except AnalyticsError as exc:
        if exc.kind == "not_found":
            return _missing(page, scope.kind)
        if exc.kind == "forbidden":
            return problem(403, "Not on this plan", exc.message, page)
        return problem(400, "Cannot show this period", exc.message, page)
    pool, limit = page.ctx.pool, CSV_ROWS if csv_wanted else TOP
    shown = Shown(
        span,
        await rollups.totals(pool, sel, span),
        await rollups.daily(pool, sel, span),
        {d.name: await rollups.counts(pool, sel, d.name, span, limit) for d in DIMENSIONS},
    )
    if csv_wanted:
        return _csv(scope, shown)
    return _page(page, scope, shown, tz, **extra)


def _page(page: Page, scope: Scope, shown: Shown, tz: str, **extra: Any) -> Response:
    scans = sum(c.clicks for c in shown.counts["source"] if c.value == "qr")
    cards = (
        figures.card("Clicks", shown.totals.clicks, "total-clicks")
        + figures.card("Unique visitors", shown.totals.visitors, "total-visitors")
        + figures.card("QR code scans", scans, "total-scans")
    )
    rankings = "".join(
        figures.ranking(d.title, d.ident, shown.counts[d.name], d.label) for d in DIMENSIONS
    )
    span = shown.span
    export = urlencode({"start": span.start.isoformat(), "end": span.end.isoformat(),
                        "format": "csv"})  # fmt: skip
    return page.render(
        "stats.html",
        scope=scope,
        span=span,
        time_zone=tz,
        export=f"?{export}",
        ranges=_built(figures.ranges(span, today(tz), PRESETS)),
        cards=_built(cards),
        chart=_built(figures.chart_panel(shown.days)),
        rankings=_built(rankings),
        figures_css=figures.FIGURES_CSS,
        chart_js=figures.CHART_JS,
        groups=extra.get("groups", []),
        link=extra.get("link"),
    )


def _built(html: str) -> Markup:
    """HTML made by kurz_management.figures, which escapes every value it puts in (the
    tests post `<script>` referrers and countries), so the template takes it as is."""
    return Markup(html)  # noqa: S704


CSV_COLUMNS = ("section", "value", "clicks", "unique_visitors")


def _csv(scope: Scope, shown: Shown) -> Response:
    """The page's numbers as rows: the totals, every day, then every dimension's values
    (a value as the rollups keep it, empty when unknown). Each section's clicks add up to
    the total (unless a ranking is longer than CSV_ROWS)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(["total", "", shown.totals.clicks, shown.totals.visitors])
    for b in shown.days:
        writer.writerow(["day", b.day.isoformat(), b.clicks, b.visitors])
    for d in DIMENSIONS:
        for c in shown.counts[d.name]:
            writer.writerow([d.name, defang(c.value), c.clicks, ""])
    span = shown.span
    name = f"kurz-{scope.file_name}-{span.start.isoformat()}-{span.end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


routes = [
    Route("/stats", workspace_stats, methods=["GET"]),
    Route("/groups/{group_id:int}/stats", group_stats, methods=["GET"]),
    Route("/links/{link_id:int}/stats", link_stats, methods=["GET"]),
]
