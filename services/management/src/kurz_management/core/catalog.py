"""Tags and custom domains of a workspace: the small use cases links depend on.

A custom domain is verified by a DNS TXT record `_kurz-verify.<host>` holding the
domain's token. `KURZ_DOMAIN_VERIFICATION=trust` skips the lookup and verifies every
domain when it is added (local development and tests, where no DNS can be set up).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import asyncpg
import dns.asyncresolver
import dns.exception
import msgspec
from kurz.branding import ACCENT
from kurz.validation import InvalidLink, is_id, normalize_host
from msgspec import UNSET, UnsetType

from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links.guard import database_available
from kurz_management.core.links.service import LinkError

VERIFY_LABEL = "_kurz-verify"
TAG_NAME_MAX = 100
DNS_TIMEOUT = 3.0


class TagRecord(msgspec.Struct):
    id: int
    name: str
    color: str | None = None


class DomainRecord(msgspec.Struct):
    id: int
    host: str
    verified: bool
    verify_token: str | None
    created_at: datetime

    @property
    def verify_record(self) -> str:
        return f"{VERIFY_LABEL}.{self.host}"


async def list_tags(ctx: AppContext, principal: Principal) -> list[TagRecord]:
    with database_available():
        rows = await ctx.pool.fetch(
            "SELECT id, name, color FROM tags WHERE workspace_id = $1 ORDER BY name",
            principal.workspace_id,
        )
    return [TagRecord(r["id"], r["name"], r["color"]) for r in rows]


async def tag_link_counts(ctx: AppContext, principal: Principal) -> dict[int, int]:
    """How many live links carry each of the workspace's tags (a tag on none is absent)."""
    with database_available():
        rows = await ctx.pool.fetch(
            """SELECT lt.tag_id, count(*) AS links FROM link_tags lt
               JOIN tags t ON t.id = lt.tag_id JOIN links l ON l.id = lt.link_id
               WHERE t.workspace_id = $1 AND l.deleted_at IS NULL GROUP BY lt.tag_id""",
            principal.workspace_id,
        )
    return {r["tag_id"]: r["links"] for r in rows}


async def create_tag(
    ctx: AppContext, principal: Principal, name: str, color: str | None = None
) -> TagRecord:
    name, color = _tag_name(name), _tag_color(color)
    with database_available():
        try:
            tag_id = await ctx.pool.fetchval(
                "INSERT INTO tags (workspace_id, name, color) VALUES ($1, $2, $3) RETURNING id",
                principal.workspace_id,
                name,
                color,
            )
        except asyncpg.UniqueViolationError:
            raise LinkError("conflict", f"a tag named {name!r} exists", field="name") from None
    return TagRecord(tag_id, name, color)


async def change_tag(
    ctx: AppContext,
    principal: Principal,
    tag_id: int,
    *,
    name: str | None = None,
    color: str | UnsetType | None = UNSET,
) -> TagRecord:
    """Renames and recolours a tag (its links keep it); None for `name`, UNSET for
    `color` leave them; a None colour removes it."""
    new_name = None if name is None else _tag_name(name)
    keep_color = color is UNSET
    new_color = None if isinstance(color, UnsetType) else _tag_color(color)
    with database_available():
        try:
            row = await ctx.pool.fetchrow(
                """UPDATE tags SET name = COALESCE($3, name),
                                   color = CASE WHEN $4 THEN color ELSE $5 END
                   WHERE id = $1 AND workspace_id = $2 RETURNING name, color""",
                tag_id,
                principal.workspace_id,
                new_name,
                keep_color,
                new_color,
            )
        except asyncpg.UniqueViolationError:
            raise LinkError("conflict", f"a tag named {name!r} exists", field="name") from None
    if row is None:
        raise LinkError("not_found", f"no tag {tag_id} in this workspace")
    return TagRecord(tag_id, row["name"], row["color"])


async def delete_tag(ctx: AppContext, principal: Principal, tag_id: int) -> None:
    """The tag goes, and with it from every link that had it (links keep the rest)."""
    with database_available():
        status = await ctx.pool.execute(
            "DELETE FROM tags WHERE id = $1 AND workspace_id = $2", tag_id, principal.workspace_id
        )
    if status == "DELETE 0":
        raise LinkError("not_found", f"no tag {tag_id} in this workspace")


class PixelRecord(msgspec.Struct):
    kind: str  # META, GOOGLE_ANALYTICS, GOOGLE_TAG_MANAGER, TIKTOK
    pixel_id: str
    links: int


# Each link column that names a tracking pixel, and the kind of pixel it names.
PIXEL_COLUMNS = {
    "META": "meta_pixel_id",
    "GOOGLE_ANALYTICS": "ga4_id",
    "GOOGLE_TAG_MANAGER": "gtm_id",
    "TIKTOK": "tiktok_pixel_id",
}


async def list_pixels(ctx: AppContext, principal: Principal) -> list[PixelRecord]:
    """The tracking pixels the workspace's live links fire, with how many links each."""
    kinds = ", ".join(f"('{kind}', l.{column})" for kind, column in PIXEL_COLUMNS.items())
    with database_available():
        rows = await ctx.pool.fetch(
            f"""SELECT p.kind, p.pixel_id, count(*) AS links
                FROM links l, LATERAL (VALUES {kinds}) AS p (kind, pixel_id)
                WHERE l.workspace_id = $1 AND l.deleted_at IS NULL AND p.pixel_id IS NOT NULL
                GROUP BY p.kind, p.pixel_id ORDER BY p.kind, p.pixel_id""",
            principal.workspace_id,
        )
    return [PixelRecord(r["kind"], r["pixel_id"], r["links"]) for r in rows]


def _tag_color(color: str | None) -> str | None:
    if color is not None and not ACCENT.fullmatch(color):
        raise LinkError("invalid", "tag color must be #rrggbb", field="color")
    return None if color is None else color.lower()


def _tag_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > TAG_NAME_MAX or "\x00" in name:
        raise LinkError("invalid", f"tag name must be 1 to {TAG_NAME_MAX} characters", field="name")
    return name


_DOMAIN_COLUMNS = "id, host, verified, verify_token, created_at"


def _domain(row: Any) -> DomainRecord:
    return DomainRecord(
        row["id"], row["host"], row["verified"], row["verify_token"], row["created_at"]
    )


async def list_domains(ctx: AppContext, principal: Principal) -> list[DomainRecord]:
    with database_available():
        rows = await ctx.pool.fetch(
            f"SELECT {_DOMAIN_COLUMNS} FROM domains WHERE workspace_id = $1 ORDER BY host",
            principal.workspace_id,
        )
    return [_domain(r) for r in rows]


async def add_domain(ctx: AppContext, principal: Principal, host: str) -> DomainRecord:
    try:
        host = normalize_host(host, "host")
    except InvalidLink as exc:
        raise LinkError("invalid", exc.message, field="host") from None
    if host == normalize_host(ctx.settings.edge.default_domain):
        raise LinkError("conflict", f"{host} is the default short domain", field="host")
    trusted = ctx.settings.api.domain_verification == "trust"
    with database_available():
        row = await ctx.pool.fetchrow(
            f"""INSERT INTO domains (workspace_id, host, verified, verify_token)
                VALUES ($1, $2, $3, $4) ON CONFLICT (host) DO NOTHING
                RETURNING {_DOMAIN_COLUMNS}""",
            principal.workspace_id,
            host,
            trusted,
            secrets.token_urlsafe(24),
        )
    if row is None:
        raise LinkError("conflict", f"domain {host} is already registered", field="host")
    return _domain(row)


async def domain_hosts(
    ctx: AppContext, principal: Principal, domain_ids: list[int]
) -> dict[int, str]:
    """The hosts of the workspace's domains by id; an id that is not the workspace's
    (or no domain's) is not found."""
    with database_available():
        rows = await ctx.pool.fetch(
            "SELECT id, host FROM domains WHERE id = ANY($1::bigint[]) AND workspace_id = $2",
            [i for i in domain_ids if is_id(i)],
            principal.workspace_id,
        )
    found = {r["id"]: r["host"] for r in rows}
    missing = sorted(set(domain_ids) - set(found))
    if missing:
        raise LinkError("not_found", f"no domain {missing[0]} in this workspace", field="domain")
    return found


async def delete_domain(ctx: AppContext, principal: Principal, domain_id: int) -> DomainRecord:
    """Remove a custom domain that no live link uses (409 otherwise: its links would stop
    answering). The row is locked first, so a link cannot take the domain meanwhile."""
    with database_available():
        async with ctx.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                f"""SELECT {_DOMAIN_COLUMNS} FROM domains WHERE id = $1 AND workspace_id = $2
                    FOR UPDATE""",
                domain_id,
                principal.workspace_id,
            )
            if row is None:
                raise LinkError("not_found", f"no domain {domain_id} in this workspace")
            used = await conn.fetchval(
                "SELECT count(*) FROM links WHERE host = $1 AND deleted_at IS NULL", row["host"]
            )
            if used:
                raise LinkError(
                    "conflict",
                    f"domain {row['host']} still has {used} link(s): delete or move them first",
                )
            await conn.execute("DELETE FROM domains WHERE id = $1", domain_id)
    return _domain(row)


async def verify_domain(ctx: AppContext, principal: Principal, domain_id: int) -> DomainRecord:
    with database_available():
        row = await ctx.pool.fetchrow(
            f"SELECT {_DOMAIN_COLUMNS} FROM domains WHERE id = $1 AND workspace_id = $2",
            domain_id,
            principal.workspace_id,
        )
    if row is None:
        raise LinkError("not_found", f"no domain {domain_id} in this workspace")
    domain = _domain(row)
    if domain.verified:
        return domain
    if ctx.settings.api.domain_verification != "trust" and not await _dns_proves(domain):
        raise LinkError(
            "invalid",
            f"no TXT record {domain.verify_record} holding {domain.verify_token!r} was found",
        )
    with database_available():
        await ctx.pool.execute("UPDATE domains SET verified = true WHERE id = $1", domain_id)
    return msgspec.structs.replace(domain, verified=True)


async def _dns_proves(domain: DomainRecord) -> bool:
    try:
        answer = await dns.asyncresolver.resolve(domain.verify_record, "TXT", lifetime=DNS_TIMEOUT)
    except (dns.exception.DNSException, OSError):
        return False
    texts = {b"".join(r.strings).decode(errors="replace") for r in answer}
    return domain.verify_token in texts
