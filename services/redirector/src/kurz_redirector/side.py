"""Everything on the short domain besides the visit itself: password form posts,
QR codes, web push (the service worker and the subscriptions a push page posts), and
404/405 for other paths. Plain ASGI handlers, off the hot path."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import msgspec
from kurz import keys, qr
from kurz import push as web_push
from kurz.branding import EdgeWorkspace
from kurz.models import EdgeLink
from kurz.password_gate import GateUnavailable, PasswordGate, Throttled
from redis.exceptions import RedisError

from kurz_redirector import pages, respond
from kurz_redirector.passwords import form_password
from kurz_redirector.resolver import Unavailable
from kurz_redirector.respond import NOT_FOUND, UNAVAILABLE, Send, header_url, send_html

if TYPE_CHECKING:
    from kurz_redirector.app import Redirector

Scope = dict[str, Any]
_MAX_BODY = 16_384


class SidePaths:
    def __init__(self, edge: Redirector, gate: PasswordGate) -> None:
        self._edge = edge
        self._gate = gate

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        segments = path[1:].split("/")
        if len(segments) == 1 and segments[0] and method == "POST":
            await self._password(scope, receive, send)
        elif (
            len(segments) == 2 and segments[1] == "qr" and segments[0] and method in ("GET", "HEAD")
        ):
            await self._qr(scope, send, segments[0])
        elif path == "/" and method in ("GET", "HEAD"):
            await self._root(scope, send)
        elif path == web_push.SERVICE_WORKER_PATH and method in ("GET", "HEAD"):
            await send_service_worker(send, head_only=method == "HEAD")
        elif len(segments) == 2 and segments[1] == "push" and segments[0] and method == "POST":
            await self._subscribe(scope, receive, send, segments[0])
        elif len(segments) == 1 and segments[0]:
            await send_html(
                send,
                405,
                pages.message("Method not allowed", "Use GET."),
                extra=[(b"allow", b"GET, HEAD, POST")],
            )
        else:
            await send_html(send, 404, NOT_FOUND, head_only=method == "HEAD")

    async def _link(self, scope: Scope, slug: str, send: Send) -> EdgeLink | None:
        host = _header(scope, b"host").lower()
        key = f"{host}/{slug}"
        entry = self._edge.cache.get(key)
        if entry is None:
            try:
                entry = await self._edge.resolver.resolve(host, slug)
            except Unavailable:
                await send_html(send, 503, UNAVAILABLE, extra=[(b"retry-after", b"2")])
                return None
        link = entry.link
        if link is None and entry.link_id:
            # A plain redirect's entry keeps only its ready answer: read the whole link.
            try:
                link = await self._edge.resolver.full_link(host, slug)
            except Unavailable:
                await send_html(send, 503, UNAVAILABLE, extra=[(b"retry-after", b"2")])
                return None
        if link is None or not link.enabled:
            await send_html(send, 404, NOT_FOUND, head_only=scope["method"] == "HEAD")
            return None
        return link

    async def _root(self, scope: Scope, send: Send) -> None:
        """The domain itself: on to its workspace's base URL, else the not-found page."""
        brand = await self._edge.sites.for_host(_header(scope, b"host").lower())
        elsewhere = brand.base_url_redirect if brand is not None else None
        await respond.no_link(send, elsewhere, brand, head_only=scope["method"] == "HEAD")

    async def _qr(self, scope: Scope, send: Send, slug: str) -> None:
        params = parse_qs(scope["query_string"].decode("latin-1"))
        try:
            size, kind = qr.parse_options(params)
        except qr.QrError as exc:
            await send_html(send, 400, pages.message("Bad request", str(exc)))
            return
        link = await self._link(scope, slug, send)
        if link is None:
            return
        host = _header(scope, b"host").lower()
        content = qr.qr_content(link, f"{self._edge.scheme}://{host}/{slug}")
        body, content_type = qr.render(content, size, kind)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", content_type),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"public, max-age=300"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'"),
                ],
            }
        )
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )

    async def _subscribe(self, scope: Scope, receive: Any, send: Send, slug: str) -> None:
        """A push link's page posts the browser's subscription here: checked, then put
        on the stream for the webhook worker to store (the edge writes no SQL)."""
        body = await _read_body(receive, web_push.MAX_BODY)
        link = await self._link(scope, slug, send)
        if link is None:
            return
        if not link.push_subscribe or self._edge.push_key is None:
            await send_json(send, 404, {"error": "this link takes no push subscriptions"})
            return
        try:
            if body is None:
                raise web_push.InvalidSubscription("a subscription is at most 4096 bytes")
            posted = web_push.parse_subscription(body)
        except web_push.InvalidSubscription as exc:
            await send_json(send, 400, {"error": str(exc)})
            return
        subscription = web_push.new_subscription(
            web_push.Audience.VISITOR, link.workspace_id, link.id, link.group_id, posted,
            _header(scope, b"user-agent"),
        )  # fmt: skip
        try:
            await web_push.record(self._edge.redis, subscription)
        except (RedisError, OSError):
            await send_json(send, 503, {"error": "try again shortly"}, [(b"retry-after", b"2")])
            return
        await send_json(send, 201, {"subscribed": True})

    async def _password(self, scope: Scope, receive: Any, send: Send) -> None:
        body = await _read_body(receive, _MAX_BODY)
        slug = scope["path"][1:]
        link = await self._link(scope, slug, send)
        if link is None:
            return
        query = scope["query_string"].decode("latin-1")
        target = scope["path"] + ("?" + query if query else "")
        brand = await self._edge.sites.for_workspace(link.workspace_id)
        if link.password_hash is None:
            await _go_on(send, target, brand)
            return
        password = form_password(body) if body is not None else None
        if not password:
            page = pages.password_form(target, error="Enter the password.", brand=brand)
            await send_html(send, 400, page)
            return
        client = scope.get("client")
        # Throttled per address, not per (address, user agent): the guesser chooses the
        # user agent, so counting by it would give every guess a fresh budget.
        visitor = self._edge.visitors.visitor_id(client[0] if client else "", "", time.time())
        try:
            counter = keys.password_attempts(link.id, visitor)
            ok = await self._gate.check(counter, link.password_hash, password)
        except GateUnavailable:  # an outage, not the visitor's doing: retry soon
            await send_html(send, 503, UNAVAILABLE, extra=[(b"retry-after", b"2")])
            return
        except Throttled as throttled:
            page = pages.message(
                "Too many attempts", "Please wait a few minutes and try again.", brand=brand
            )
            wait = str(throttled.retry_after).encode()
            await send_html(send, 429, page, extra=[(b"retry-after", wait)])
            return
        if not ok:
            page = pages.password_form(target, error="Wrong password.", brand=brand)
            await send_html(send, 403, page)
            return
        cookie = self._edge.cookies.set_cookie_header(
            link, scope["path"], secure=self._edge.scheme == "https"
        )
        await _go_on(send, target, brand, [(b"set-cookie", cookie)])


async def send_service_worker(send: Send, *, head_only: bool) -> None:
    body = web_push.SERVICE_WORKER_JS.encode()
    headers = [
        (b"content-type", b"text/javascript; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        # Browsers check a worker for updates themselves; no-cache keeps a change prompt.
        (b"cache-control", b"no-cache"),
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", b"default-src 'none'"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head_only else body})


async def send_json(
    send: Send, status: int, answer: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = msgspec.json.encode(answer)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        *(extra or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def _read_body(receive: Any, limit: int) -> bytes | None:
    """The request body, or None once it grows past `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _go_on(
    send: Send,
    target: str,
    brand: EdgeWorkspace | None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """After the form: a page that navigates on to the link, not a 303. A redirect chain
    that answers a form post is governed by the form's `form-action 'self'` all the way,
    so a 303 back to the link, then its redirect to another origin, would be blocked by
    the browser; a navigation from a page is not. Scripted, with a refresh for browsers
    without scripts and a link as the last resort."""
    onward = header_url(target).decode("ascii")  # the path percent-encoded, as a URL
    await send_html(send, 200, pages.navigate(onward, brand=brand), extra=extra)
