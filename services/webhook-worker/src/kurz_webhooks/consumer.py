"""Read click events with the `webhooks` consumer group, fan them out, then acknowledge.

An entry is acknowledged only after its deliveries are committed; one left pending by a
worker that died is reclaimed by the next (fan-out is idempotent on event id)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis
from kurz import keys, push
from kurz.events import SUBSCRIPTION_FIELD, ClickEvent, entry_events
from kurz.settings import Settings
from kurz.stream import ConsumerGroup, Entry, EntrySizes, consumer_name
from kurz.stream_watch import Behind, Failing, watch
from redis.exceptions import RedisError, ResponseError

from kurz_webhooks import metrics
from kurz_webhooks.fanout import fan_out

log = logging.getLogger(__name__)
BATCH = 500  # click events per fan-out, about
BLOCK_MS = 500
WATCH_INTERVAL = 2.0  # seconds between exports of the group's lag (and stream trims)


class Consumer:
    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        redis: aioredis.Redis,
        settings: Settings,
        on_committed: Callable[[], None],
        *,
        mail_configured: bool,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._on_committed = on_committed
        self._mail_configured = mail_configured
        self._group = ConsumerGroup(redis, keys.CLICK_STREAM, keys.WEBHOOK_GROUP, consumer_name())
        self._sizes = EntrySizes()
        self._stopping = False
        limits = settings.redis
        self.behind = Behind(
            keys.CLICK_STREAM, keys.WEBHOOK_GROUP, limits.stream_behind_seconds,
            limits.stream_high_water_bytes,
        )  # fmt: skip
        self.failing = Failing(self._group.consumer)

    def stop(self) -> None:
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def drain(self) -> int:
        """Burst mode: fan out every entry the group has not handled (its own pending ones
        first), then return how many entries were handled; a failure raises."""
        await self._group.ensure()
        handled = 0
        for take in (self._group.own_pending, self._group.read):
            while entries := await take(self._sizes.entries_for(BATCH)):
                await self.process(entries)
                handled += len(entries)
        return handled

    async def run(self) -> None:
        await self._until_ready(self._group.ensure)
        claim_idle_ms = self._settings.webhooks.claim_idle_ms
        claim_every = claim_idle_ms / 3000  # seconds between looks for abandoned entries
        last_claim = last_watch = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() - last_watch >= WATCH_INTERVAL:
                    last_watch = loop.time()
                    await self.watch()
                if loop.time() - last_claim >= claim_every:
                    last_claim = loop.time()
                    count = self._sizes.entries_for(BATCH)
                    await self.process(await self._group.reclaim(claim_idle_ms, count))
                count = self._sizes.entries_for(BATCH)
                await self.process(await self._group.read(count, block_ms=BLOCK_MS))
                self.failing.succeeded()
            except (RedisError, OSError) as exc:
                if self.stopping:
                    break  # Redis going away while the worker stops is no failure
                self.failing.failed(exc)
                if isinstance(exc, ResponseError) and str(exc).startswith("NOGROUP"):
                    # Redis lost the group (flushed, or restarted empty): make it again.
                    log.warning("consumer group missing; creating it again")
                    await self._until_ready(self._group.ensure)
                    continue
                log.exception("stream read failed; retrying")
                await asyncio.sleep(1)
            except Exception as exc:
                # A bug must not stop the worker: the batch stays pending and is reclaimed.
                self.failing.failed(exc)
                log.exception("batch failed; left pending")
                await asyncio.sleep(1)

    async def watch(self) -> None:
        """Export this group's lag and age; trim what every group acknowledged."""
        health = await watch(
            self._group.redis, self._group.stream, self._group.group,
            high_water_bytes=self._settings.redis.stream_high_water_bytes,
        )  # fmt: skip
        if health is not None:
            self.behind.saw(health)

    async def _until_ready(self, step: Callable[[], Any]) -> None:
        while not self._stopping:
            try:
                await step()
                return
            except (RedisError, OSError) as exc:
                self.failing.failed(exc)
                log.exception("Redis not ready; retrying")
                await asyncio.sleep(1)

    async def process(self, entries: list[Entry]) -> None:
        """Fan out and acknowledge one batch; on a database error retry the same batch
        (nothing was committed) until it works or the worker stops."""
        if not entries:
            return
        events = _decode(entries)
        subscriptions = _subscriptions(entries)
        self._sizes.saw(len(entries), len(events))
        while True:
            try:
                if subscriptions:
                    async with self._pool.acquire() as conn:
                        metrics.SUBSCRIPTIONS.inc(await push.store(conn, subscriptions))
                result = await fan_out(
                    self._pool,
                    events,
                    scheme=self._settings.edge.public_scheme,
                    mail_configured=self._mail_configured,
                )
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.exception("fan-out failed; retrying the batch")
                if self._stopping:
                    return  # left pending: reclaimed later
                await asyncio.sleep(1)
        await self._group.ack([e.id for e in entries])
        metrics.EVENTS.labels("fanned_out").inc(result.events)
        metrics.EVENTS.labels("ignored").inc(len(events) - result.events)
        if result.deliveries:
            self._on_committed()


def _subscriptions(entries: list[Entry]) -> list[push.Subscription]:
    """The web push subscriptions among the entries (kurz.push), each stored by this
    worker; a malformed one can never succeed, so it is counted and passed over."""
    found: list[push.Subscription] = []
    for entry in entries:
        data = entry.fields.get(SUBSCRIPTION_FIELD)
        if data is None:
            continue
        try:
            found.append(push.decode(data))
        except (msgspec.DecodeError, ValueError):
            metrics.EVENTS.labels("malformed").inc()
            log.warning("malformed subscription entry", extra={"entry": entry.id.decode()})
    return found


def _decode(entries: list[Entry]) -> list[ClickEvent]:
    events: list[ClickEvent] = []
    for entry in entries:
        found = entry_events(entry.fields)
        events += found.events
        if found.invalid:
            # A malformed event can never succeed: acknowledged with the batch, counted.
            metrics.EVENTS.labels("malformed").inc(found.invalid)
            log.warning("malformed stream entry", extra={"entry": entry.id.decode()})
    return events
