"""Build edge records (what the redirector caches) from Postgres rows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from kurz.models import EdgeGroup, EdgeLink, Rule

LINK_COLUMNS = """
    l.id, l.workspace_id, l.host, l.slug, l.url, l.group_id, l.redirect_type, l.link_type,
    l.enabled, l.starts_at, l.expires_at, l.expiry_url, l.password_hash, l.max_clicks,
    l.forward_params, l.block_bots, l.utm_source, l.utm_medium, l.utm_campaign, l.utm_term,
    l.utm_content, l.rules, l.cloaked, l.hide_referrer, l.meta_pixel_id, l.ga4_id, l.gtm_id,
    l.head_tags, l.body_tags, l.og_title, l.title, l.description, l.image, l.qr_bypass,
    l.push_subscribe, l.tiktok_pixel_id
"""

GROUP_COLUMNS = """
    g.id, g.workspace_id, g.starts_at, g.ends_at, g.expire_url, g.password_hash,
    g.max_clicks, g.qr_bypass, g.push_subscribe, g.block_overseas_stats
"""

SELECT_LINK = (
    f"SELECT {LINK_COLUMNS} FROM links l WHERE l.host = $1 AND l.slug = $2 AND l.deleted_at IS NULL"
)
SELECT_GROUP = f"SELECT {GROUP_COLUMNS} FROM link_groups g WHERE g.id = $1"

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def edge_link_from_row(row: Mapping[str, Any]) -> EdgeLink:
    return EdgeLink(
        id=row["id"],
        workspace_id=row["workspace_id"],
        url=row["url"],
        group_id=row["group_id"],
        redirect_type=row["redirect_type"],
        link_type=row["link_type"],
        enabled=row["enabled"],
        starts_at=_ts(row["starts_at"]),
        expires_at=_ts(row["expires_at"]),
        expiry_url=row["expiry_url"],
        password_hash=row["password_hash"],
        max_clicks=row["max_clicks"],
        forward_params=row["forward_params"],
        block_bots=row["block_bots"],
        utm=tuple((f, row[f]) for f in UTM_FIELDS if row[f]),
        rules=tuple(msgspec.convert(row["rules"] or [], list[Rule])),
        cloaked=row["cloaked"],
        hide_referrer=row["hide_referrer"],
        meta_pixel_id=row["meta_pixel_id"],
        ga4_id=row["ga4_id"],
        gtm_id=row["gtm_id"],
        head_tags=row["head_tags"],
        body_tags=row["body_tags"],
        # Only the preview fields make a card: `title` names the link for its owner.
        og_title=row["og_title"],
        og_description=row["description"],
        og_image=row["image"],
        qr_bypass=row["qr_bypass"],
        push_subscribe=row["push_subscribe"],
        host=row["host"],
        slug=row["slug"],
        tiktok_pixel_id=row["tiktok_pixel_id"],
    )


def edge_group_from_row(row: Mapping[str, Any]) -> EdgeGroup:
    return EdgeGroup(
        id=row["id"],
        workspace_id=row["workspace_id"],
        starts_at=_ts(row["starts_at"]),
        ends_at=_ts(row["ends_at"]),
        expire_url=row["expire_url"],
        password_hash=row["password_hash"],
        max_clicks=row["max_clicks"],
        qr_bypass=row["qr_bypass"],
        push_subscribe=row["push_subscribe"],
        block_overseas_stats=row["block_overseas_stats"],
    )
