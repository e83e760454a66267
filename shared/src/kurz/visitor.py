"""Visitor ids: a keyed hash of IP address and user agent, with a key rotated daily.

Unique-visitor counts work on the id; the raw IP address is never stored, and ids of
different days cannot be linked without the secret.
"""

from __future__ import annotations

import hashlib


class VisitorIds:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._day = -1
        self._key = b""

    def _key_for(self, day: int) -> bytes:
        if day != self._day:
            self._key = hashlib.sha256(self._secret + b":" + str(day).encode()).digest()
            self._day = day
        return self._key

    def visitor_id(self, ip: str, user_agent: str, now: float) -> str:
        """32 hex characters, stable for one (ip, user agent) within a UTC day."""
        key = self._key_for(int(now // 86400))
        digest = hashlib.blake2b(
            ip.encode() + b"\n" + user_agent.encode("utf-8", "replace"), key=key, digest_size=16
        )
        return digest.hexdigest()
