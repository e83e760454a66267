"""Read click events with the `webhooks` consumer group, fan them out, then acknowledge.

An entry is acknowledged only after its deliveries are committed; one left pending by a
worker that died is reclaimed by the next (fan-out is idempotent on event id)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
import redis.asyncio as aioredis
from kurz import keys, push
from kurz.events import SUBSCRIPTION_FIELD
from kurz.redis_failures import fields
from kurz.settings import Settings
from kurz.stream import ConsumerGroup, Entry, EntrySizes, consumer_name
from kurz.stream_watch import Behind, Failing, watch
from redis.exceptions import RedisClusterException, RedisError, ResponseError

from kurz_webhooks import metrics
from kurz_webhooks.fanout import fan_out
from kurz_webhooks.selection import select
from kurz_webhooks.targets import Targets

log = logging.getLogger(__name__)
BATCH = 500  # click events per fan-out, about
BLOCK_MS = 500
# After a batch smaller than asked for, wait this long before reading again: under steady
# traffic each read then takes what arrived meanwhile, and the costs of a batch (its read,
# its look at the targets' version, its acknowledgement) are shared by many more events.
# A webhook is created at most this much later; nothing else changes.
LINGER = 0.05
WATCH_INTERVAL = 2.0  # seconds between exports of the group's lag (and stream trims)


class Consumer:
    """The `webhooks` group on every shard of the click stream: one loop per shard, each
    with its own reads, reclaims, acknowledgements and health."""

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
        self._sizes = EntrySizes()
        self.targets = Targets()
        self._stopping = False
        limits = settings.redis
        name = consumer_name()
        self._shards = [
            _Shard(
                ConsumerGroup(redis, stream, keys.WEBHOOK_GROUP, name),
                Behind(
                    stream,
                    keys.WEBHOOK_GROUP,
                    limits.stream_behind_seconds,
                    limits.stream_high_water_bytes,
                ),
                Failing(name if len(limits.click_streams) == 1 else f"{name} on {stream}"),
            )
            for stream in limits.click_streams
        ]

    def stop(self) -> None:
        self._stopping = True

    @property
    def stopping(self) -> bool:
        return self._stopping

    def check(self) -> None:
        """For readiness: raises while a shard's group is behind or its batches fail."""
        for shard in self._shards:
            shard.behind.check()
            shard.failing.check()

    async def drain(self) -> int:
        """Burst mode: fan out every entry the group has not handled on any shard (its own
        pending ones first), then return how many entries were handled; a failure raises."""
        handled = 0
        for shard in self._shards:
            group = shard.group
            await group.ensure()
            for take in (group.own_pending, group.read):
                while entries := await take(self._sizes.entries_for(BATCH)):
                    await self.process(group, entries)
                    handled += len(entries)
        return handled

    async def run(self) -> None:
        await asyncio.gather(*(self._run_shard(shard) for shard in self._shards))

    async def _run_shard(self, shard: _Shard) -> None:
        group, failing = shard.group, shard.failing
        await self._until_ready(group.ensure, failing)
        claim_idle_ms = self._settings.webhooks.claim_idle_ms
        claim_every = claim_idle_ms / 3000  # seconds between looks for abandoned entries
        last_claim = last_watch = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() - last_watch >= WATCH_INTERVAL:
                    last_watch = loop.time()
                    await self.watch(shard)
                if loop.time() - last_claim >= claim_every:
                    last_claim = loop.time()
                    count = self._sizes.entries_for(BATCH)
                    await self.process(group, await group.reclaim(claim_idle_ms, count))
                count = self._sizes.entries_for(BATCH)
                entries = await group.read(count, block_ms=BLOCK_MS)
                await self.process(group, entries)
                failing.succeeded()
                if 0 < len(entries) < count and not self._stopping:
                    await asyncio.sleep(LINGER)
            except (RedisError, RedisClusterException, OSError) as exc:
                if self.stopping:
                    break  # Redis going away while the worker stops is no failure
                failing.failed(exc)
                if isinstance(exc, ResponseError) and str(exc).startswith("NOGROUP"):
                    # Redis lost the group (flushed, or restarted empty): make it again.
                    log.warning("consumer group missing; creating it again")
                    await self._until_ready(group.ensure, failing)
                    continue
                log.exception(
                    "stream read failed; retrying", extra={"stream": group.stream, **fields(exc)}
                )
                await asyncio.sleep(1)
            except Exception as exc:
                # A bug must not stop the worker: the batch stays pending and is reclaimed.
                failing.failed(exc)
                log.exception("batch failed; left pending")
                await asyncio.sleep(1)

    async def watch(self, shard: _Shard) -> None:
        """Export this group's lag and age on the shard; trim what every group
        acknowledged there."""
        group = shard.group
        health = await watch(
            group.redis, group.stream, group.group,
            high_water_bytes=self._settings.redis.stream_high_water_bytes,
        )  # fmt: skip
        if health is not None:
            shard.behind.saw(health)

    async def _until_ready(self, step: Callable[[], Any], failing: Failing) -> None:
        while not self._stopping:
            try:
                await step()
                return
            except (RedisError, RedisClusterException, OSError) as exc:
                failing.failed(exc)
                log.exception("Redis not ready; retrying")
                await asyncio.sleep(1)

    async def process(self, group: ConsumerGroup, entries: list[Entry]) -> None:
        """Fan out and acknowledge one batch; on a database error retry the same batch
        (nothing was committed) until it works or the worker stops. Events of links with
        nothing to deliver are acknowledged with the batch without being decoded."""
        if not entries:
            return
        subscriptions = _subscriptions(entries)
        while True:
            try:
                # After the batch was read: a target committed before any of its clicks
                # is in view (kurz_webhooks.targets).
                await self.targets.refresh(self._pool)
                chosen = select(entries, self.targets)
                if subscriptions:
                    async with self._pool.acquire() as conn:
                        metrics.SUBSCRIPTIONS.inc(await push.store(conn, subscriptions))
                result = await fan_out(
                    self._pool,
                    chosen.events,
                    scheme=self._settings.edge.public_scheme,
                    mail_configured=self._mail_configured,
                )
                break
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.exception("fan-out failed; retrying the batch")
                if self._stopping:
                    return  # left pending: reclaimed later
                await asyncio.sleep(1)
        self._sizes.saw(len(entries), len(chosen.events) + chosen.passed_over)
        await group.ack([e.id for e in entries])
        metrics.EVENTS.labels("fanned_out").inc(result.events)
        metrics.EVENTS.labels("ignored").inc(len(chosen.events) - result.events)
        metrics.PASSED_OVER.inc(chosen.passed_over)
        metrics.MALFORMED.inc(chosen.malformed)
        if result.deliveries:
            self._on_committed()


@dataclass(frozen=True)
class _Shard:
    group: ConsumerGroup
    behind: Behind
    failing: Failing


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
            metrics.MALFORMED.inc()
            log.warning("malformed subscription entry", extra={"entry": entry.id.decode()})
    return found
