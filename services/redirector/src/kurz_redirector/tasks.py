"""Stopping the redirector's background tasks."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


async def stop_task(task: asyncio.Task[None], every: float = 0.5) -> None:
    """Cancel `task` and wait for it to end, cancelling it again while it runs on. A
    cancellation that lands while redis-py connects can come out as a ConnectionError,
    which a loop that outlives Redis errors (the invalidation listener, the click
    limiter, the batched lookups) takes for a lost connection and carries on: awaited
    once, such a task kept a shutdown from ever ending."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=every)
    if not task.cancelled() and task.exception() is not None:
        log.warning("task failed", extra={"task": task.get_name(), "error": repr(task.exception())})
