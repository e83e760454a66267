"""Notifications: group click milestones by email (a local aiosmtpd server) and as push
records; an endpoint that keeps failing is disabled and its workspace told."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiosmtpd.controller import Controller
from kurz.dev.servers import free_port
from kurz.webhooks import registry
from kurz_webhooks.app import Worker

from tests.conftest import Workspace
from tests.integration.webhooks.conftest import (
    Received,
    Receiver,
    click,
    make_group,
    make_link,
    wait_until,
    xadd,
)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


async def test_group_milestones_mail_the_owner_and_push_once(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    smtp: tuple[Inbox, int],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    inbox, port = smtp
    await pool.execute(
        "UPDATE workspaces SET owner_email = 'owner@example.com' WHERE id = $1", workspace.id
    )
    group_id = await make_group(
        pool, workspace.id, name="Spring sale", mail_notify=True, push_notify=True
    )
    await pool.execute(
        "INSERT INTO webhook_group_counters (group_id, clicks) VALUES ($1, 98)", group_id
    )
    link = await make_link(pool, workspace.id, group_id=group_id)
    await worker_factory(
        KURZ_SMTP_HOST="127.0.0.1", KURZ_SMTP_PORT=str(port), KURZ_MAIL_FROM="kurz@example.org"
    )
    events = [click(link) for _ in range(4)]
    await xadd(redis, events)
    await xadd(redis, events)  # redelivered: no second email
    await wait_until(lambda: len(inbox.messages) >= 1)
    await asyncio.sleep(1.5)  # one mailer round later, still one message
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert inbox.recipients[0] == ["owner@example.com"]
    assert message["From"] == "kurz@example.org"
    assert "reached 100 clicks" in message["Subject"] and "Spring sale" in message["Subject"]
    rows = await pool.fetch(
        "SELECT channel, status, data FROM notifications WHERE workspace_id = $1 ORDER BY channel",
        workspace.id,
    )
    assert [(r["channel"], r["status"]) for r in rows] == [("mail", "sent")]
    assert rows[0]["data"] == {"group_id": group_id, "clicks": 100}
    # The push side is one push message to the group's owners, however often the
    # events come (its delivery to a browser: tests/browser/test_web_push.py).
    pushed = await pool.fetch(
        "SELECT group_id, source, dedupe_key FROM push_messages WHERE workspace_id = $1",
        workspace.id,
    )
    assert [dict(r) for r in pushed] == [
        {"group_id": group_id, "source": "milestone", "dedupe_key": f"group:{group_id}:clicks:100"}
    ]


async def test_mail_without_owner_address_is_recorded_as_skipped(
    pool: asyncpg.Pool[Any], workspace: Workspace
) -> None:
    from kurz_webhooks.fanout import fan_out

    group_id = await make_group(pool, workspace.id, mail_notify=True)
    await pool.execute(
        "INSERT INTO webhook_group_counters (group_id, clicks) VALUES ($1, 99)", group_id
    )
    link = await make_link(pool, workspace.id, group_id=group_id)
    result = await fan_out(pool, [click(link)], scheme="https", mail_configured=True)
    assert result.notifications == 1
    async with pool.acquire() as conn:
        [note] = await registry.list_notifications(conn, workspace.id)
    assert (note.channel, note.status) == ("mail", "skipped")


async def test_an_endpoint_failing_repeatedly_is_disabled_and_the_workspace_told(
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    receivers: Callable[..., Awaitable[Receiver]],
    smtp: tuple[Inbox, int],
    worker_factory: Callable[..., Awaitable[Worker]],
) -> None:
    inbox, port = smtp
    await pool.execute(
        "UPDATE workspaces SET owner_email = 'ops@example.com' WHERE id = $1", workspace.id
    )
    broken = True

    async def failing(got: Received, n: int) -> web.StreamResponse:
        return web.Response(status=500 if broken else 200)

    receiver = await receivers(failing)
    link = await make_link(pool, workspace.id, webhook_urls=[receiver.url])
    await worker_factory(
        KURZ_WEBHOOK_RETRY_SCHEDULE="0.05",
        KURZ_WEBHOOK_DISABLE_AFTER="2",
        KURZ_SMTP_HOST="127.0.0.1",
        KURZ_SMTP_PORT=str(port),
    )
    await xadd(redis, [click(link)])
    await asyncio.sleep(0.3)
    await xadd(redis, [click(link)])

    async def disabled() -> bool:
        return bool(
            await pool.fetchval(
                "SELECT disabled_at IS NOT NULL FROM webhook_endpoints WHERE workspace_id = $1",
                workspace.id,
            )
        )

    await wait_until(disabled)
    await wait_until(lambda: len(inbox.messages) == 1)
    assert "disabled" in inbox.messages[0]["Subject"]
    assert receiver.url in str(inbox.messages[0])
    async with pool.acquire() as conn:
        dead = await registry.list_deliveries(conn, workspace.id, status="dead")
        assert len(dead) == 2
        # While disabled, clicks create no deliveries and replays are refused.
        before = len(receiver.received)
        await xadd(redis, [click(link)])
        await asyncio.sleep(0.5)
        assert len(receiver.received) == before
        assert len(await registry.list_deliveries(conn, workspace.id)) == 2
        with pytest.raises(registry.EndpointDisabled):
            await registry.replay_delivery(conn, workspace.id, dead[0].id)
        broken = False
        assert await registry.enable_endpoint(conn, workspace.id, receiver.url)
        await registry.replay_delivery(conn, workspace.id, dead[0].id)
    await wait_until(
        lambda: (
            receiver.received[-1].message_id == dead[0].message_id
            and len(receiver.received) == before + 1
        )
    )
