"""Values signed with a secret and an expiry: the cookies that remember a right password
(a link's at the edge, a group's statistics page). A value is `<expires>.<mac>`, the MAC
over the purpose, the subject and the expiry; each purpose has a key of its own, so a
value signed for one is worth nothing for another. Put what must void the value (a
password hash) in the subject."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


class Signer:
    def __init__(self, secret: str, purpose: str) -> None:
        self._key = hashlib.sha256(f"kurz {purpose}\n{secret}".encode()).digest()

    def _mac(self, subject: str, expires: int) -> str:
        digest = hmac.new(self._key, f"{expires}\n{subject}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, subject: str, ttl: int, now: float | None = None) -> str:
        expires = int(time.time() if now is None else now) + ttl
        return f"{expires}.{self._mac(subject, expires)}"

    def valid(self, subject: str, value: str | None, now: float | None = None) -> bool:
        if not value:
            return False
        expires_text, _, mac = value.partition(".")
        if not (expires_text.isascii() and expires_text.isdigit() and len(expires_text) <= 12):
            return False
        expires = int(expires_text)
        if expires < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(mac, self._mac(subject, expires))
