"""The visitor's Internet provider, from the network the edge recorded (an IPv4 /24 or
IPv6 /48, never the address): the name of the autonomous system that announces it, from
geoip2fast's bundled ASN database (no download, no account). Linkly's `isp` counter
reads it."""

from __future__ import annotations

import functools
import logging
from typing import Any

log = logging.getLogger(__name__)


class IspLookup:
    """Loaded on first use (a quarter of a second, tens of MB): an aggregator that never
    sees a network pays nothing. Cached per network: traffic repeats a few thousand."""

    def __init__(self, enabled: bool = True) -> None:
        self._enabled = enabled
        self._ipv4: Any = None
        self._ipv6: Any = None

    def of(self, network: str | None) -> str | None:
        if not self._enabled or not network:
            return None
        return self._cached(network)

    @functools.lru_cache(maxsize=65_536)  # noqa: B019 (one lookup object per process)
    def _cached(self, network: str) -> str | None:
        database = self._database(ipv6=":" in network)
        if database is None:
            return None
        try:
            found = database.lookup(network)
        except Exception:  # a malformed network from the stream costs only its own name
            return None
        if getattr(found, "is_private", False):
            return None  # a private network has no provider to name
        return str(found.asn_name or "")[:200] or None

    def _database(self, *, ipv6: bool) -> Any:
        attribute = "_ipv6" if ipv6 else "_ipv4"
        loaded = getattr(self, attribute)
        if loaded is None:
            from geoip2fast import GeoIP2Fast

            name = "geoip2fast-asn-ipv6.dat.gz" if ipv6 else "geoip2fast-asn.dat.gz"
            try:
                loaded = GeoIP2Fast(geoip2fast_data_file=name)
            except Exception:
                log.exception("ISP database %s not loaded: isp stays unknown", name)
                self._enabled = False
                return None
            setattr(self, attribute, loaded)
        return loaded
