"""Custom short domains, for owners: the list with each one's verification state and
the DNS record that proves it, adding one, checking its record, and removing one that
no link uses."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console.pages import ROOT, Page, console_page, problem, see_other, sentence
from kurz_management.core import catalog
from kurz_management.core.links.model import LinkError

_STATUS = {"invalid": 400, "conflict": 409}


async def _list_page(
    page: Page,
    *,
    host: str = "",
    errors: dict[str, str] | None = None,
    row: int | None = None,
    row_error: str | None = None,
    status: int = 200,
) -> Response:
    """The list and the form to add one; a refused add keeps what was typed, a refused
    check or removal says why next to its domain (`row`)."""
    domains = await catalog.list_domains(page.ctx, page.principal)
    return page.render(
        "domains.html",
        status,
        domains=domains,
        values={"host": host},
        errors=errors or {},
        row=row,
        row_error=row_error,
        default_domain=page.ctx.settings.edge.default_domain,
        done=page.request.query_params.get("done"),
    )


@console_page(owner_only=True)
async def domain_list(request: Request, page: Page) -> Response:
    return await _list_page(page)


@console_page(owner_only=True)
async def add_domain(request: Request, page: Page) -> Response:
    form = await page.form()
    host = str(form.get("host") or "")
    if not host.strip():
        return await _list_page(page, host=host, errors={"host": "Enter a domain name."},
                                status=400)  # fmt: skip
    try:
        made = await catalog.add_domain(page.ctx, page.principal, host)
    except LinkError as exc:
        return await _list_page(page, host=host, errors={"host": sentence(exc.message)},
                                status=_STATUS.get(exc.kind, 400))  # fmt: skip
    return see_other(f"{ROOT}/domains", done="verified" if made.verified else "added")


def _missing(page: Page) -> Response:
    return problem(404, "No such domain", "This workspace has no such domain.", page)


async def _refused_row(page: Page, domain_id: int, exc: LinkError) -> Response:
    if exc.kind == "not_found":
        return _missing(page)
    return await _list_page(page, row=domain_id, row_error=sentence(exc.message),
                            status=_STATUS.get(exc.kind, 400))  # fmt: skip


@console_page(owner_only=True)
async def verify_domain(request: Request, page: Page) -> Response:
    domain_id = request.path_params["domain_id"]
    try:
        await catalog.verify_domain(page.ctx, page.principal, domain_id)
    except LinkError as exc:
        return await _refused_row(page, domain_id, exc)
    return see_other(f"{ROOT}/domains", done="verified")


@console_page(owner_only=True)
async def delete_domain(request: Request, page: Page) -> Response:
    domain_id = request.path_params["domain_id"]
    try:
        await catalog.delete_domain(page.ctx, page.principal, domain_id)
    except LinkError as exc:
        return await _refused_row(page, domain_id, exc)
    return see_other(f"{ROOT}/domains", done="deleted")


routes = [
    Route("/domains", domain_list, methods=["GET"]),
    Route("/domains", add_domain, methods=["POST"]),
    Route("/domains/{domain_id:int}/verify", verify_domain, methods=["POST"]),
    Route("/domains/{domain_id:int}/delete", delete_domain, methods=["POST"]),
]
