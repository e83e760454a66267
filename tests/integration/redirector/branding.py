"""Workspace branding written the way the management service writes it: Postgres first,
then the edge's record with its invalidation."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from kurz.branding import WORKSPACE_COLUMNS, EdgeWorkspace, edge_workspace_from_row
from kurz.edge_cache import EdgeCache

from tests.support.rows import insert_row


async def brand(
    pool: asyncpg.Pool[Any], redis: aioredis.Redis, workspace_id: int, **settings: str | None
) -> EdgeWorkspace:
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(settings, start=2))
    row = await pool.fetchrow(
        f"UPDATE workspaces w SET {assignments} WHERE w.id = $1 RETURNING {WORKSPACE_COLUMNS}",
        workspace_id, *settings.values(),
    )  # fmt: skip
    workspace = edge_workspace_from_row(row)
    await EdgeCache(redis).put_workspace(workspace)
    return workspace


async def custom_domain(pool: asyncpg.Pool[Any], workspace_id: int, *, port: int = 0) -> str:
    """A verified custom domain of the workspace (with `port` in the host, as a browser
    sends it to a server on that port)."""
    host = f"go-{uuid.uuid4().hex[:8]}.brand.test" + (f":{port}" if port else "")
    await insert_row(pool, "domains", {"workspace_id": workspace_id, "host": host,
                                       "verified": True})  # fmt: skip
    return host


def assert_strict_csp(page: httpx.Response) -> None:
    """Every inline style and script of the page is allowed by its hash, and nothing
    inline is allowed otherwise."""
    csp = page.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for kind in ("style", "script"):
        for text in re.findall(rf"<{kind}>(.*?)</{kind}>", page.text, re.S):
            digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp, (kind, text[:80])
