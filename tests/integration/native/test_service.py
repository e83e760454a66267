"""The links use cases directly (every API family calls them): concurrency, the edge
cache staying consistent, Redis failures, bulk modes."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
import redis.asyncio as aioredis
from kurz import keys
from kurz.dev.servers import free_port
from kurz.edge_cache import EdgeCache
from kurz.models import LinkSpec, decode_link
from kurz_management.context import AppContext
from kurz_management.core.auth import Principal
from kurz_management.core.links import service, slugs
from kurz_management.core.links.service import NOT_WRITTEN, LinkError, LinkQuery, LinkRecord
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from tests.conftest import DEFAULT_DOMAIN
from tests.support.streams import redis_value


async def test_concurrent_updates_leave_postgres_and_edge_alike(
    ctx: AppContext, principal: Principal, redis: aioredis.Redis, pool: asyncpg.Pool[Any]
) -> None:
    link = await service.create_link(ctx, principal, LinkSpec(url="https://example.com/"))
    await asyncio.gather(
        *(
            service.update_link(ctx, principal, link.id, LinkSpec(description=f"text {i}"))
            for i in range(20)
        )
    )
    row = await pool.fetchrow("SELECT description, version FROM links WHERE id = $1", link.id)
    assert row["version"] == 21
    edge = decode_link(await redis_value(redis, keys.link(link.host, link.slug)))
    assert edge.og_description == row["description"]


async def test_concurrent_creates_of_one_slug_let_exactly_one_through(
    ctx: AppContext, principal: Principal
) -> None:
    slug = f"race-{principal.workspace_id}"
    results = await asyncio.gather(
        *(
            service.create_link(ctx, principal, LinkSpec(url="https://example.com/", slug=slug))
            for _ in range(10)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, LinkRecord) for r in results) == 1
    assert all(r.kind == "conflict" for r in results if isinstance(r, LinkError))


async def test_a_failing_redis_does_not_fail_the_write(
    ctx: AppContext, principal: Principal, pool: asyncpg.Pool[Any]
) -> None:
    dead = aioredis.Redis(port=free_port(), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    broken = AppContext(ctx.settings, pool, dead, EdgeCache(dead))
    try:
        link = await service.create_link(broken, principal, LinkSpec(url="https://example.com/"))
        assert (await service.get_link(ctx, principal, link.id)).url == "https://example.com/"
        await service.delete_link(broken, principal, link.id)
    finally:
        await dead.aclose()
    with pytest.raises(LinkError) as gone:
        await service.get_link(ctx, principal, link.id)
    assert gone.value.kind == "not_found"


async def test_find_link_by_address_normalizes_and_scopes(
    ctx: AppContext, principal: Principal
) -> None:
    slug = f"find-{principal.workspace_id}"
    link = await service.create_link(ctx, principal, LinkSpec(url="https://e.example/", slug=slug))
    found = await service.find_link(ctx, principal, DEFAULT_DOMAIN.upper(), "/" + slug)
    assert found.id == link.id
    stranger = Principal(principal.workspace_id + 10_000, "selfhosted", {}, "UTC", 0)
    with pytest.raises(LinkError) as missing:
        await service.find_link(ctx, stranger, DEFAULT_DOMAIN, slug)
    assert missing.value.kind == "not_found"


async def test_clears_and_their_refusals(ctx: AppContext, principal: Principal) -> None:
    # A public address: the webhook rule wants a target that resolves (here, no DNS).
    hook = "https://93.184.215.14/h"
    link = await service.create_link(
        ctx,
        principal,
        LinkSpec(url="https://e.example/", title="t", password="pw", webhook_urls=[hook]),
    )
    assert link.has_password
    cleared = await service.update_link(
        ctx, principal, link.id, LinkSpec(), spec_clears={"title", "password", "webhook_urls"}
    )
    assert cleared.title is None and not cleared.has_password and cleared.webhook_urls == []
    for clears, spec in (
        ({"url"}, LinkSpec()),
        ({"nonsense"}, LinkSpec()),
        ({"title"}, LinkSpec(title="both")),
    ):
        with pytest.raises(LinkError) as refused:
            await service.update_link(ctx, principal, link.id, spec, spec_clears=clears)
        assert refused.value.kind == "invalid"


async def test_link_type_change_rechecks_the_stored_destination(
    ctx: AppContext, principal: Principal
) -> None:
    from kurz.models import LinkType

    link = await service.create_link(ctx, principal, LinkSpec(url="https://e.example/"))
    with pytest.raises(LinkError) as refused:
        await service.update_link(ctx, principal, link.id, LinkSpec(link_type=LinkType.TEL))
    assert refused.value.field == "url"
    changed = await service.update_link(
        ctx, principal, link.id, LinkSpec(link_type=LinkType.TEL, url="+4930123456")
    )
    assert changed.url == "tel:+4930123456" and changed.link_type == "TEL"


async def test_generated_slug_collisions_are_retried(
    ctx: AppContext, principal: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = f"tkn{principal.workspace_id}"
    await service.create_link(ctx, principal, LinkSpec(url="https://e.example/", slug=taken))
    candidates = iter([taken, taken, f"free{principal.workspace_id}"])
    monkeypatch.setattr(slugs, "generate_slug", lambda: next(candidates))
    link = await service.create_link(ctx, principal, LinkSpec(url="https://e.example/2"))
    assert link.slug == f"free{principal.workspace_id}"


async def test_bulk_modes_and_validate_only(
    ctx: AppContext, principal: Principal, pool: asyncpg.Pool[Any]
) -> None:
    items: list[tuple[int | None, LinkSpec]] = [
        (None, LinkSpec(url="https://e.example/1")),
        (None, LinkSpec(url="mailto:x")),
        (None, LinkSpec(url="https://e.example/3")),
    ]
    for atomic, validate_only in ((True, False), (False, True)):
        results = await service.bulk_upsert(
            ctx, principal, items, atomic=atomic, validate_only=validate_only
        )
        assert [r.message == NOT_WRITTEN for r in results if isinstance(r, LinkError)] == [
            True,
            False,
            True,
        ]
        assert [r.index for r in results if isinstance(r, LinkError)] == [0, 1, 2]
    count = "SELECT count(*) FROM links WHERE workspace_id = $1"
    assert await pool.fetchval(count, principal.workspace_id) == 0
    results = await service.bulk_upsert(ctx, principal, items, atomic=False)
    assert [type(r).__name__ for r in results] == ["LinkRecord", "LinkError", "LinkRecord"]
    assert await pool.fetchval(count, principal.workspace_id) == 2

    first = results[0]
    assert isinstance(first, LinkRecord)
    twice = await service.bulk_upsert(
        ctx,
        principal,
        [(first.id, LinkSpec(title="a")), (first.id, LinkSpec(title="b"))],
        atomic=False,
    )
    assert isinstance(twice[0], LinkRecord) and isinstance(twice[1], LinkError)
    with pytest.raises(LinkError) as too_many:
        await service.bulk_upsert(ctx, principal, items * ctx.settings.api.bulk_max, atomic=True)
    assert too_many.value.kind == "invalid"


async def test_iter_links_streams_every_live_link_in_batches(
    ctx: AppContext, principal: Principal
) -> None:
    made = await service.bulk_upsert(
        ctx,
        principal,
        [(None, LinkSpec(url=f"https://e.example/{i}")) for i in range(7)],
        atomic=True,
    )
    ids = [r.id for r in made if isinstance(r, LinkRecord)]
    await service.delete_link(ctx, principal, ids[3])
    batches = [b async for b in service.iter_links(ctx, principal, batch=3)]
    assert [len(b) for b in batches] == [3, 3]
    assert [r.id for b in batches for r in b] == ids[:3] + ids[4:]
    records, total = await service.list_links(ctx, principal, LinkQuery.page(2, 4))
    assert total == 6 and len(records) == 2
