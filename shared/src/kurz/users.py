"""The web console's users and their workspace memberships.

A user is an e-mail and an argon2id password; a membership gives them one workspace as
an owner or a member. The command line creates users (`kurz user create`), the console
signs them in; both go through here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from kurz.passwords import hash_password, verify_password

Role = Literal["owner", "member"]
ROLES: tuple[Role, ...] = ("owner", "member")

# Hashed with the same parameters whether the address exists or not, so the time a
# sign-in takes does not tell which addresses have accounts.
_UNKNOWN_USER_HASH = hash_password(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Membership:
    workspace_id: int
    workspace_name: str
    role: Role


def new_password() -> str:
    """A password to hand over once: 16 URL-safe characters, about 96 bits."""
    return secrets.token_urlsafe(12)


async def create_user(
    conn: asyncpg.Connection[Any],
    email: str,
    workspace_id: int,
    role: Role,
    *,
    password: str | None = None,
) -> tuple[int, str | None]:
    """The user of `email` as `role` of the workspace: a new account with `password`
    (or a fresh one), or the existing account given the membership. Returns the user's
    id and the password when an account was made (None when it already existed)."""
    async with conn.transaction():
        user_id = await conn.fetchval(
            "SELECT id FROM console_users WHERE lower(email) = lower($1)", email
        )
        made = None
        if user_id is None:
            made = password or new_password()
            user_id = await conn.fetchval(
                "INSERT INTO console_users (email, password_hash) VALUES ($1, $2) RETURNING id",
                email,
                hash_password(made),
            )
        await conn.execute(
            """INSERT INTO console_memberships (user_id, workspace_id, role)
               VALUES ($1, $2, $3)
               ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = excluded.role""",
            user_id,
            workspace_id,
            role,
        )
    return int(user_id), made


async def set_password(conn: asyncpg.Connection[Any], email: str, password: str) -> bool:
    """A new password for the account; every session it had ends. False: no such user."""
    async with conn.transaction():
        user_id = await conn.fetchval(
            "UPDATE console_users SET password_hash = $2 WHERE lower(email) = lower($1)"
            " RETURNING id",
            email,
            hash_password(password),
        )
        if user_id is not None:
            await conn.execute("DELETE FROM console_sessions WHERE user_id = $1", user_id)
    return user_id is not None


async def credentials(conn: asyncpg.Connection[Any], email: str) -> tuple[int | None, str]:
    """The account's id and password hash; for an unknown address None and a hash no
    password matches, so checking it costs the same and tells nothing."""
    row = await conn.fetchrow(
        "SELECT id, password_hash FROM console_users WHERE lower(email) = lower($1)", email
    )
    if row is None:
        return None, _UNKNOWN_USER_HASH
    return int(row["id"]), str(row["password_hash"])


async def check_password(conn: asyncpg.Connection[Any], email: str, password: str) -> int | None:
    """The user's id when the password is theirs, else None. Unthrottled: for the
    command line and the dev stack; the console goes through a password gate."""
    user_id, password_hash = await credentials(conn, email)
    if not verify_password(password_hash, password):
        return None
    return user_id


async def memberships(conn: asyncpg.Connection[Any], user_id: int) -> list[Membership]:
    rows = await conn.fetch(
        """SELECT m.workspace_id, w.name, m.role FROM console_memberships m
           JOIN workspaces w ON w.id = m.workspace_id
           WHERE m.user_id = $1 ORDER BY w.name, m.workspace_id""",
        user_id,
    )
    return [Membership(r["workspace_id"], r["name"], r["role"]) for r in rows]


async def list_users(conn: asyncpg.Connection[Any]) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT u.email, u.created_at, u.signed_in_at,
                  coalesce(string_agg(m.workspace_id || ':' || m.role, ' '
                                      ORDER BY m.workspace_id), '') AS workspaces
           FROM console_users u LEFT JOIN console_memberships m ON m.user_id = u.id
           GROUP BY u.id ORDER BY u.id"""
    )
    return [dict(r) for r in rows]
