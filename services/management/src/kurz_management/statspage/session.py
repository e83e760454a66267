"""The signed cookie a correct password earns (kurz.signed): scoped to one group's page,
HttpOnly, SameSite=Strict, and void as soon as the group's statistics password changes
(the password hash is part of what is signed)."""

from __future__ import annotations

from kurz.signed import Signer

COOKIE_TTL = 7 * 24 * 3600
_PURPOSE = "statistics page cookie"


def cookie_name(group_id: int) -> str:
    return f"kurz_stats_{group_id}"


def cookie_path(group_id: int) -> str:
    return f"/stats/g/{group_id}"


def _subject(group_id: int, password_hash: str) -> str:
    return f"{group_id}\n{password_hash}"


def issue(secret: str, group_id: int, password_hash: str, now: float | None = None) -> str:
    return Signer(secret, _PURPOSE).issue(_subject(group_id, password_hash), COOKIE_TTL, now)


def valid(
    secret: str, group_id: int, password_hash: str, value: str | None, now: float | None = None
) -> bool:
    return Signer(secret, _PURPOSE).valid(_subject(group_id, password_hash), value, now)
