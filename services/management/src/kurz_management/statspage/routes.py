"""`/stats/g/{grpIdx}`: GET shows the password form or, with a valid cookie, the page;
POST checks the password through the same gate as the edge's password links (each
attempt counted per visitor and group before it is verified; closed while Redis is away)
and sets the cookie.

`/stats/l/{link_id}`: a link's page, open to anyone while the link's statistics are
public (public_analytics) and it is not deleted; otherwise 404, the same answer as for a
link that does not exist."""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from importlib import resources

from kurz import keys
from kurz import push as web_push
from kurz.logs import Sparse
from kurz.password_gate import GateUnavailable, PasswordGate, Throttled
from kurz.passwords import hash_password
from kurz.validation import parse_id
from kurz.visitor import VisitorIds
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from kurz_management.body import BodyTooLarge, read_limited
from kurz_management.context import context
from kurz_management.core.analytics.model import AnalyticsError
from kurz_management.core.analytics.periods import today
from kurz_management.core.faults import UNAVAILABLE_ERRORS
from kurz_management.core.links import service as links
from kurz_management.core.links.service import LinkError
from kurz_management.statspage import period, render, session
from kurz_management.statspage.data import PageGroup, load_group, load_link_figures, load_stats

log = logging.getLogger(__name__)
Handler = Callable[[Request], Awaitable[Response]]

MAX_FORM_BYTES = 8192
# Only this package's own files; scripts and styles from anywhere else are refused.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
_STATIC_TYPES = {
    "stats.css": "text/css; charset=utf-8",
    "figures.css": "text/css; charset=utf-8",
    "stats.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=_SECURITY_HEADERS)


async def _group(request: Request) -> PageGroup | None:
    group_id = parse_id(request.path_params["group_id"])
    return None if group_id is None else await load_group(context(request).pool, group_id)


@functools.cache
def _visitor_ids(secret: str) -> VisitorIds:
    return VisitorIds(secret)


def _visitor(request: Request) -> str:
    """The edge's visitor id of the address alone (the guesser chooses its user agent),
    so Redis never holds the raw address."""
    visitors = _visitor_ids(context(request).settings.edge.visitor_secret)
    return visitors.visitor_id(request.client.host if request.client else "", "", time.time())


async def page(request: Request) -> Response:
    group = await _group(request)
    ctx = context(request)
    cookie = request.cookies.get(session.cookie_name(group.id)) if group else None
    # A missing group gets the very login page a protected one does: nothing of a
    # group (not even whether it exists) shows before its password.
    if group is None or not session.valid(
        ctx.settings.edge.cookie_secret, group.id, group.password_hash, cookie
    ):
        return _html(render.login_page(_action(request)))
    try:
        span = period.chosen(request.query_params, group.time_zone)
    except AnalyticsError as exc:
        return _html(render.period_error_page(group.name, _action(request), exc.message), 400)
    stats = await load_stats(ctx.pool, group, span, ctx.settings.edge.public_scheme)
    push_key = web_push.public_key(ctx.settings.push)
    return _html(render.dashboard(group, stats, today(group.time_zone), push_key))


async def link_page(request: Request) -> Response:
    ctx = context(request)
    link_id = parse_id(request.path_params["link_id"])
    try:
        if link_id is None:
            raise LinkError("not_found", "not a link id")
        found = await links.public_link(ctx, link_id)
    except LinkError as exc:
        if exc.kind == "unavailable":
            return _unavailable()
        return _html(render.not_found_page(), 404)
    try:
        span = period.chosen(request.query_params, found.time_zone)
    except AnalyticsError as exc:
        back = links.public_stats_path(found.record.id)
        return _html(render.period_error_page(found.record.short_url, back, exc.message), 400)
    figures = await load_link_figures(ctx.pool, found, span)
    page = render.link_dashboard(found.record, found.time_zone, figures, today(found.time_zone))
    return _html(page)


async def subscribe(request: Request) -> Response:
    """The "notify me" of a group that pushes its click milestones: the browser's
    subscription, from a visitor holding the page's cookie, put on the stream for the
    webhook worker to store as one of the group's owners."""
    group = await _group(request)
    ctx = context(request)
    cookie = request.cookies.get(session.cookie_name(group.id)) if group else None
    if group is None or not session.valid(
        ctx.settings.edge.cookie_secret, group.id, group.password_hash, cookie
    ):
        return JSONResponse({"error": "sign in to the statistics page first"}, 403)
    if not group.push_notify or web_push.public_key(ctx.settings.push) is None:
        return JSONResponse({"error": "this group sends no push notifications"}, 404)
    try:
        body = await read_limited(request, web_push.MAX_BODY)
        posted = web_push.parse_subscription(body)
    except BodyTooLarge:
        return JSONResponse({"error": "a subscription is at most 4096 bytes"}, 413)
    except web_push.InvalidSubscription as exc:
        return JSONResponse({"error": str(exc)}, 400)
    subscription = web_push.new_subscription(
        web_push.Audience.OWNER, group.workspace_id, None, group.id, posted,
        request.headers.get("user-agent"),
    )  # fmt: skip
    await web_push.record(ctx.redis, subscription)
    return JSONResponse({"subscribed": True}, 201, headers={"Cache-Control": "no-store"})


async def service_worker(request: Request) -> Response:
    """The same worker as the short domain's (kurz.push), for "notify me" subscriptions."""
    return Response(
        web_push.SERVICE_WORKER_JS,
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                 "Content-Security-Policy": "default-src 'none'"},
    )  # fmt: skip


async def login(request: Request) -> Response:
    group = await _group(request)
    ctx = context(request)
    edge = ctx.settings.edge
    group_id = group.id if group else _requested_id(request)
    action = _action(request)
    password = await _password(request)
    # A missing group checks against a hash of its own, so it answers on the same path
    # and in the same time as a protected one.
    password_hash = group.password_hash if group else _absent_group_hash()
    gate = PasswordGate(ctx.redis, edge.password_attempts, edge.password_window)
    counter = keys.stats_password_attempts(group_id, _visitor(request))
    try:
        right = await gate.check(counter, password_hash, password or "")
    except Throttled as throttled:
        return _html(render.login_page(action, wait=throttled.retry_after), 429)
    except GateUnavailable:
        return _unavailable()
    if right and group is not None:
        response = RedirectResponse(action, status_code=303, headers=_SECURITY_HEADERS)
        response.set_cookie(
            session.cookie_name(group.id),
            session.issue(edge.cookie_secret, group.id, group.password_hash),
            max_age=session.COOKIE_TTL,
            path=session.cookie_path(group.id),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response
    return _html(render.login_page(action, error="Wrong password. Please try again."), 401)


def _action(request: Request) -> str:
    return f"/stats/g/{_requested_id(request)}"


def _requested_id(request: Request) -> int:
    return parse_id(request.path_params["group_id"]) or 0


@functools.cache
def _absent_group_hash() -> str:
    return hash_password(secrets.token_urlsafe(32))


async def _password(request: Request) -> str | None:
    declared = request.headers.get("content-length", "")
    if not declared.isdecimal() or int(declared) > MAX_FORM_BYTES:
        return None
    form = await request.form(max_files=0, max_fields=10)
    value = form.get("password")
    return value if isinstance(value, str) and 0 < len(value) <= 1024 else None


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name == "push.js":  # the subscription script the short domain's push page runs too
        return Response(
            web_push.SUBSCRIBE_JS,
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )
    if name not in _STATIC_TYPES:
        return Response("not found", status_code=404, media_type="text/plain")
    data = resources.files("kurz_management.statspage").joinpath("static", name).read_bytes()
    return Response(
        data,
        media_type=_STATIC_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


# What Postgres (via asyncpg) and Redis raise while down or restarting.
_DEPENDENCY_ERRORS = UNAVAILABLE_ERRORS  # Redis errors included
_outage_log = Sparse()


def _outage_safe(handler: Handler) -> Handler:
    """A dependency that does not answer gets the visitor a page saying so, 503 with
    Retry-After, instead of a server error; logged once per interval, not per visit."""

    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except _DEPENDENCY_ERRORS as exc:
            if (skipped := _outage_log.due()) is not None:
                log.warning(
                    "statistics page unavailable", extra={"error": repr(exc), "skipped": skipped}
                )
            return _unavailable()

    return answer


def _unavailable() -> Response:
    response = _html(render.unavailable_page(), 503)
    response.headers["Retry-After"] = "5"
    return response


routes: list[BaseRoute] = [
    Route("/stats/g/{group_id}", _outage_safe(page), methods=["GET", "HEAD"]),
    Route("/stats/g/{group_id}", _outage_safe(login), methods=["POST"]),
    Route("/stats/g/{group_id}/push", _outage_safe(subscribe), methods=["POST"]),
    Route("/stats/l/{link_id}", _outage_safe(link_page), methods=["GET", "HEAD"]),
    Route("/stats/static/{name}", static, methods=["GET", "HEAD"]),
    Route(web_push.SERVICE_WORKER_PATH, service_worker, methods=["GET", "HEAD"]),
]
