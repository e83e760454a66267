"""`kurz user` as real processes: a new console user gets a password shown once that
signs in through the console's form; the same address in another workspace gets the
membership and keeps its password; a new password ends every session; bad input is one
line, status 2, and changes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from tests.conftest import DEFAULT_DOMAIN, Workspace, new_workspace
from tests.integration.test_cli_operator import kurz, one_line
from tests.support.console import post_form, sign_in
from tests.support.inprocess import InProcessApp, management_app


@pytest.fixture(scope="module")
async def app(database_url: str, redis_url: str) -> AsyncIterator[InProcessApp]:
    async with management_app(database_url, redis_url, KURZ_DEFAULT_DOMAIN=DEFAULT_DOMAIN) as a:
        yield a


def _user(database_url: str, *args: str) -> dict[str, Any]:
    done = kurz("user", *args, DATABASE_URL=database_url)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


async def test_a_created_user_signs_in_with_the_printed_password(
    database_url: str, pool: asyncpg.Pool[Any], workspace: Workspace, app: InProcessApp
) -> None:
    email = f"{uuid.uuid4().hex[:8]}@Example.com"
    made = _user(database_url, "create", email, "--workspace", str(workspace.id), "--role", "owner")
    password = made["password"]
    assert made["role"] == "owner" and len(password) >= 16
    client = app.client()
    # The address is matched without regard to case.
    assert (await sign_in(client, email.lower(), password)).status_code == 303
    assert (await client.get("/console/keys")).status_code == 200  # an owner's page

    other = await new_workspace(pool)
    again = _user(database_url, "create", email, "--workspace", str(other.id))
    assert again["password"].startswith("(unchanged")
    listed = kurz("user", "list", "--json", DATABASE_URL=database_url)
    (mine,) = [u for u in json.loads(listed.stdout) if u["email"] == made["email"]]
    assert mine["workspaces"] == f"{workspace.id}:owner {other.id}:member"
    # The member can move the session to the other workspace, as a member there.
    moved = await post_form(client, "/console/links", "/console/workspace",
                            {"workspace_id": str(other.id)})  # fmt: skip
    assert moved.status_code == 303
    assert (await client.get("/console/keys")).status_code == 403

    fresh = _user(database_url, "password", email)["password"]
    assert fresh != password
    ended = await client.get("/console/links")
    assert ended.status_code == 303 and "/console/sign-in" in ended.headers["location"]
    assert (await sign_in(app.client(), email, password)).status_code == 401
    assert (await sign_in(app.client(), email, fresh)).status_code == 303


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["create", "not-an-address", "--workspace", "1"], 2, "invalid e-mail"),
        (["create", "a@example.com", "--workspace", "x"], 2, "not an id"),
        (["create", "a@example.com", "--workspace", "1", "--role", "admin"], 2, "invalid choice"),
        (["create", "a@example.com", "--workspace", "999999999"], 1, "no workspace 999999999"),
        (["password", "nobody-here@example.com"], 1, "no console user"),
    ],
)
async def test_bad_input_is_one_line_and_changes_nothing(
    database_url: str, pool: asyncpg.Pool[Any], args: list[str], status: int, message: str
) -> None:
    before = await pool.fetchval("SELECT count(*) FROM console_users")
    done = kurz("user", *args, DATABASE_URL=database_url)
    assert done.returncode == status and message in one_line(done), done.stderr
    assert await pool.fetchval("SELECT count(*) FROM console_users") == before
