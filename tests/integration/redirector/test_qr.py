"""QR codes on the short domain: PNG and SVG, decoded; scans marked; bypass."""

from __future__ import annotations

import io
import re
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
import zxingcpp
from kurz.qr import render
from PIL import Image

from tests.conftest import Workspace
from tests.integration.redirector.conftest import HOST, create_link, events_of


def decode_png(data: bytes) -> tuple[tuple[int, int], str]:
    image = Image.open(io.BytesIO(data))
    (found,) = zxingcpp.read_barcodes(image.convert("L"))
    return image.size, found.text


@pytest.mark.parametrize("size", [50, 120, 200, 333, 1000])
async def test_png_encodes_the_short_url_with_the_scan_marker(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
    size: int,
) -> None:
    link = await create_link(pool, redis, workspace.id)
    response = await client.get(f"/{link.slug}/qr?size={size}")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    (width, height), text = decode_png(response.content)
    # Exactly the size asked for (Vivoldi's link/create: a QR `?size=200` is 200 pixels).
    assert width == height == size
    assert text == f"http://{HOST}/{link.slug}?qr=1"
    # Following the code is a visit marked as a scan, with the marker not forwarded.
    scan = await client.get(f"/{link.slug}?qr=1")
    assert scan.headers["location"] == link.url
    (event,) = await events_of(redis, link.id)
    assert event.qr and event.counted


async def test_svg_has_the_requested_size_and_the_same_code(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id)
    response = await client.get(f"/{link.slug}/qr?size=250&format=svg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/svg+xml"
    svg = response.text
    assert re.search(r'width="250(\.0+)?"', svg) and re.search(r'height="250(\.0+)?"', svg)
    expected, _ = render(f"http://{HOST}/{link.slug}?qr=1", 250, "svg")
    assert svg.encode() == expected


async def test_bypass_encodes_the_destination(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id, qr_bypass=True, utm_source="qr")
    _, text = decode_png((await client.get(f"/{link.slug}/qr")).content)
    assert text == link.url + "?utm_source=qr"


async def test_bad_qr_requests(
    client: httpx.AsyncClient,
    pool: asyncpg.Pool[Any],
    redis: aioredis.Redis,
    workspace: Workspace,
) -> None:
    link = await create_link(pool, redis, workspace.id)
    for query in ("size=5", "size=big", "size=5000", "format=gif"):
        response = await client.get(f"/{link.slug}/qr?{query}")
        assert response.status_code == 400 and "text/html" in response.headers["content-type"]
    assert (await client.get("/no-such-link/qr")).status_code == 404
    assert await events_of(redis, link.id) == []
