"""End to end: a group update changes how every link of the group redirects, over HTTP
against a running redirector, within one second; deleting the group restores the links'
own behaviour."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import DEFAULT_DOMAIN, plan_workspace
from tests.integration.vivoldi.conftest import client_for
from tests.integration.vivoldi.test_groups import create as create_group
from tests.integration.vivoldi.test_groups import ok
from tests.support.inprocess import InProcessApp
from tests.support.services import Service, one_service, service_env

EXPIRED = "https://example.com/event-expired"


@pytest.fixture(scope="module")
def edge(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    env = service_env(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN)
    yield from one_service("redirector", env, tmp_root / "vivoldi-e2e")


async def visit(edge: Service, short_url: str) -> httpx.Response:
    slug = short_url.rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=edge.url, headers={"Host": DEFAULT_DOMAIN}) as client:
        return await client.get(f"/{slug}", follow_redirects=False)


async def all_within(
    edge: Service, shorts: list[str], check: Callable[[httpx.Response], bool], seconds: float = 1.0
) -> list[httpx.Response]:
    """Every link answers as `check` wants within `seconds` of now."""
    deadline = time.monotonic() + seconds
    while True:
        answers = [await visit(edge, s) for s in shorts]
        if all(check(a) for a in answers) or time.monotonic() > deadline:
            return answers
        await asyncio.sleep(0.02)


def goes_to(url: str) -> Callable[[httpx.Response], bool]:
    return lambda r: r.status_code in (301, 302) and r.headers.get("location") == url


async def test_group_update_reaches_every_link(
    management: InProcessApp, edge: Service, pool: asyncpg.Pool[Any]
) -> None:
    ws = await plan_workspace(pool, "selfhosted")
    async with client_for(management, ws) as api:
        grp_idx = await create_group(api, nm="campaign")
        own = [f"https://example.com/own/{i}" for i in range(3)]
        grouped = [
            ok(await api.post("/api/link/v2/create", json={"url": u, "grpIdx": grp_idx}))
            for u in own
        ]
        loose = ok(await api.post("/api/link/v2/create", json={"url": "https://example.com/x"}))
        for short, url in zip(grouped, own, strict=True):
            assert goes_to(url)(await visit(edge, short))

        # End date in the past, with an expiry URL: every link of the group goes there.
        ok(
            await api.put(
                "/api/link-group/v1/update",
                json={"grpIdx": grp_idx, "endYmdt": "2020-01-01 00:00:00", "expireUrl": EXPIRED},
            )
        )
        answers = await all_within(edge, grouped, goes_to(EXPIRED))
        assert all(goes_to(EXPIRED)(a) for a in answers), [a.status_code for a in answers]
        assert goes_to("https://example.com/x")(await visit(edge, loose))

        # A password instead: every link asks for it (a form, not a redirect).
        ok(
            await api.put(
                "/api/link-group/v1/update",
                json={"grpIdx": grp_idx, "endYmdt": "", "pwd": "s3cret"},
            )
        )
        answers = await all_within(
            edge, grouped, lambda r: r.status_code == 200 and "location" not in r.headers
        )
        assert all(a.status_code == 200 and "password" in a.text.lower() for a in answers)

        # A click limit of 1: each link lets one visitor through, then the expiry URL.
        ok(
            await api.put(
                "/api/link-group/v1/update", json={"grpIdx": grp_idx, "pwd": "", "acesMaxCnt": 1}
            )
        )
        await all_within(edge, grouped[:1], goes_to(own[0]))
        for short, url in zip(grouped, own, strict=True):
            first, second = await visit(edge, short), await visit(edge, short)
            if not goes_to(EXPIRED)(first):  # the first may have been used by the poll above
                assert goes_to(url)(first)
            assert goes_to(EXPIRED)(second)

        # Deleting the group: the links' own settings apply again.
        ok(await api.delete("/api/link-group/v1/delete", params={"grpIdx": grp_idx}))
        for short, url in zip(grouped, own, strict=True):
            answers = await all_within(edge, [short], goes_to(url))
            assert goes_to(url)(answers[0]), answers[0].status_code
