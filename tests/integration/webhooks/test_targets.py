"""The worker decodes only the events of links, groups and workspaces with something to
deliver (kurz_webhooks.targets); the rest are acknowledged undecoded. A target added
later applies from the next click on: the sets are checked for every batch."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.events import BATCH_FIELD, ClickEvent, encode_batch, encode_event
from kurz.events import decode_event as real_decode
from kurz.events import entry_events as real_entries
from kurz.settings import WebhookSettings
from kurz.webhooks import payloads, registry
from kurz_webhooks import metrics, selection

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import (
    Link,
    Receiver,
    click,
    make_group,
    make_link,
    xadd,
)

OPEN = WebhookSettings(allow_private_targets=True)


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The ids of the events the worker decodes in full."""
    ids: set[str] = set()

    def decode_event(data: bytes) -> ClickEvent:
        event = real_decode(data)
        ids.add(event.id)
        return event

    def entry_events(fields: Any) -> Any:
        found = real_entries(fields)
        ids.update(e.id for e in found.events)
        return found

    monkeypatch.setattr(selection, "decode_event", decode_event)
    monkeypatch.setattr(selection, "entry_events", entry_events)
    yield ids


async def _pending(redis: aioredis.Redis) -> int:
    info = await redis.xpending(keys.CLICK_STREAM, keys.WEBHOOK_GROUP)
    return int(info["pending"])


async def test_events_without_a_target_are_acknowledged_undecoded(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    burst: Callable[..., Awaitable[tuple[int, int]]],
    decoded: set[str],
) -> None:
    receiver = await receivers()
    plain = await make_link(pool, workspace.id)
    hooked = await make_link(pool, workspace.id, webhook_urls=[receiver.url])
    quiet = [click(plain) for _ in range(3)]
    wanted = click(hooked)
    # As the redirector writes them: several events in one entry.
    batch = [quiet[0], wanted, quiet[1]]
    await redis.xadd(
        keys.CLICK_STREAM, {BATCH_FIELD: encode_batch([encode_event(e) for e in batch])}
    )
    await xadd(redis, [quiet[2]])
    passed_before = metrics.PASSED_OVER._value.get()

    await burst()

    assert wanted.id in decoded
    assert decoded.isdisjoint(e.id for e in quiet)
    assert metrics.PASSED_OVER._value.get() - passed_before >= len(quiet)
    assert await _pending(redis) == 0
    assert receiver.ids() == [payloads.click_event_id(wanted)]
    rows = await pool.fetchval(
        "SELECT count(*) FROM webhook_deliveries WHERE link_id = $1", plain.id
    )
    assert rows == 0


async def _link_urls(pool: asyncpg.Pool[Any], link: Link, url: str) -> None:
    await pool.execute("UPDATE links SET webhook_urls = $2 WHERE id = $1", link.id, [url])


async def _link_webhook(pool: asyncpg.Pool[Any], link: Link, url: str) -> None:
    async with pool.acquire() as conn:
        await registry.register_webhook(
            conn, link.workspace_id, url, link_id=link.id, settings=OPEN
        )


async def _workspace_webhook(pool: asyncpg.Pool[Any], link: Link, url: str) -> None:
    async with pool.acquire() as conn:
        await registry.register_webhook(conn, link.workspace_id, url, settings=OPEN)


async def _group_webhook(pool: asyncpg.Pool[Any], link: Link, url: str) -> None:
    await pool.execute(
        """UPDATE link_groups SET webhook_enabled = true, webhook_url = $2,
               webhook_frequency = 1, webhook_metric = 'C'
           WHERE id = $1""",
        link.group_id,
        url,
    )


@pytest.mark.parametrize(
    "add_target",
    [_link_urls, _link_webhook, _workspace_webhook, _group_webhook],
    ids=["link-urls", "link-webhook", "workspace-webhook", "group-webhook"],
)
async def test_a_target_added_later_applies_to_the_next_click(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    burst: Callable[..., Awaitable[tuple[int, int]]],
    decoded: set[str],
    add_target: Callable[[asyncpg.Pool[Any], Link, str], Awaitable[None]],
) -> None:
    receiver = await receivers()
    group = await make_group(pool, workspace.id)
    link = await make_link(pool, workspace.id, group_id=group)
    before = click(link)
    await xadd(redis, [before])
    await burst()
    assert before.id not in decoded

    await add_target(pool, link, receiver.url)
    after = click(link)
    await xadd(redis, [after])
    await burst()

    assert after.id in decoded
    assert await _pending(redis) == 0
    assert len(receiver.received) == 1
    assert after.id.encode() in receiver.received[0].body
