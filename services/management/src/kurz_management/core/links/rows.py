"""Between LinkSpec, the links table and LinkRecord: column values, defaults, clears."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from kurz.models import LinkSpec, Rule

from kurz_management.core.links.model import LinkRecord, TagRef

# Writable columns of `links` in write order, with the Postgres array type that
# carries them through unnest(). webhook_urls travels newline-joined (unnest would
# flatten a text[][]); URLs never contain a newline, validation refuses controls.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("host", "text"),
    ("slug", "text"),
    ("url", "text"),
    ("link_type", "text"),
    ("redirect_type", "int"),
    ("title", "text"),
    ("description", "text"),
    ("image", "text"),
    ("og_title", "text"),
    ("note", "text"),
    ("cloaked", "bool"),
    ("password_hash", "text"),
    ("starts_at", "timestamptz"),
    ("expires_at", "timestamptz"),
    ("expiry_url", "text"),
    ("delete_at", "timestamptz"),
    ("max_clicks", "int"),
    ("forward_params", "bool"),
    ("block_bots", "bool"),
    ("hide_referrer", "bool"),
    ("utm_source", "text"),
    ("utm_medium", "text"),
    ("utm_campaign", "text"),
    ("utm_term", "text"),
    ("utm_content", "text"),
    ("meta_pixel_id", "text"),
    ("ga4_id", "text"),
    ("gtm_id", "text"),
    ("tiktok_pixel_id", "text"),
    ("head_tags", "text"),
    ("body_tags", "text"),
    ("webhook_urls", "text"),
    ("rules", "jsonb"),
    ("group_id", "bigint"),
    ("enabled", "bool"),
    ("qr_bypass", "bool"),
    ("push_subscribe", "bool"),
    ("public_analytics", "bool"),
)
COLUMN_NAMES = tuple(name for name, _ in COLUMNS)

DEFAULTS: dict[str, Any] = {name: None for name in COLUMN_NAMES} | {
    "link_type": "URL",
    "redirect_type": 302,
    "cloaked": False,
    "forward_params": False,
    "block_bots": False,
    "hide_referrer": False,
    "webhook_urls": [],
    "rules": [],
    "enabled": True,
    "qr_bypass": False,
    "push_subscribe": False,
    "public_analytics": False,
}

# LinkSpec fields stored under another column name (tag_ids live in link_tags).
_COLUMN_OF = {"domain": "host", "password": "password_hash"}
_NOT_STORED_ON_ROW = frozenset({"tag_ids"})

# What `spec_clears` may name, and the value a cleared field takes.
CLEARABLE: dict[str, Any] = {
    name: None
    for name in (
        "title",
        "description",
        "image",
        "og_title",
        "note",
        "password",
        "starts_at",
        "expires_at",
        "expiry_url",
        "delete_at",
        "max_clicks",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "meta_pixel_id",
        "ga4_id",
        "gtm_id",
        "tiktok_pixel_id",
        "head_tags",
        "body_tags",
        "group_id",
    )
} | {"tag_ids": [], "webhook_urls": [], "rules": []}

RECORD_SELECT = """
SELECT l.*,
       ARRAY(SELECT ROW(t.id, t.name, t.color) FROM link_tags lt JOIN tags t ON t.id = lt.tag_id
             WHERE lt.link_id = l.id ORDER BY t.id) AS tags,
       (SELECT k.prefix FROM api_keys k WHERE k.id = l.created_by_key) AS created_by_prefix,
       COALESCE((SELECT t.clicks FROM link_totals t WHERE t.link_id = l.id), 0)::bigint
           AS clicks
FROM links l
"""


def column_of(field: str) -> str:
    return _COLUMN_OF.get(field, field)


def apply_spec(
    values: dict[str, Any], spec: LinkSpec, password_hash: str | None, clears: frozenset[str]
) -> dict[str, Any]:
    """Column values after the spec's given fields and the clears are applied."""
    merged = dict(values)
    for field in clears:
        if field not in _NOT_STORED_ON_ROW:
            merged[column_of(field)] = CLEARABLE[field]
    for field in spec.__struct_fields__:
        value = getattr(spec, field)
        if value is None or field in _NOT_STORED_ON_ROW or field == "slug":
            continue
        if field == "password":
            value = password_hash
        elif field == "link_type":
            value = str(value.value)
        merged[column_of(field)] = value
    if spec.slug is not None:
        merged["slug"] = spec.slug
    return merged


def values_of_row(row: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: row[name] for name in COLUMN_NAMES}
    values["webhook_urls"] = list(values["webhook_urls"] or [])
    values["rules"] = msgspec.convert(values["rules"] or [], list[Rule])
    return values


def unnest_arguments(rows: list[dict[str, Any]]) -> list[list[Any]]:
    """One Python list per column, in COLUMNS order, ready for unnest($n::type[])."""
    columns: list[list[Any]] = []
    for name, _ in COLUMNS:
        if name == "webhook_urls":
            columns.append(["\n".join(r[name]) for r in rows])
        elif name == "rules":
            columns.append([encode_rules(r[name]) for r in rows])
        else:
            columns.append([r[name] for r in rows])
    return columns


def encode_rules(rules: list[Rule]) -> str:
    return msgspec.json.encode(rules).decode()


def short_url(scheme: str, host: str, slug: str) -> str:
    return f"{scheme}://{host}/{slug}"


def record_of_row(row: Mapping[str, Any], scheme: str) -> LinkRecord:
    tags = [TagRef(id=t[0], name=t[1], color=t[2]) for t in row["tags"] or []]
    return LinkRecord(
        id=row["id"],
        workspace_id=row["workspace_id"],
        host=row["host"],
        slug=row["slug"],
        short_url=short_url(scheme, row["host"], row["slug"]),
        url=row["url"],
        link_type=row["link_type"],
        redirect_type=row["redirect_type"],
        title=row["title"],
        description=row["description"],
        image=row["image"],
        og_title=row["og_title"],
        note=row["note"],
        cloaked=row["cloaked"],
        has_password=row["password_hash"] is not None,
        starts_at=row["starts_at"],
        expires_at=row["expires_at"],
        expiry_url=row["expiry_url"],
        delete_at=row["delete_at"],
        max_clicks=row["max_clicks"],
        forward_params=row["forward_params"],
        block_bots=row["block_bots"],
        hide_referrer=row["hide_referrer"],
        utm_source=row["utm_source"],
        utm_medium=row["utm_medium"],
        utm_campaign=row["utm_campaign"],
        utm_term=row["utm_term"],
        utm_content=row["utm_content"],
        meta_pixel_id=row["meta_pixel_id"],
        ga4_id=row["ga4_id"],
        gtm_id=row["gtm_id"],
        tiktok_pixel_id=row["tiktok_pixel_id"],
        head_tags=row["head_tags"],
        body_tags=row["body_tags"],
        webhook_urls=list(row["webhook_urls"] or []),
        rules=msgspec.convert(row["rules"] or [], list[Rule]),
        group_id=row["group_id"],
        enabled=row["enabled"],
        qr_bypass=row["qr_bypass"],
        push_subscribe=row["push_subscribe"],
        public_analytics=row["public_analytics"],
        tag_ids=[t.id for t in tags],
        tags=tags,
        created_by_key=row["created_by_key"],
        created_by_prefix=row["created_by_prefix"],
        clicks=row["clicks"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        deleted_at=row["deleted_at"],
    )
