"""The visitor's address behind a trusted proxy (FORWARDED_ALLOW_IPS), applied by kurz
itself: the same under uvicorn and granian, on the redirect path and the side paths."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from kurz.passwords import hash_password
from kurz.visitor import VisitorIds

from tests.conftest import Workspace
from tests.integration.redirector.conftest import HOST, create_link, events_of, redirector_env
from tests.support.services import Service, one_service

VISITOR_SECRET = "test-visitor-secret"  # redirector_env's
GOOGLE_DNS = "8.8.8.8"  # in geoip2fast's bundled data as US


def visitor_of(address: str, user_agent: str | None, at: float) -> str:
    return VisitorIds(VISITOR_SECRET).visitor_id(address, user_agent or "", at)


@pytest.fixture(scope="module")
def untrusting_redirector(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    """Believes forwarding headers only from 10.9.9.9: the test client is not a proxy."""
    env = redirector_env(database_url, redis_url, FORWARDED_ALLOW_IPS="10.9.9.9")
    yield from one_service("redirector", env, tmp_root / "untrusting-redirector")


@pytest.fixture(scope="module")
def trusting_everyone(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    env = redirector_env(database_url, redis_url, FORWARDED_ALLOW_IPS="*")
    yield from one_service("redirector", env, tmp_root / "trusting-everyone")


@pytest.fixture(scope="module")
def granian_redirector(database_url: str, redis_url: str, tmp_root: Path) -> Iterator[Service]:
    env = redirector_env(database_url, redis_url, KURZ_SERVER="granian")
    yield from one_service("redirector", env, tmp_root / "granian-redirector")


async def _client(service: Service) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=service.url, headers={"Host": HOST}, timeout=30)


@pytest.fixture
async def granian_client(granian_redirector: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with await _client(granian_redirector) as c:
        yield c


async def test_a_trusted_proxy_gives_the_visitor_address(
    client: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace
) -> None:
    """The test client connects from 127.0.0.1, trusted by default, as an ingress would."""
    link = await create_link(pool, redis, workspace.id)
    response = await client.get(f"/{link.slug}", headers={"X-Forwarded-For": GOOGLE_DNS})
    assert response.status_code == 302
    (event,) = await events_of(redis, link.id)
    assert event.country == "US"
    assert event.visitor == visitor_of(GOOGLE_DNS, event.user_agent, event.at)


async def test_a_spoofed_entry_left_of_the_proxy_chain_is_not_believed(
    client: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace
) -> None:
    """The visitor may send any X-Forwarded-For; the address that counts is the right-most
    one not added by a trusted proxy (here the test client, 127.0.0.1, is the only one)."""
    link = await create_link(pool, redis, workspace.id)
    chain = f"1.1.1.1, {GOOGLE_DNS}, 127.0.0.1"
    assert (await client.get(f"/{link.slug}", headers={"X-Forwarded-For": chain})).is_redirect
    (event,) = await events_of(redis, link.id)
    assert event.visitor == visitor_of(GOOGLE_DNS, event.user_agent, event.at)


async def test_an_untrusted_peer_cannot_choose_its_address(
    untrusting_redirector: Service,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id)
    async with await _client(untrusting_redirector) as client:
        response = await client.get(f"/{link.slug}", headers={"X-Forwarded-For": GOOGLE_DNS})
    assert response.status_code == 302
    (event,) = await events_of(redis, link.id)
    assert event.country is None  # 127.0.0.1: not a public address
    assert event.visitor == visitor_of("127.0.0.1", event.user_agent, event.at)


async def test_password_attempts_are_counted_per_forwarded_address(
    client: httpx.AsyncClient, pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace: Workspace
) -> None:
    """Behind the ingress every request comes from the controller: counting by the peer
    would let one guesser lock out every visitor of the link."""
    link = await create_link(pool, redis, workspace.id, password_hash=hash_password("right"))

    async def attempt(address: str, password: str) -> int:
        response = await client.post(
            f"/{link.slug}", data={"password": password}, headers={"X-Forwarded-For": address}
        )
        return response.status_code

    assert [await attempt("198.51.100.7", f"guess{i}") for i in range(4)] == [403, 403, 403, 429]
    assert await attempt("198.51.100.8", "right") == 200  # the page that goes on


async def test_a_rotated_forwarded_address_from_an_untrusted_peer_is_still_throttled(
    untrusting_redirector: Service,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    """A guesser who sends a new X-Forwarded-For with every try is still one visitor: its
    peer is no trusted proxy, so the header is not believed."""
    link = await create_link(pool, redis, workspace.id, password_hash=hash_password("right"))
    async with await _client(untrusting_redirector) as client:
        statuses = [
            (
                await client.post(
                    f"/{link.slug}",
                    data={"password": f"guess{i}"},
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                )
            ).status_code
            for i in range(6)
        ]
        right = await client.post(
            f"/{link.slug}", data={"password": "right"}, headers={"X-Forwarded-For": "203.0.113.99"}
        )
    assert statuses == [403, 403, 403, 429, 429, 429]
    assert right.status_code == 429  # still throttled, even with the right password


async def test_trusting_everyone_believes_one_hop_only(
    trusting_everyone: Service, pool: asyncpg.Pool[Any], redis: aioredis.Redis,
    workspace: Workspace,
) -> None:  # fmt: skip
    """With "*", a proxy's X-Forwarded-For counts, but only the address it saw (the
    right-most entry): what the visitor wrote to its left, rotated on every try, does
    not make it a new visitor."""
    link = await create_link(pool, redis, workspace.id, password_hash=hash_password("right"))
    async with await _client(trusting_everyone) as client:
        statuses = [
            (
                await client.post(
                    f"/{link.slug}",
                    data={"password": f"guess{i}"},
                    headers={"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.7"},
                )
            ).status_code
            for i in range(5)
        ]
    assert statuses == [403, 403, 403, 429, 429]


async def test_granian_serves_the_same_redirects_and_addresses(
    granian_client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id, url="https://example.com/granian")
    response = await granian_client.get(f"/{link.slug}", headers={"X-Forwarded-For": GOOGLE_DNS})
    assert response.status_code == 302
    assert response.headers["location"] == "https://example.com/granian"
    (event,) = await events_of(redis, link.id)
    assert event.outcome == "redirect" and event.country == "US"
    assert event.visitor == visitor_of(GOOGLE_DNS, event.user_agent, event.at)
    head = await granian_client.head(f"/{link.slug}")
    assert head.status_code == 302 and head.content == b""
    assert (await granian_client.get("/no-such-link")).status_code == 404
    assert (await granian_client.get("/readyz")).status_code == 200
