"""The loop of the worker's Postgres-polled senders (mail, web push): a round sends what
is due; an idle or failed round waits a moment, an outage of Postgres included."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg

log = logging.getLogger(__name__)


async def run_rounds(
    stop: asyncio.Event, one_round: Callable[[], Awaitable[int]], what: str, interval: float
) -> None:
    """Call `one_round` (it returns how much it did) until `stop` is set, back to back
    while there is work, `interval` apart when there is none."""
    while not stop.is_set():
        try:
            done = await one_round()
        except (OSError, asyncpg.PostgresError):
            log.exception("%s round failed", what)
            done = 0
        if not done:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
