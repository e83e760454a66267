"""One HTTP attempt of one delivery: signed, time-limited, SSRF-guarded, no redirects."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import NamedTuple

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from kurz.settings import WebhookSettings
from kurz.webhooks import signing as webhook_signing
from kurz.webhooks.retry import parse_retry_after
from kurz.webhooks.ssrf import Resolver, UnsafeTarget, check_addresses, ip_literal, parse_target

USER_AGENT = "kurz-webhooks/1"
_MAX_READ = 64 * 1024  # a reply body larger than this is not read (the connection closes)


class GuardedResolver(AbstractResolver):
    """aiohttp resolves every host through the SSRF guard and connects only to the
    addresses the guard approved: a DNS answer that changed since registration to point
    inside the network is refused here."""

    def __init__(self, *, allow_private: bool, resolver: Resolver | None = None) -> None:
        self._allow_private = allow_private
        self._resolver = resolver

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        target = await check_addresses(
            host, port, allow_private=self._allow_private, resolver=self._resolver
        )
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in target.addresses
        ]

    async def close(self) -> None:
        return None


def create_session(
    settings: WebhookSettings, resolver: Resolver | None = None
) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(allow_private=settings.allow_private_targets, resolver=resolver),
        limit=settings.concurrency,
        ttl_dns_cache=10,
    )
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,
        cookie_jar=aiohttp.DummyCookieJar(),
        headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"},
        timeout=aiohttp.ClientTimeout(total=settings.timeout),
        auto_decompress=False,
    )


class Attempt(NamedTuple):
    ok: bool
    status: int | None
    error: str | None
    retry_after: float | None = None


async def attempt(
    session: aiohttp.ClientSession,
    *,
    url: str,
    message_id: str,
    secret: str,
    payload: bytes,
    settings: WebhookSettings,
    signing: str = "standard",
    organization: int = 0,
) -> Attempt:
    """POST once. Any 2xx is success; everything else (3xx included: redirects are not
    followed) is a failure to retry. Signed per Standard Webhooks, or as Vivoldi signs
    (`signing="vivoldi"`, for a group of that family; `organization` is its workspace)."""
    now = time.time()
    if signing == "vivoldi":
        headers = webhook_signing.vivoldi_headers(
            secret, message_id, int(now * 1000), payload, organization
        )
    else:
        headers = webhook_signing.headers(secret, message_id, int(now), payload)
    try:
        host, port = parse_target(url)
        if ip_literal(host) is not None:
            # aiohttp skips the resolver for IP literals, so the guard sees them here.
            await check_addresses(host, port, allow_private=settings.allow_private_targets)
        async with session.post(
            url,
            data=payload,
            headers=headers,
            allow_redirects=False,
        ) as response:
            if response.content_length is not None and response.content_length <= _MAX_READ:
                await response.read()
            if 200 <= response.status < 300:
                return Attempt(True, response.status, None)
            return Attempt(
                False,
                response.status,
                f"HTTP {response.status}",
                parse_retry_after(response.headers.get("Retry-After"), time.time()),
            )
    except UnsafeTarget as exc:
        return Attempt(False, None, f"refused: {exc}")
    except TimeoutError:
        return Attempt(False, None, f"no answer within {settings.timeout:g}s")
    except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:500])
