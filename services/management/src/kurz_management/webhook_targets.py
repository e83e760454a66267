"""Webhook URLs given on links and groups are registrations too: the SSRF guard checks
them (every address a name resolves to must be public) unless the install allows private
targets. A name that does not resolve (yet) is let through: it reaches nothing, and
delivery checks every name again, so one whose answer changes later is refused there."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from kurz.settings import WebhookSettings
from kurz.webhooks.ssrf import (
    UnsafeTarget,
    check_addresses,
    ip_literal,
    parse_target,
    system_resolver,
)

RESOLVE_TIMEOUT = 5.0


async def refusals(urls: Iterable[str], settings: WebhookSettings) -> dict[str, str]:
    """Why each refused URL may not receive webhooks; URLs that pass are absent."""
    if settings.allow_private_targets:
        return {}
    unique = list(dict.fromkeys(urls))
    reasons = await asyncio.gather(*(_refusal(url) for url in unique))
    return {url: reason for url, reason in zip(unique, reasons, strict=True) if reason}


async def _refusal(url: str) -> str | None:
    try:
        host, port = parse_target(url)
        literal = ip_literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                addresses = await system_resolver(host, port)

        async def resolved(host: str, port: int) -> list[str]:
            return addresses

        await check_addresses(host, port, resolver=resolved)
    except UnsafeTarget as exc:
        return str(exc)
    except (OSError, TimeoutError):
        return None
    return None
