"""Checking one change against the rules: its own fields (pure), then what the
workspace owns (domains, tags, groups), in a few queries for a whole batch."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
from kurz.models import LinkSpec, LinkType
from kurz.validation import InvalidLink, check_spec, normalize_host, normalize_web_url

from kurz_management.core import webhook_targets
from kurz_management.core.auth import Principal
from kurz_management.core.context import AppContext
from kurz_management.core.links import rows
from kurz_management.core.links.model import ErrorKind, LinkError


@dataclass
class Change:
    """One item of a write: a create (link_id None) or an update, and what became of it."""

    index: int
    link_id: int | None
    spec: LinkSpec
    clears: frozenset[str] = frozenset()
    password_hash: str | None = None
    stored: dict[str, Any] | None = None  # the row before an update
    values: dict[str, Any] = field(default_factory=dict)  # the row after the change
    tag_ids: list[int] | None = None  # None: tags unchanged
    auto_slug: bool = False
    webhook_refusal: str | None = None  # why a webhook URL it sets is refused (SSRF guard)
    error: LinkError | None = None

    @property
    def live(self) -> bool:
        return self.error is None

    def fail(self, kind: ErrorKind, message: str, field_name: str | None = None) -> None:
        self.error = LinkError(kind, message, field=field_name, index=self.index)

    @property
    def address(self) -> tuple[str, str]:
        return self.values["host"], self.values["slug"]

    @property
    def old_address(self) -> tuple[str, str] | None:
        return None if self.stored is None else (self.stored["host"], self.stored["slug"])


def default_host(ctx: AppContext) -> str:
    return normalize_host(ctx.settings.edge.default_domain)


def normalize_address(ctx: AppContext, host: str, slug: str) -> tuple[str, str]:
    try:
        return normalize_host(host), slug.lstrip("/")
    except InvalidLink:
        raise LinkError("not_found", f"no link {host}/{slug} in this workspace") from None


def prepare(ctx: AppContext, change: Change) -> None:
    """Check the change's own fields and compute the row it leads to (pure)."""
    try:
        _prepare(ctx, change)
    except InvalidLink as exc:
        change.fail("invalid", exc.message, exc.field)


def _prepare(ctx: AppContext, change: Change) -> None:
    spec, stored = change.spec, change.stored
    unknown = sorted(change.clears - rows.CLEARABLE.keys())
    if unknown:
        raise InvalidLink(unknown[0], f"{', '.join(unknown)} cannot be cleared")
    both = sorted(f for f in change.clears if getattr(spec, f, None) is not None)
    if both:
        raise InvalidLink(both[0], f"{both[0]} is both set and cleared")
    if stored is None:
        if spec.url is None:
            raise InvalidLink("url", "url is required")
        link_type = spec.link_type or LinkType.URL
        base = rows.DEFAULTS | {"host": default_host(ctx)}
    else:
        link_type = spec.link_type or LinkType(stored["link_type"])
        if spec.link_type is not None and spec.url is None:
            # A new type must suit the destination the link already has.
            spec = msgspec.structs.replace(spec, url=stored["url"])
        base = rows.values_of_row(stored)
    spec = check_spec(spec, link_type=link_type)
    change.values = rows.apply_spec(base, spec, change.password_hash, change.clears)
    change.auto_slug = change.values["slug"] is None
    if "tag_ids" in change.clears:
        change.tag_ids = []
    elif spec.tag_ids is not None:
        change.tag_ids = spec.tag_ids
    starts, expires = change.values["starts_at"], change.values["expires_at"]
    if starts is not None and expires is not None and expires <= starts:
        raise InvalidLink("expires_at", "expiry must come after the start")


async def check_workspace(
    conn: asyncpg.Connection[Any], ctx: AppContext, principal: Principal, changes: list[Change]
) -> None:
    """Domains, tags and groups must be the workspace's own; raw HTML only on its own
    verified custom domain. One query per kind for the whole batch."""
    live = [c for c in changes if c.live]
    for change in live:
        if change.webhook_refusal is not None:
            change.fail("invalid", change.webhook_refusal, "webhook_urls")
    live = [c for c in live if c.live]
    await _check_domains(conn, ctx, principal, [c for c in live if c.live])
    await _check_owned(conn, principal, [c for c in live if c.live], "tags", "tag_ids")
    await _check_owned(conn, principal, [c for c in live if c.live], "link_groups", "group_id")


async def resolve_webhook_targets(ctx: AppContext, changes: list[Change]) -> None:
    """The SSRF guard on the webhook URLs the changes set, all of the batch's at once.
    It resolves host names (seconds, at worst), so it runs before the write takes any
    lock or opens a transaction; a URL that is not even well formed is left to
    `prepare`, which reports it."""
    given = {c.index: _well_formed(c.spec.webhook_urls or []) for c in changes}
    refused = await webhook_targets.refusals(
        (url for urls in given.values() for url in urls), ctx.settings.webhooks
    )
    for change in changes:
        change.webhook_refusal = next(
            (refused[u] for u in given[change.index] if u in refused), None
        )


def _well_formed(urls: list[str]) -> list[str]:
    out = []
    for url in urls:
        with contextlib.suppress(InvalidLink):
            out.append(normalize_web_url(url, "webhook_urls"))
    return out


async def _check_domains(
    conn: asyncpg.Connection[Any], ctx: AppContext, principal: Principal, live: list[Change]
) -> None:
    default = default_host(ctx)
    hosts = sorted({c.values["host"] for c in live})
    found = {
        r["host"]: r
        for r in await conn.fetch(
            # FOR SHARE: a domain being deleted (FOR UPDATE) waits for this write, or the
            # other way round, so a link never lands on a domain that goes away.
            "SELECT host, workspace_id, verified FROM domains WHERE host = ANY($1::text[]) "
            "FOR SHARE",
            hosts,
        )
    }
    for change in live:
        host = change.values["host"]
        domain = found.get(host)
        moved = change.stored is None or change.stored["host"] != host
        if moved and host != default:
            problem = _domain_problem(host, domain, principal)
            if problem is not None:
                change.fail(problem[0], problem[1], "domain")
                continue
        own = (
            domain is not None
            and domain["workspace_id"] == principal.workspace_id
            and domain["verified"]
        )
        if (change.values["head_tags"] or change.values["body_tags"]) and not own:
            name = "head_tags" if change.values["head_tags"] else "body_tags"
            change.fail(
                "invalid",
                "head and body tags run on the short domain's origin: they are accepted only "
                "for links on this workspace's own verified custom domain",
                name,
            )


def _domain_problem(host: str, domain: Any, principal: Principal) -> tuple[ErrorKind, str] | None:
    if domain is None:
        return "invalid", f"domain {host} is not a domain of this workspace"
    if domain["workspace_id"] not in (None, principal.workspace_id):
        return "forbidden", f"domain {host} belongs to another workspace"
    if not domain["verified"]:
        return "invalid", f"domain {host} is not verified yet"
    return None


async def _check_owned(
    conn: asyncpg.Connection[Any],
    principal: Principal,
    live: list[Change],
    table: str,
    field_name: str,
) -> None:
    def wanted(change: Change) -> list[int]:
        if field_name == "tag_ids":
            return change.tag_ids or []
        group = change.values["group_id"]
        unchanged = change.stored is not None and group == change.stored["group_id"]
        return [] if group is None or unchanged else [group]

    ids = sorted({i for c in live for i in wanted(c)})
    if not ids:
        return
    query = f"SELECT id FROM {table} WHERE workspace_id = $1 AND id = ANY($2::bigint[])"
    owned = {r["id"] for r in await conn.fetch(query, principal.workspace_id, ids)}
    for change in live:
        missing = [i for i in wanted(change) if i not in owned]
        if missing:
            kind = "tag" if field_name == "tag_ids" else "group"
            listed = ", ".join(str(i) for i in missing)
            change.fail("invalid", f"no {kind} {listed} in this workspace", field_name)
