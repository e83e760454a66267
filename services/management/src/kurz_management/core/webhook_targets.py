"""Webhook URLs given on links and groups are registrations too, judged by the one rule
every registration path uses (kurz.webhooks.ssrf.check_url): a well-formed http(s) URL
whose host resolves, and only to public addresses, unless the install allows private
targets. Delivery checks every name again, so one whose answer changes later is refused
there too."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from kurz.settings import WebhookSettings
from kurz.webhooks.ssrf import UnsafeTarget, check_url, system_resolver

RESOLVE_TIMEOUT = 5.0


async def refusals(urls: Iterable[str], settings: WebhookSettings) -> dict[str, str]:
    """Why each refused URL may not receive webhooks; URLs that pass are absent."""
    if settings.allow_private_targets:
        return {}
    unique = list(dict.fromkeys(urls))
    reasons = await asyncio.gather(*(_refusal(url) for url in unique))
    return {url: reason for url, reason in zip(unique, reasons, strict=True) if reason}


async def _resolve(host: str, port: int) -> list[str]:
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT):
            return await system_resolver(host, port)
    except TimeoutError as exc:
        raise OSError(f"no answer within {RESOLVE_TIMEOUT:g} s") from exc


async def _refusal(url: str) -> str | None:
    try:
        await check_url(url, resolver=_resolve)
    except UnsafeTarget as exc:
        return str(exc)
    return None
