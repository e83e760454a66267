"""What every console page shares: the signed-in session, CSRF on every form, the
templates, the security headers and the answers for the cases a page does not handle.

A page is an `async def page(request, page: Page) -> Response` wrapped in
`@console_page()`; the wrapper has already found the session (else sent the visitor to
sign in), checked the form's CSRF token on every POST and the owner role where asked."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg
import jinja2
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from kurz_management.context import context
from kurz_management.core.console_sessions import (
    ConsoleSession,
    csrf_token,
    csrf_valid,
    session_of,
    workspaces_of,
)
from kurz_management.core.context import AppContext

log = logging.getLogger(__name__)

ROOT = "/console"
STATIC = f"{ROOT}/static"
SESSION_COOKIE = "kurz_console"
FORM_LIMIT = 256 * 1024  # bytes of an ordinary form
UPLOAD_LIMIT = 8 * 1024 * 1024  # bytes of a form with a file (CSV import)

CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

# Autoescaping everywhere: every value a user typed is escaped on every page.
templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["STATIC"] = STATIC
templates.globals["ROOT"] = ROOT
templates.filters["number"] = lambda n: f"{n:,}"


class FormRefused(Exception):
    """A form that cannot be taken as it came (too large, unreadable)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(body, status, headers={**SECURITY_HEADERS, **(headers or {})})


def see_other(path: str, **params: object) -> RedirectResponse:
    """After a form: 303 to the page that shows the result (a reload does not post again)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    target = f"{path}?{query}" if query else path
    return RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)


def sentence(message: str) -> str:
    """A use case's refusal ("tag name must be ...") as the console shows it."""
    message = message.strip().rstrip(".")
    return f"{message[:1].upper()}{message[1:]}."


def render_page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
    return html(templates.get_template(name).render(**values), status)


def problem(status: int, title: str, message: str, page: Page | None = None) -> HTMLResponse:
    """A page that says what went wrong, in the console's look."""
    values = page.values() if page else {"session": None, "csrf": "", "workspaces": []}
    return render_page("problem.html", status, title=title, message=message, **values)


async def read_form(request: Request, limit: int = FORM_LIMIT) -> FormData:
    """The posted form, refused past `limit` bytes before it is read: browsers always
    declare a form's length, so a form without one is refused too."""
    declared = request.headers.get("content-length", "")
    if not (declared.isascii() and declared.isdigit()):
        raise FormRefused(411, "The form came without its length.")
    if int(declared) > limit:
        raise FormRefused(413, f"The form is larger than {limit // 1024:,} KB.")
    await request.body()  # cached: form() parses these bytes, not the socket
    try:
        return await request.form(max_files=1, max_fields=2000, max_part_size=limit)
    except Exception as exc:  # a malformed multipart body raises the parser's own errors
        raise FormRefused(400, "The form could not be read.") from exc


class Page:
    """A console request: the app's context, the session and what templates need."""

    def __init__(self, request: Request, ctx: AppContext, session: ConsoleSession, token: str):
        self.request = request
        self.ctx = ctx
        self.session = session
        self.principal = session.principal
        self._token = token
        self.workspaces: list[Any] = []

    @property
    def csrf(self) -> str:
        return csrf_token(self.ctx.settings.edge.cookie_secret, self._token)

    def values(self) -> dict[str, Any]:
        return {"session": self.session, "csrf": self.csrf, "workspaces": self.workspaces,
                "path": self.request.url.path}  # fmt: skip

    def render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return render_page(name, status, **self.values(), **values)

    async def form(self, limit: int = FORM_LIMIT) -> FormData:
        return await read_form(self.request, limit)


Endpoint = Callable[[Request, Page], Awaitable[Response]]


def console_page(*, owner_only: bool = False, upload: bool = False) -> Callable[[Endpoint], Any]:
    """Wrap a console endpoint: signed in, CSRF-checked on POST, owner where asked."""

    def wrap(endpoint: Endpoint) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(endpoint)
        async def handler(request: Request) -> Response:
            ctx = context(request)
            token = request.cookies.get(SESSION_COOKIE)
            try:
                session = await session_of(ctx, token)
                if session is None or token is None:
                    return _to_sign_in(request)
                page = Page(request, ctx, session, token)
                if request.method == "POST":
                    try:
                        form = await page.form(UPLOAD_LIMIT if upload else FORM_LIMIT)
                    except FormRefused as refused:
                        return problem(refused.status, "Form refused", refused.message, page)
                    if not csrf_valid(ctx.settings.edge.cookie_secret, token, form.get("csrf")):
                        return problem(403, "Form expired", _CSRF_MESSAGE, page)
                if owner_only and not session.owner:
                    return problem(403, "Owners only", _OWNER_MESSAGE, page)
                page.workspaces = await workspaces_of(ctx, session.user_id)
                return await endpoint(request, page)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("console page unavailable: %s: %s", type(exc).__name__, exc)
                return problem(503, "Unavailable", "The database does not answer. Try again.")

        return handler

    return wrap


_CSRF_MESSAGE = (
    "This form was not sent from a page of this console, or it is too old. "
    "Go back, reload the page and send it again."
)
_OWNER_MESSAGE = "Only an owner of this workspace can open this page."


def _to_sign_in(request: Request) -> Response:
    """A visitor without a session: a page read goes to the sign-in form and comes back
    after it; a form sent without one is refused (it cannot be replayed after sign-in)."""
    if request.method != "GET":
        return problem(403, "Signed out", "Your session has ended. Sign in and try again.")
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(
        f"{ROOT}/sign-in?next={quote(back, safe='')}", status_code=303, headers=SECURITY_HEADERS
    )


def safe_next(value: object) -> str:
    """Where to go after sign-in: only a path of the console itself (never another site,
    never `//host`)."""
    if (
        isinstance(value, str)
        and value.startswith(f"{ROOT}/")
        and not any(c in value for c in "\\\r\n")
    ):
        return value
    return f"{ROOT}/links"
