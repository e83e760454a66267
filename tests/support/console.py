"""Driving the web console as a browser does, with plain HTTP: the sign-in form (its
nonce cookie and CSRF field), forms posted with the token the page carried, and console
users made directly in the database."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import httpx
from kurz import users

from tests.conftest import DEFAULT_DOMAIN

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token a console page put in its forms."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    """Sign in through the form, as a person does; the client keeps the session cookie.
    Returns the answer to the form (303 on success)."""
    form = await client.get("/console/sign-in")
    assert form.status_code == 200, form.text
    data = {"email": email, "password": password, "csrf": csrf_of(form.text), "next": ""}
    return await client.post("/console/sign-in", data=data)


async def post_form(
    client: httpx.AsyncClient, page: str, action: str, data: dict[str, Any] | None = None
) -> httpx.Response:
    """Open `page`, then post `data` to `action` with the CSRF token that page carried."""
    shown = await client.get(page)
    assert shown.status_code == 200, (page, shown.status_code)
    return await client.post(action, data={**(data or {}), "csrf": csrf_of(shown.text)})


async def create_link(client: httpx.AsyncClient, **fields: str) -> int:
    """A link made through the console's form (a plain redirect on the default domain,
    with `fields` on top); its id."""
    data = {"url": "https://example.com/", "redirect_type": "302", "link_type": "URL",
            "domain": DEFAULT_DOMAIN, "enabled": "on", **fields}  # fmt: skip
    made = await post_form(client, "/console/links/new", "/console/links", data)
    assert made.status_code == 303, made.text
    return int(made.headers["location"].split("/")[3].split("?")[0])


async def new_user(
    pool: asyncpg.Pool[Any], workspace_id: int, role: users.Role = "owner"
) -> tuple[str, str]:
    """A console user of the workspace: (e-mail, password)."""
    email, password = f"{uuid.uuid4().hex[:10]}@example.com", uuid.uuid4().hex
    async with pool.acquire() as conn:
        await users.create_user(conn, email, workspace_id, role, password=password)
    return email, password


async def dead_delivery(
    pool: asyncpg.Pool[Any], workspace_id: int, link_id: int, url: str,
    webhook_id: int | None = None,
) -> int:  # fmt: skip
    """A delivery that used up its tries, as the webhook worker leaves one: of a link's
    own webhook URL, or of a registered webhook when `webhook_id` is given."""
    endpoint = await pool.fetchval(
        "INSERT INTO webhook_endpoints (workspace_id, url) VALUES ($1, $2) RETURNING id",
        workspace_id, url,
    )  # fmt: skip
    delivery: int = await pool.fetchval(
        """INSERT INTO webhook_deliveries (workspace_id, endpoint_id, webhook_id, source,
               link_id, event_type, message_id, url, secret, payload, status, attempts,
               finished_at, last_status, last_error)
           VALUES ($1, $2, $3, CASE WHEN $3::bigint IS NULL THEN 'link' ELSE 'webhook' END,
                   $4, 'link.clicked', $5, $6, 'whsec_x', '{}'::bytea, 'dead', 10, now(),
                   500, 'HTTP 500')
           RETURNING id""",
        workspace_id, endpoint, webhook_id, link_id, f"msg_{uuid.uuid4().hex}", url,
    )  # fmt: skip
    return delivery
