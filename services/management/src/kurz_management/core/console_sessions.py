"""Console sign-in and sessions: who is signed in, in which workspace, in which role.

A session is a random token in an HttpOnly cookie; Postgres keeps its SHA-256, the user
and the workspace in use. Signing in always makes a new token (a token planted before
sign-in is worth nothing after it), signing out deletes it, and a new password ends
every session of the account. Membership is read on every request, so a removed member
loses access at once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from kurz import keys, users
from kurz.password_gate import PasswordGate

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext

SESSION_TTL = 7 * 24 * 3600  # seconds a session lasts from sign-in
SIGN_IN_ATTEMPTS = 5  # wrong passwords per account ...
SIGN_IN_WINDOW = 15 * 60  # ... per this many seconds


@dataclass(frozen=True)
class ConsoleSession:
    user_id: int
    email: str
    role: users.Role
    workspace_name: str
    principal: Principal

    @property
    def owner(self) -> bool:
        return self.role == "owner"


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def csrf_token(secret: str, token: str) -> str:
    """The form token of a session (or of a sign-in form's nonce): an HMAC of it, so a
    page can carry it without carrying the session itself."""
    key = hashlib.sha256(f"kurz console form\n{secret}".encode()).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: str, token: str | None, given: object) -> bool:
    if not token or not isinstance(given, str):
        return False
    return hmac.compare_digest(csrf_token(secret, token), given)


async def sign_in(ctx: AppContext, email: str, password: str) -> str | None:
    """A new session's token for the right password, None for a wrong one or an unknown
    address. Raises kurz.password_gate.Throttled after too many wrong passwords for the
    account, GateUnavailable when Redis cannot count them."""
    async with ctx.pool.acquire() as conn:
        user_id, password_hash = await users.credentials(conn, email)
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    gate = PasswordGate(ctx.redis, SIGN_IN_ATTEMPTS, SIGN_IN_WINDOW)
    if not await gate.check(keys.console_sign_in_attempts(account), password_hash, password):
        return None
    if user_id is None:
        return None
    async with ctx.pool.acquire() as conn:
        workspaces = await users.memberships(conn, user_id)
        if not workspaces:
            return None  # an account with no workspace has nothing to sign in to
        token = secrets.token_urlsafe(32)
        await conn.execute(
            """INSERT INTO console_sessions (token_hash, user_id, workspace_id, expires_at)
               VALUES ($1, $2, $3, now() + make_interval(secs => $4))""",
            _digest(token),
            user_id,
            workspaces[0].workspace_id,
            SESSION_TTL,
        )
        await conn.execute("UPDATE console_users SET signed_in_at = now() WHERE id = $1", user_id)
        # The account's ended sessions go as it signs in again: the table stays small
        # without a sweeper.
        await conn.execute(
            "DELETE FROM console_sessions WHERE user_id = $1 AND expires_at <= now()", user_id
        )
    return token


async def session_of(ctx: AppContext, token: str | None) -> ConsoleSession | None:
    """The live session of a cookie's token, with the user's current role in its
    workspace; None when there is none (unknown, expired, or the membership is gone)."""
    if not token or len(token) > 100:
        return None
    row = await ctx.pool.fetchrow(
        """SELECT s.user_id, u.email, m.role, w.id AS workspace_id, w.name, w.plan,
                  w.time_zone, p.entitlements
           FROM console_sessions s
           JOIN console_users u ON u.id = s.user_id
           JOIN console_memberships m ON m.user_id = s.user_id
                                     AND m.workspace_id = s.workspace_id
           JOIN workspaces w ON w.id = s.workspace_id
           JOIN plans p ON p.code = w.plan
           WHERE s.token_hash = $1 AND s.expires_at > now()""",
        _digest(token),
    )
    if row is None:
        return None
    # Not an API key: key_id 0 records console-made links as made by no key.
    principal = Principal(row["workspace_id"], row["plan"], row["entitlements"],
                          row["time_zone"], 0)  # fmt: skip
    return ConsoleSession(row["user_id"], row["email"], row["role"], row["name"], principal)


async def switch_workspace(ctx: AppContext, token: str, workspace_id: int) -> bool:
    """Move the session to another of the user's workspaces; False when they are not a
    member of it (and the session stays where it was)."""
    status: str = await ctx.pool.execute(
        """UPDATE console_sessions s SET workspace_id = $2
           WHERE s.token_hash = $1 AND EXISTS (
               SELECT 1 FROM console_memberships m
               WHERE m.user_id = s.user_id AND m.workspace_id = $2)""",
        _digest(token),
        workspace_id,
    )
    return status.endswith(" 1")


async def workspaces_of(ctx: AppContext, user_id: int) -> list[users.Membership]:
    async with ctx.pool.acquire() as conn:
        return await users.memberships(conn, user_id)


async def sign_out(ctx: AppContext, token: str | None) -> None:
    if token:
        await ctx.pool.execute("DELETE FROM console_sessions WHERE token_hash = $1", _digest(token))
