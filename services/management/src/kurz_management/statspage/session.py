"""The signed cookie a correct password earns: scoped to one group's page, HttpOnly,
SameSite=Strict, and void as soon as the group's statistics password changes (the
password hash is part of what is signed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

COOKIE_TTL = 7 * 24 * 3600


def cookie_name(group_id: int) -> str:
    return f"kurz_stats_{group_id}"


def cookie_path(group_id: int) -> str:
    return f"/stats/g/{group_id}"


def _key(secret: str) -> bytes:
    # A key of its own, so a value signed here is worth nothing anywhere else.
    return hashlib.sha256(b"kurz stats page cookie\n" + secret.encode()).digest()


def _mac(secret: str, group_id: int, expires: int, password_hash: str) -> str:
    message = f"{group_id}\n{expires}\n{password_hash}".encode()
    digest = hmac.new(_key(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(secret: str, group_id: int, password_hash: str, now: float | None = None) -> str:
    expires = int(now if now is not None else time.time()) + COOKIE_TTL
    return f"{expires}.{_mac(secret, group_id, expires, password_hash)}"


def valid(
    secret: str, group_id: int, password_hash: str, value: str | None, now: float | None = None
) -> bool:
    if not value:
        return False
    expires_text, _, mac = value.partition(".")
    if not expires_text.isdecimal() or len(expires_text) > 12:
        return False
    expires = int(expires_text)
    if expires < (now if now is not None else time.time()):
        return False
    return hmac.compare_digest(mac, _mac(secret, group_id, expires, password_hash))
