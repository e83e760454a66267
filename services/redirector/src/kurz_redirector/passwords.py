"""Password-protected links: the signed cookie that remembers a correct answer (kurz.signed)
and the form's field. The attempts themselves go through kurz.password_gate."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, quote

from kurz.models import EdgeLink
from kurz.signed import Signer

COOKIE_LIFETIME = 86_400
_MAX_FORM_BYTES = 4096


def cookie_name(link: EdgeLink) -> str:
    return f"kurz_pw_{link.id}"


def _subject(link: EdgeLink) -> str:
    # The password hash is signed too: the cookie is void once the password changes.
    return f"{link.id}\n{link.password_hash}"


class PasswordCookies:
    """Valid for one link only, until it expires or the link's password changes."""

    def __init__(self, secret: str) -> None:
        self._signer = Signer(secret, "link password cookie")

    def issue(self, link: EdgeLink, now: float | None = None) -> str:
        return self._signer.issue(_subject(link), COOKIE_LIFETIME, now)

    def valid(self, link: EdgeLink, cookie_header: str, now: float) -> bool:
        value = _cookie_value(cookie_header, cookie_name(link))
        return self._signer.valid(_subject(link), value, now)

    def set_cookie_header(self, link: EdgeLink, path: str, *, secure: bool) -> bytes:
        value = self.issue(link, time.time())
        attrs = (
            f"{cookie_name(link)}={value}; Max-Age={COOKIE_LIFETIME}; Path={quote(path)}; "
            "HttpOnly; SameSite=Lax"
        )
        return (attrs + ("; Secure" if secure else "")).encode("latin-1")


def _cookie_value(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return None


def form_password(body: bytes) -> str | None:
    """The `password` field of an urlencoded form body, or None when absent or too big."""
    if len(body) > _MAX_FORM_BYTES:
        return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    values = fields.get("password")
    return values[0] if values else None
