"""ASGI responses for decisions: redirect start messages and HTML pages."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from kurz.branding import EdgeWorkspace
from kurz.decision import Answer, Decision
from kurz.models import EdgeLink

from kurz_redirector import pages

Send = Callable[[dict[str, Any]], Awaitable[None]]

EMPTY_BODY: dict[str, Any] = {"type": "http.response.body", "body": b""}
_SAFE_URL_CHARS = ":/?#[]@!$&'()*+,;=%~"
_PRINTABLE = re.compile("[\x21-\x7e]*")
# Browsers keep a permanent redirect forever; a short private lifetime keeps later
# clicks countable and edits effective.
_CACHE = {301: b"private, max-age=90", 308: b"private, max-age=90"}
_NO_STORE = b"no-store"
_UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:", "file:")


def header_url(url: str) -> bytes:
    """A URL as a Location header value: anything but printable ASCII (non-ASCII, spaces,
    control characters, which could split the response) percent-encoded."""
    if _PRINTABLE.fullmatch(url):
        return url.encode("ascii")
    return quote(url, safe=_SAFE_URL_CHARS).encode("ascii")


def safe_destination(url: str) -> bool:
    return not url.lstrip().lower().startswith(_UNSAFE_SCHEMES)


# Header pairs shared by every cached redirect: one object each, not one per link.
_NO_BODY = (b"content-length", b"0")
_CACHE_PAIRS = {status: (b"cache-control", value) for status, value in _CACHE.items()}
_NO_STORE_PAIR = (b"cache-control", _NO_STORE)
_NO_REFERRER_PAIR = (b"referrer-policy", b"no-referrer")


Headers = tuple[tuple[bytes, bytes], ...]


def redirect_headers(status: int, location: str, *, no_referrer: bool) -> Headers:
    headers: Headers = (
        (b"location", header_url(location)),
        _NO_BODY,
        _CACHE_PAIRS.get(status, _NO_STORE_PAIR),
    )
    if no_referrer:
        headers += (_NO_REFERRER_PAIR,)
    return headers


def redirect_start(status: int, location: str, *, no_referrer: bool) -> dict[str, Any]:
    headers = redirect_headers(status, location, no_referrer=no_referrer)
    return {"type": "http.response.start", "status": status, "headers": headers}


async def send_html(
    send: Send,
    status: int,
    page: pages.Html,
    *,
    head_only: bool = False,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(page.body)).encode()),
        (b"content-security-policy", page.csp.encode()),
        (b"cache-control", _NO_STORE),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head_only else page.body})


_MESSAGES = {
    Answer.NOT_STARTED: ("Not active yet", "This link is not active yet. Please come back later."),
    Answer.EXPIRED: ("Link expired", "This link has expired."),
    Answer.LIMITED: ("Link no longer available", "This link has reached its limit of visits."),
    Answer.BLOCKED: ("Access denied", "Automated clients may not follow this link."),
    Answer.DISABLED: ("Not found", "There is no link at this address."),
}
NOT_FOUND = pages.message("Not found", "There is no link at this address.")
UNAVAILABLE = pages.message("Temporarily unavailable", "Please try again in a moment.")


def page_for(
    decision: Decision,
    link: EdgeLink,
    short_url: str,
    form_action: str,
    brand: EdgeWorkspace | None = None,
    push_key: str | None = None,
) -> pages.Html:
    """The HTML page of a decision that is not a plain redirect, in the link's
    workspace's branding. `push_key`: the VAPID public key a push page subscribes with."""
    answer, to = decision.answer, decision.destination
    no_referrer = link.hide_referrer
    if answer == Answer.NAVIGATE:
        return pages.navigate(to, no_referrer=no_referrer, brand=brand)
    if answer == Answer.SCHEME:
        return pages.scheme(to, brand=brand)
    if answer == Answer.FRAME:
        return pages.frame(to, link.og_title)
    if answer == Answer.PIXELS:
        return pages.pixels(
            to,
            meta=link.meta_pixel_id,
            ga4=link.ga4_id,
            gtm=link.gtm_id,
            tiktok=link.tiktok_pixel_id,
            head_tags=link.head_tags,
            body_tags=link.body_tags,
            no_referrer=no_referrer,
            brand=brand,
        )
    if answer == Answer.PUSH:
        path = form_action.split("?", 1)[0]
        return pages.push(to, path + "/push", push_key, brand)
    if answer == Answer.PREVIEW:
        return pages.preview(short_url, link.og_title, link.og_description, link.og_image)
    if answer == Answer.PASSWORD:
        return pages.password_form(form_action, brand=brand)
    title, text = _MESSAGES[answer]
    return pages.message(title, text, brand=brand)


def not_found(brand: EdgeWorkspace | None) -> pages.Html:
    """The page of an address with no link, in its domain's branding."""
    return NOT_FOUND if brand is None else pages.message(*_MESSAGES[Answer.DISABLED], brand=brand)


async def no_link(
    send: Send, elsewhere: str | None, brand: EdgeWorkspace | None, *, head_only: bool
) -> None:
    """An address with no link (an unknown slug, a domain's root): a 302 to where its
    workspace sends such visitors if it said, else the not-found page."""
    if elsewhere:
        await send(redirect_start(302, elsewhere, no_referrer=False))
        await send(EMPTY_BODY)
    else:
        await send_html(send, 404, not_found(brand), head_only=head_only)
