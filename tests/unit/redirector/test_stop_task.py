"""Stopping the redirector's background tasks at shutdown, even one that mistakes its
cancellation for a lost connection and carries on, as the invalidation listener did when
redis-py turned a cancellation during a connect into a ConnectionError."""

from __future__ import annotations

import asyncio

from kurz_redirector.tasks import stop_task


async def test_a_task_that_swallows_its_cancellation_is_still_stopped() -> None:
    attempts: list[int] = []

    async def reconnecting() -> None:
        while True:
            try:
                attempts.append(1)
                await asyncio.sleep(3600)  # "connecting"
            except asyncio.CancelledError:
                if len(attempts) > 1:
                    raise
                # Swallowed once: what a reconnect loop does with a ConnectionError.
            await asyncio.sleep(0)

    task = asyncio.create_task(reconnecting())
    await asyncio.sleep(0)
    # Not under wait_for: its own cancellation would reach the task and end it.
    stopper = asyncio.create_task(stop_task(task, every=0.05))
    done, _ = await asyncio.wait({stopper}, timeout=5)
    stopper.cancel()
    assert stopper in done, "stop_task waited on a task that carried on"
    assert task.cancelled() and len(attempts) == 2


async def test_a_task_that_ends_on_its_own_error_is_reported_not_raised() -> None:
    async def failing() -> None:
        raise RuntimeError("lost")

    task = asyncio.create_task(failing())
    await asyncio.sleep(0)
    await stop_task(task)
    assert isinstance(task.exception(), RuntimeError)
