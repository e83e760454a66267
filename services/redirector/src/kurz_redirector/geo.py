"""Visitor country: a trusted edge header, else geoip2fast's bundled data, else an .mmdb."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)

_CACHE_MAX = 65_536


class Countries:
    def __init__(self, mmdb_path: str | None = None) -> None:
        self._lookup = _bundled()
        self._mmdb = _mmdb(mmdb_path) if mmdb_path else None
        self._cache: dict[str, str | None] = {}

    def of(self, ip: str) -> str | None:
        """ISO alpha-2 (upper case) or None for private, unknown or malformed addresses."""
        if ip in self._cache:
            return self._cache[ip]
        country = self._resolve(ip)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[ip] = country
        return country

    def _resolve(self, ip: str) -> str | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if not address.is_global:
            return None
        country = self._lookup(ip) if self._lookup else None
        if country is None and self._mmdb is not None:
            country = self._mmdb(ip)
        return country


def _bundled() -> Callable[[str], str | None] | None:
    try:
        from geoip2fast import GeoIP2Fast
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    database = GeoIP2Fast()

    def lookup(ip: str) -> str | None:
        code = database.lookup(ip).country_code
        return code if code and len(code) == 2 and code.isalpha() else None

    return lookup


def _mmdb(path: str) -> Callable[[str], str | None] | None:
    try:
        import maxminddb
    except ImportError:
        log.warning("KURZ_GEOIP_MMDB is set but the maxminddb package is not installed")
        return None
    reader = maxminddb.open_database(path)

    def lookup(ip: str) -> str | None:
        record = reader.get(ip)
        if not isinstance(record, dict):
            return None
        country = record.get("country") or record.get("registered_country") or {}
        code = country.get("iso_code") if isinstance(country, dict) else None
        return code if isinstance(code, str) else None

    return lookup
