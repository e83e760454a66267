"""Visitor ids: a keyed hash of IP address and user agent, with a key rotated daily.

Unique-visitor counts work on the id; the raw IP address is never stored, and ids of
different days cannot be linked without the secret.
"""

from __future__ import annotations

import hashlib
import ipaddress


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


MAX_PARAMS = 20
MAX_PARAM_LENGTH = 200


def network_of(address: str) -> str | None:
    """The address's network as far as an ISP lookup needs it, and no further: IPv4's
    /24 ("203.0.113.0"), IPv6's /48 ("2001:db8:1::")."""
    if address.count(".") == 3:
        return address[: address.rfind(".")] + ".0"
    if ":" in address:
        try:
            net = ipaddress.IPv6Network((address.split("%", 1)[0], 48), strict=False)
        except ValueError:
            return None
        return str(net.network_address)
    return None


def param_pairs(query: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """A visit's query parameters as "name=value", the first MAX_PARAMS, each cut to
    MAX_PARAM_LENGTH characters."""
    return tuple(f"{name}={value}"[:MAX_PARAM_LENGTH] for name, value in query[:MAX_PARAMS])
