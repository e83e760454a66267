"""Signing in and out, and moving between one's workspaces.

The sign-in form is protected from cross-site posts like every other form: its token
is an HMAC of a random nonce kept in a cookie of its own (there is no session yet)."""

from __future__ import annotations

import secrets

from kurz.password_gate import GateUnavailable, Throttled
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kurz_management.console.pages import (
    ROOT,
    SESSION_COOKIE,
    FormRefused,
    Page,
    console_page,
    problem,
    read_form,
    render_page,
    safe_next,
    see_other,
)
from kurz_management.context import context
from kurz_management.core import console_sessions
from kurz_management.core.console_sessions import csrf_token, csrf_valid

NONCE_COOKIE = "kurz_console_sign_in"
_SIGN_IN = f"{ROOT}/sign-in"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _form(request: Request, status: int = 200, **values: object) -> Response:
    """The sign-in form with a fresh nonce (and its cookie)."""
    nonce = secrets.token_urlsafe(24)
    secret = context(request).settings.edge.cookie_secret
    response = render_page(
        "sign_in.html",
        status,
        csrf=csrf_token(secret, f"sign-in\n{nonce}"),
        next=safe_next(values.pop("next", None) or request.query_params.get("next")),
        session=None,
        workspaces=[],
        **{"email": "", "error": None, **values},
    )
    response.set_cookie(NONCE_COOKIE, nonce, max_age=3600, path=_SIGN_IN, httponly=True,
                        samesite="strict", secure=_secure(request))  # fmt: skip
    return response


async def sign_in_page(request: Request) -> Response:
    return _form(request)


async def sign_in(request: Request) -> Response:
    ctx = context(request)
    try:
        form = await read_form(request)
    except FormRefused as refused:
        return problem(refused.status, "Form refused", refused.message)
    email, password = str(form.get("email") or "").strip(), str(form.get("password") or "")
    back = safe_next(form.get("next"))
    nonce = request.cookies.get(NONCE_COOKIE)
    secret = ctx.settings.edge.cookie_secret
    if not csrf_valid(secret, nonce and f"sign-in\n{nonce}", form.get("csrf")):
        return _form(request, 403, email=email, next=back,
                     error="The form expired. Please sign in again.")  # fmt: skip
    if not email or not password or len(email) > 320 or len(password) > 1024:
        return _form(request, 400, email=email, next=back,
                     error="Enter your e-mail address and your password.")  # fmt: skip
    try:
        token = await console_sessions.sign_in(ctx, email, password)
    except Throttled as throttled:
        minutes = max(1, (throttled.retry_after + 59) // 60)
        error = f"Too many wrong passwords. Try again in {minutes} minute(s)."
        return _form(request, 429, email=email, next=back, error=error)
    except GateUnavailable:
        return problem(503, "Unavailable", "Signing in is not possible right now. Try again.")
    if token is None:
        return _form(request, 401, email=email, next=back,
                     error="Wrong e-mail address or password.")  # fmt: skip
    # A session cookie the browser brought (planted or old) ends here: the new token is
    # the only one that works from now on.
    await console_sessions.sign_out(ctx, request.cookies.get(SESSION_COOKIE))
    response = see_other(back)
    response.set_cookie(SESSION_COOKIE, token, max_age=console_sessions.SESSION_TTL, path=ROOT,
                        httponly=True, samesite="lax", secure=_secure(request))  # fmt: skip
    response.delete_cookie(NONCE_COOKIE, path=_SIGN_IN)
    return response


@console_page()
async def sign_out(request: Request, page: Page) -> Response:
    await console_sessions.sign_out(page.ctx, request.cookies.get(SESSION_COOKIE))
    response = see_other(_SIGN_IN, signed_out=1)
    response.delete_cookie(SESSION_COOKIE, path=ROOT)
    return response


@console_page()
async def switch_workspace(request: Request, page: Page) -> Response:
    form = await page.form()
    raw = str(form.get("workspace_id") or "")
    token = request.cookies.get(SESSION_COOKIE) or ""
    if not raw.isdecimal() or not await console_sessions.switch_workspace(
        page.ctx, token, int(raw)
    ):
        return problem(404, "No such workspace", "You are not a member of that workspace.", page)
    return see_other(f"{ROOT}/links")


async def home(request: Request) -> Response:
    return see_other(f"{ROOT}/links")


routes = [
    Route("/", home, methods=["GET"]),
    Route("/sign-in", sign_in_page, methods=["GET"]),
    Route("/sign-in", sign_in, methods=["POST"]),
    Route("/sign-out", sign_out, methods=["POST"]),
    Route("/workspace", switch_workspace, methods=["POST"]),
]
