"""The links pages: the list (search, filters, sort, pages), the form to create and edit
a link with every option, disabling, deleting and the QR code. Everything goes through
the link use cases, as the APIs do."""

from __future__ import annotations

from typing import Any

from kurz import qr
from kurz.models import LinkSpec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console import link_form
from kurz_management.console.pages import ROOT, Page, console_page, problem, see_other
from kurz_management.core import catalog
from kurz_management.core.groups import service as groups
from kurz_management.core.links import service as links
from kurz_management.core.links.model import LinkError, LinkQuery, LinkRecord

PAGE_SIZE = 25
SORTS = {  # what the list offers → (LinkQuery order, descending)
    "newest": ("created_at", True),
    "oldest": ("created_at", False),
    "clicks": ("clicks", True),
    "title": ("title", False),
}
STATES = {"active": "Active", "disabled": "Disabled", "expired": "Ended"}


def _id(text: str | None) -> int | None:
    return int(text) if text and text.isdecimal() and len(text) < 19 else None


async def domain_choices(page: Page) -> list[str]:
    """The short domains a link of the workspace can have: the default, then its own
    verified ones."""
    own = await catalog.list_domains(page.ctx, page.principal)
    return [page.ctx.settings.edge.default_domain, *(d.host for d in own if d.verified)]


async def _choices(page: Page) -> dict[str, Any]:
    """The workspace's domains, groups and tags, for filters and the form."""
    found = await groups.list_groups(page.ctx, page.principal)
    tags = await catalog.list_tags(page.ctx, page.principal)
    return {"domains": await domain_choices(page), "groups": found.groups, "tags": tags}


@console_page()
async def link_list(request: Request, page: Page) -> Response:
    params = request.query_params
    sort = params.get("sort") or ""
    sort = sort if sort in SORTS else "newest"
    state = params.get("state") or ""
    state = state if state in STATES else ""
    number = _id(params.get("page")) or 1
    search = (params.get("q") or "").strip()[:200]
    order, descending = SORTS[sort]
    filters: dict[str, Any] = {
        "search": search or None,
        "tag_id": _id(params.get("tag")),
        "group_id": _id(params.get("group")),
        "domain": params.get("domain") or None,
        "order": order,
        "descending": descending,
    }
    if state:
        filters["state"] = state
    query = LinkQuery.page(number, PAGE_SIZE, **filters)
    try:
        found, total = await links.list_links(page.ctx, page.principal, query)
    except LinkError as exc:
        return problem(400, "Cannot list links", exc.message, page)
    chosen = {"q": search, "tag": params.get("tag") or "", "group": params.get("group") or "",
              "domain": params.get("domain") or "", "state": state, "sort": sort}  # fmt: skip
    return page.render(
        "links.html",
        links=found,
        total=total,
        number=number,
        pages=max(1, -(-total // PAGE_SIZE)),
        first=query.offset + 1,
        last=query.offset + len(found),
        chosen=chosen,
        sorts=list(SORTS),
        states=STATES,
        done=params.get("done"),
        **await _choices(page),
    )


async def _form_page(
    page: Page,
    values: dict[str, Any],
    *,
    link: LinkRecord | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    rules = list(values["rules"])
    rules += [{"what": "", "matches": "", "url": "", "percentage": ""}] * link_form.RULE_ROWS
    return page.render(
        "link_form.html",
        status,
        link=link,
        values=values,
        rules=rules,
        errors=errors or {},
        switches=link_form.SWITCHES,
        rule_kinds=link_form.RULE_KINDS,
        link_types=link_form.LINK_TYPES,
        redirects=link_form.REDIRECTS,
        done=page.request.query_params.get("done"),
        **await _choices(page),
    )


def _error_fields(exc: LinkError) -> dict[str, str]:
    """A use case's refusal, shown next to the field it names (or above the form)."""
    name = exc.field or "form"
    if name in ("host", "domain"):
        name = "domain"
    return {name: exc.message}


@console_page()
async def new_link(request: Request, page: Page) -> Response:
    return await _form_page(page, link_form.blank_values())


@console_page()
async def create_link(request: Request, page: Page) -> Response:
    form = await page.form()
    parsed = link_form.parse(form, page.principal.time_zone, editing=False)
    if parsed.errors:
        return await _form_page(page, link_form.posted_values(form), errors=parsed.errors,
                                status=400)  # fmt: skip
    try:
        made = await links.create_link(page.ctx, page.principal, parsed.spec)
    except LinkError as exc:
        status = 409 if exc.kind == "conflict" else 400
        return await _form_page(page, link_form.posted_values(form), errors=_error_fields(exc),
                                status=status)  # fmt: skip
    return see_other(f"{ROOT}/links/{made.id}", done="created")


async def _link(page: Page, link_id: int) -> LinkRecord | None:
    try:
        return await links.get_link(page.ctx, page.principal, link_id)
    except LinkError as exc:
        if exc.kind == "not_found":
            return None
        raise


def _missing(page: Page) -> Response:
    return problem(404, "No such link", "This workspace has no such link.", page)


@console_page()
async def edit_link(request: Request, page: Page) -> Response:
    link = await _link(page, request.path_params["link_id"])
    if link is None:
        return _missing(page)
    return await _form_page(page, link_form.values_of(link, page.principal.time_zone), link=link)


@console_page()
async def update_link(request: Request, page: Page) -> Response:
    link_id = request.path_params["link_id"]
    link = await _link(page, link_id)
    if link is None:
        return _missing(page)
    form = await page.form()
    parsed = link_form.parse(form, page.principal.time_zone, editing=True)
    errors = parsed.errors
    if not errors:
        try:
            await links.update_link(page.ctx, page.principal, link_id, parsed.spec,
                                    spec_clears=parsed.clears)  # fmt: skip
        except LinkError as exc:
            errors = _error_fields(exc)
    if errors:
        values = {**link_form.posted_values(form), "has_password": link.has_password}
        return await _form_page(page, values, link=link, errors=errors, status=400)
    return see_other(f"{ROOT}/links/{link_id}", done="saved")


@console_page()
async def toggle_link(request: Request, page: Page) -> Response:
    link_id = request.path_params["link_id"]
    link = await _link(page, link_id)
    if link is None:
        return _missing(page)
    change = LinkSpec(enabled=not link.enabled)
    await links.update_link(page.ctx, page.principal, link_id, change)
    return see_other(f"{ROOT}/links", done="enabled" if change.enabled else "disabled")


@console_page()
async def delete_link(request: Request, page: Page) -> Response:
    try:
        await links.delete_link(page.ctx, page.principal, request.path_params["link_id"])
    except LinkError as exc:
        if exc.kind == "not_found":
            return _missing(page)
        raise
    return see_other(f"{ROOT}/links", done="deleted")


@console_page()
async def qr_code(request: Request, page: Page) -> Response:
    """The link's QR code as the edge serves it (the same content, marked as a scan),
    to show and to download."""
    link = await _link(page, request.path_params["link_id"])
    if link is None:
        return _missing(page)
    params = {k: request.query_params.getlist(k) for k in ("size", "format")}
    try:
        size, kind = qr.parse_options({k: v for k, v in params.items() if v})
    except qr.QrError as exc:
        return problem(400, "Bad QR code options", str(exc), page)
    body, content_type = qr.render(link.qr_content(), size, kind)
    headers = {
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    }
    if request.query_params.get("download"):
        name = f"{link.slug}-qr.{kind}".replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(body, media_type=content_type.decode(), headers=headers)


routes = [
    Route("/links", link_list, methods=["GET"]),
    Route("/links", create_link, methods=["POST"]),
    Route("/links/new", new_link, methods=["GET"]),
    Route("/links/{link_id:int}", edit_link, methods=["GET"]),
    Route("/links/{link_id:int}", update_link, methods=["POST"]),
    Route("/links/{link_id:int}/toggle", toggle_link, methods=["POST"]),
    Route("/links/{link_id:int}/delete", delete_link, methods=["POST"]),
    Route("/links/{link_id:int}/qr", qr_code, methods=["GET"]),
]
