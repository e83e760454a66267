"""Headless Chromium (the Debian package) driven by Playwright, a running redirector, and
a local landing page to navigate to: another origin (another port) than the edge's."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    Route,
    async_playwright,
)

from tests.integration.redirector.conftest import redirector  # noqa: F401  (fixture)
from tests.integration.webhooks.conftest import burst  # noqa: F401  (fixture)

CHROMIUM = "/usr/bin/chromium"
BRAND_DOMAIN = "brand.test"
LOGO = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32"'
    b' rx="8" fill="#0e9384"/><circle cx="16" cy="16" r="7" fill="#fff"/></svg>'
)
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
    # Custom short domains of the tests' workspaces, served by the local redirector.
    f"--host-resolver-rules=MAP *.{BRAND_DOMAIN} 127.0.0.1",
]  # fmt: skip


class _Landing(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body, kind = b"<!doctype html><title>landed</title><p>landed</p>", "text/html"
        if self.path.endswith(".svg"):
            body, kind = LOGO, "image/svg+xml"
        self.send_response(200)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def landing() -> Iterator[str]:
    """Base URL of a page that says "landed" (and, under any *.svg path, serves a logo)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Landing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


# Phone and desktop: the edge's pages must work and fit on both.
VIEWPORTS: dict[str, dict[str, Any]] = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}  # fmt: skip

# Reports every Content-Security-Policy violation of every document to the test: the
# event reaches script even when the console message is worded differently.
_CSP_LISTENER = (
    "document.addEventListener('securitypolicyviolation',function(e){"
    "window.__kurzCsp(e.violatedDirective+' blocked '+e.blockedURI)});"
)


class Visitor:
    """A browser tab at one viewport that keeps every problem a visitor could meet:
    console errors (CSP violations among them), uncaught script errors, and CSP
    violation reports."""

    def __init__(self, context: BrowserContext, page: Page, viewport: str) -> None:
        self.context = context
        self.page = page
        self.viewport = viewport
        self.console_errors: list[tuple[str, str]] = []  # (text, where)
        self.documents: set[str] = set()  # URLs the tab itself loaded as a page
        self.page_errors: list[str] = []
        self.csp_reports: list[str] = []
        self.outside: list[str] = []

    def problems(self, *expected_statuses: int) -> list[str]:
        """Everything that went wrong. Chromium logs a page answered with an error status
        as a failed load: for the page itself and one of `expected_statuses` (a 404 page
        for an unknown slug), that is the page working."""
        allowed = tuple(f"status of {status} " for status in expected_statuses)
        console = [
            text
            for text, where in self.console_errors
            if not (
                where in self.documents
                and text.startswith("Failed to load resource")
                and any(a in text for a in allowed)
            )
        ]
        return console + self.page_errors + self.csp_reports

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append((message.text, message.location.get("url", "")))

    def _response(self, response: Response) -> None:
        if response.request.resource_type == "document" and response.frame == self.page.main_frame:
            self.documents.add(response.url)


@pytest.fixture(params=sorted(VIEWPORTS))
async def visitor(request: pytest.FixtureRequest, browser: Browser) -> AsyncIterator[Visitor]:
    """A fresh tab at a phone's or a desktop's viewport. Requests to https:// origins
    (tracking scripts) are answered locally with an empty script: the suite runs
    offline, and a refused request would itself be a console error."""
    context = await browser.new_context(**VIEWPORTS[request.param])
    page = await context.new_page()
    seen = Visitor(context, page, request.param)

    async def offline(route: Route) -> None:
        seen.outside.append(route.request.url)
        await route.fulfill(status=200, content_type="text/javascript", body="")

    await context.route("https://**/*", offline)
    await context.expose_binding("__kurzCsp", lambda _source, text: seen.csp_reports.append(text))
    await context.add_init_script(_CSP_LISTENER)
    page.on("console", seen._console)
    page.on("response", seen._response)
    page.on("pageerror", lambda e: seen.page_errors.append(str(e)))
    yield seen
    await context.close()
