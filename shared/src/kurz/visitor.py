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
        self._keyed = hashlib.blake2b(digest_size=16)

    def _rekey(self, day: int) -> hashlib.blake2b:
        """The day's keyed hash, kept to be copied: keying blake2b costs more than copying."""
        key = hashlib.sha256(self._secret + b":" + str(day).encode()).digest()
        self._keyed = hashlib.blake2b(key=key, digest_size=16)
        self._day = day
        return self._keyed

    def visitor_id(self, ip: str, user_agent: str, now: float) -> str:
        """32 hex characters, stable for one (ip, user agent) within a UTC day."""
        day = int(now // 86400)
        digest = (self._keyed if day == self._day else self._rekey(day)).copy()
        digest.update(f"{ip}\n{user_agent}".encode("utf-8", "replace"))
        return digest.hexdigest()
