"""Webhooks, for owners: every URL the workspace's webhooks go to (set on links, on
groups or registered), the recent deliveries with their outcome, sending a failed
delivery again, and letting a URL that was disabled for failing receive again."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console.pages import ROOT, Page, console_page, problem, see_other, sentence
from kurz_management.core import webhooks
from kurz_management.core.links.model import LinkError

RECENT = 50  # deliveries shown
SOURCES = {"webhook": "Registered", "link": "Link", "group": "Group"}


async def _page(
    page: Page, *, status_filter: str = "", error: str | None = None, status: int = 200
) -> Response:
    endpoints = await webhooks.endpoints(page.ctx, page.principal)
    deliveries = await webhooks.recent_deliveries(
        page.ctx, page.principal, status=status_filter or None, limit=RECENT
    )
    return page.render(
        "webhooks.html",
        status,
        endpoints=endpoints,
        deliveries=deliveries,
        statuses=webhooks.DELIVERY_STATUSES,
        chosen=status_filter,
        sources=SOURCES,
        error=error,
        done=page.request.query_params.get("done"),
    )


@console_page(owner_only=True)
async def webhook_list(request: Request, page: Page) -> Response:
    chosen = request.query_params.get("status") or ""
    return await _page(page, status_filter=chosen if chosen in webhooks.DELIVERY_STATUSES else "")


@console_page(owner_only=True)
async def replay(request: Request, page: Page) -> Response:
    delivery_id = request.path_params["delivery_id"]
    try:
        await webhooks.replay_delivery(page.ctx, page.principal, delivery_id)
    except LinkError as exc:
        if exc.kind == "not_found":
            return problem(404, "No such delivery", "This workspace has no such delivery.", page)
        if exc.kind == "forbidden":
            return problem(403, "Not on this plan", sentence(exc.message), page)
        return await _page(page, error=sentence(exc.message), status=409)
    return see_other(f"{ROOT}/webhooks", done="replayed")


@console_page(owner_only=True)
async def enable(request: Request, page: Page) -> Response:
    form = await page.form()
    try:
        await webhooks.enable_url(page.ctx, page.principal, str(form.get("url") or ""))
    except LinkError as exc:
        if exc.kind == "forbidden":
            return problem(403, "Not on this plan", sentence(exc.message), page)
        return problem(404, "No such endpoint", sentence(exc.message), page)
    return see_other(f"{ROOT}/webhooks", done="enabled")


routes = [
    Route("/webhooks", webhook_list, methods=["GET"]),
    Route("/webhooks/deliveries/{delivery_id:int}/replay", replay, methods=["POST"]),
    Route("/webhooks/enable", enable, methods=["POST"]),
]
