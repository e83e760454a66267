"""What the hot path reads from a request's headers, in one pass."""

from __future__ import annotations

RequestHeaders = tuple[bytes, bytes, bytes, bytes, bytes, bytes, bytes, bytes]


def read_headers(
    headers: list[tuple[bytes, bytes]], country_header: bytes | None
) -> RequestHeaders:
    """host, user agent, referrer, request id, cookie, accept-language, country (the
    trusted edge header named `country_header`, if any), X-Forwarded-For."""
    host = user_agent = referrer = request_id = cookie = language = country = b""
    forwarded_for = b""
    for name, value in headers:
        if name == b"host":
            host = value
        elif name == b"user-agent":
            user_agent = value
        elif name == b"referer":
            referrer = value
        elif name == b"x-request-id":
            request_id = value
        elif name == b"cookie":  # HTTP/2 may split cookies over several headers
            cookie = cookie + b"; " + value if cookie else value
        elif name == b"accept-language":
            language = value
        elif name == b"x-forwarded-for":  # several headers are one list, in order
            forwarded_for = forwarded_for + b", " + value if forwarded_for else value
        elif name == country_header:
            country = value
    return host, user_agent, referrer, request_id, cookie, language, country, forwarded_for


def trusted_country(value: bytes) -> str | None:
    """The edge header's country: two letters, or None (Cloudflare says XX for unknown
    and T1 for Tor)."""
    code = value.decode("latin-1").strip().upper()
    return code if len(code) == 2 and code.isalpha() and code != "XX" else None
