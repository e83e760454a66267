"""The SSRF guard: a webhook may only reach public internet addresses.

Checked at registration (a clear error for the caller) and again at delivery, where the
worker connects only to the addresses this guard approved, so a name that changes its
answer between the two checks (DNS rebinding) still cannot reach an internal address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from functools import lru_cache
from urllib.parse import urlsplit

import msgspec

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> addresses the name resolves to; tests swap in their own.
Resolver = Callable[[str, int], Awaitable[list[str]]]

_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
MAX_URL_LENGTH = 2048


class UnsafeTarget(ValueError):
    """The URL may not receive webhooks; the message says why, fit for an API error."""


class Target(msgspec.Struct, frozen=True):
    host: str
    port: int
    addresses: tuple[str, ...]


async def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except UnicodeError as exc:  # a label empty or longer than 63: no such name
        raise socket.gaierror(socket.EAI_NONAME, f"{host!r} is not a resolvable name") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), which is what it reaches."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def refusal_reason(address: str) -> str | None:
    """Why this address may not receive webhooks, or None when it is a public address."""
    ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return refusal_reason(str(inner))
    if ip in _METADATA:
        return "a cloud metadata address"
    for label, flag in (
        ("a loopback", ip.is_loopback),
        ("a link-local", ip.is_link_local),
        ("a multicast", ip.is_multicast),
        ("an unspecified", ip.is_unspecified),
        ("a reserved", ip.is_reserved),
        ("a private", ip.is_private),
    ):
        if flag:
            return f"{label} address"
    if not ip.is_global:
        return "a non-public address"
    return None


@lru_cache(maxsize=4096)
def parse_target(url: str) -> tuple[str, int]:
    """(host, port) of a webhook URL; raises UnsafeTarget for a malformed one. Cached:
    the worker asks for the same few URLs thousands of times a second."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget("the webhook URL must be a non-empty string of at most 2048 characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"the webhook URL is malformed: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("the webhook URL must start with http:// or https://")
    if not parts.hostname:
        raise UnsafeTarget("the webhook URL has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("the webhook URL may not carry credentials")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


@lru_cache(maxsize=4096)
def ip_literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


async def check_addresses(
    host: str, port: int, *, allow_private: bool = False, resolver: Resolver | None = None
) -> Target:
    """Resolve `host` and approve every address it has; raise UnsafeTarget otherwise.

    Every address must pass, not just one: a client may connect to any of them."""
    literal = ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = await (resolver or system_resolver)(host, port)
        except OSError as exc:
            raise UnsafeTarget(f"the webhook host {host!r} does not resolve: {exc}") from None
        if not addresses:
            raise UnsafeTarget(f"the webhook host {host!r} does not resolve")
    if not allow_private:
        for address in addresses:
            reason = refusal_reason(address)
            if reason is not None:
                raise UnsafeTarget(
                    f"the webhook host {host!r} resolves to {address}, {reason}; "
                    "webhooks may only reach public addresses"
                )
    return Target(host, port, tuple(addresses))


async def check_url(
    url: str, *, allow_private: bool = False, resolver: Resolver | None = None
) -> Target:
    """The registration check: a well-formed http(s) URL whose host is public."""
    host, port = parse_target(url)
    return await check_addresses(host, port, allow_private=allow_private, resolver=resolver)
