"""Webhook SSRF: a target that resolves to a loopback, private, link-local or metadata
address is refused at registration and again at delivery (DNS answers are swapped in
through the guard's resolver hook, so no outside DNS is needed), and a redirect is never
followed, least of all to an internal address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import pytest
from aiohttp import web
from kurz.dev.servers import free_port
from kurz.settings import WebhookSettings
from kurz.webhooks.registry import register_webhook
from kurz.webhooks.ssrf import Resolver, UnsafeTarget
from kurz_webhooks.transport import Attempt, attempt, create_session

from tests.conftest import Workspace

INTERNAL = ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.10.10", "169.254.169.254",
            "100.100.100.200", "::1", "fd00::5", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0",
            "100.64.0.1"]  # fmt: skip
STRICT = WebhookSettings(allow_private_targets=False, timeout=5)
OPEN = WebhookSettings(allow_private_targets=True, timeout=5)


def resolving_to(*addresses: str) -> Resolver:
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


@pytest.mark.parametrize("address", INTERNAL)
async def test_registration_refuses_names_resolving_inside(
    pool: asyncpg.Pool[Any], workspace: Workspace, address: str
) -> None:
    async with pool.acquire() as conn:
        with pytest.raises(UnsafeTarget, match="public"):
            await register_webhook(
                conn, workspace.id, "https://hooks.customer.example/in", settings=STRICT,
                resolver=resolving_to("93.184.215.14", address),
            )  # fmt: skip
    assert not await pool.fetchval("SELECT count(*) FROM webhooks WHERE workspace_id = $1",
                                   workspace.id)  # fmt: skip


LITERAL_TARGETS = ["http://127.0.0.1:9/hook", "http://[::1]/hook", "http://169.254.169.254/",
                   "http://10.0.0.1/x", "http://localhost:8080/hook", "http://0x7f000001/hook",
                   "http://2130706433/hook", "http://localhost./hook",
                   "http://does-not-resolve.invalid/hook"]  # fmt: skip


@pytest.mark.parametrize("target", LITERAL_TARGETS)
async def test_link_and_group_webhook_urls_refuse_internal_targets(
    http: httpx.AsyncClient, pool: asyncpg.Pool[Any], workspace: Workspace, target: str
) -> None:
    """Webhook URLs given on a link (native `webhookUrls`) or a group (Vivoldi
    `webhookCallbackUrl`) are registrations too: refused with each family's error."""
    body = {"url": "https://example.com/", "webhookUrls": [target]}
    native = await http.post("/api/v1/links", headers=workspace.bearer, json=body)
    assert native.status_code == 422 and "webhook" in native.json()["error"], native.text
    vivoldi = await http.post(
        "/api/link-group/v1/create", headers={"Authorization": f"APIKey {workspace.key}"},
        json={"nm": "hooked", "webhookEnableYn": "Y", "webhookCallbackUrl": target},
    )  # fmt: skip
    assert vivoldi.status_code == 200 and vivoldi.json()["code"] == 400, vivoldi.text
    assert "webhook" in vivoldi.json()["message"].lower()
    written = await pool.fetchval(
        """SELECT (SELECT count(*) FROM links WHERE workspace_id = $1)
                + (SELECT count(*) FROM link_groups WHERE workspace_id = $1)""",
        workspace.id,
    )
    assert written == 0


@dataclass
class Receiver:
    """A local HTTP endpoint that records what reaches it."""

    port: int
    answer: web.Response
    hits: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
async def receivers() -> AsyncIterator[list[Receiver]]:
    started: list[tuple[Receiver, web.AppRunner]] = []

    async def start(answer: web.Response) -> Receiver:
        receiver = Receiver(free_port(), answer)

        async def handle(request: web.Request) -> web.Response:
            receiver.hits.append(request.path)
            return receiver.answer

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", receiver.port).start()
        started.append((receiver, runner))
        return receiver

    internal = await start(web.Response(text="internal secrets"))
    redirecting = await start(web.Response(status=302, headers={"Location": internal.url}))
    yield [internal, redirecting]
    for _, runner in started:
        await runner.cleanup()


async def deliver(url: str, settings: WebhookSettings, resolver: Resolver | None) -> Attempt:
    async with create_session(settings, resolver) as session:
        return await attempt(
            session, url=url, message_id="msg_security", secret="whsec_" + "a" * 32,
            payload=b'{"event":"click"}', settings=settings,
        )  # fmt: skip


async def test_delivery_refuses_a_name_that_now_resolves_inside(
    receivers: list[Receiver],
) -> None:
    """Registered while it resolved to a public address; at delivery it points at the
    receiver on loopback (DNS rebinding): refused before connecting."""
    internal, _ = receivers
    url = f"http://hooks.customer.example:{internal.port}/hook"
    result = await deliver(url, STRICT, resolving_to("127.0.0.1"))
    assert not result.ok and result.error and result.error.startswith("refused"), result
    literal = await deliver(internal.url, STRICT, None)
    assert not literal.ok and literal.error and literal.error.startswith("refused"), literal
    assert internal.hits == []


async def test_redirects_are_never_followed(receivers: list[Receiver]) -> None:
    """Even where private targets are allowed (to reach the local receiver at all), a 302
    is a failed attempt, not a hop to the address it names."""
    internal, redirecting = receivers
    result = await deliver(redirecting.url, OPEN, None)
    assert not result.ok and result.status == 302, result
    assert redirecting.hits == ["/hook"] and internal.hits == []
