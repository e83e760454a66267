"""API keys, for owners: the list with last use, a new key shown once, revoking."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console.pages import ROOT, Page, console_page, problem, see_other
from kurz_management.core import api_keys


@console_page(owner_only=True)
async def key_list(request: Request, page: Page) -> Response:
    keys = await api_keys.list_keys(page.ctx, page.principal)
    return page.render("keys.html", keys=keys, new_key=None, done=request.query_params.get("done"))


@console_page(owner_only=True)
async def create_key(request: Request, page: Page) -> Response:
    # Rendered here, not after a redirect: the key exists in clear only in this answer.
    made = await api_keys.new_key(page.ctx, page.principal)
    keys = await api_keys.list_keys(page.ctx, page.principal)
    return page.render("keys.html", 201, keys=keys, new_key=made, done=None)


@console_page(owner_only=True)
async def revoke_key(request: Request, page: Page) -> Response:
    if not await api_keys.revoke_key(page.ctx, page.principal, request.path_params["key_id"]):
        return problem(404, "No such key", "This workspace has no such active key.", page)
    return see_other(f"{ROOT}/keys", done="revoked")


routes = [
    Route("/keys", key_list, methods=["GET"]),
    Route("/keys", create_key, methods=["POST"]),
    Route("/keys/{key_id:int}/revoke", revoke_key, methods=["POST"]),
]
