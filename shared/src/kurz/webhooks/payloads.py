"""What a webhook says: one msgspec Struct per event type, and Linkly's click shape.

Pure: builds bytes from data already loaded. docs/webhooks.md documents every field.
The event id is derived from what caused the event, so a redelivered click event or a
retried delivery always carries the same id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

import msgspec

from kurz.events import ClickEvent

LINK_CLICKED = "link.clicked"
GROUP_THRESHOLD = "group.clicks_threshold"
Format = Literal["standard", "linkly"]
FORMATS: frozenset[str] = frozenset({"standard", "linkly"})
Metric = Literal["C", "P"]


def iso_time(at: float, timespec: str = "milliseconds") -> str:
    """ISO-8601 in UTC, e.g. 2026-11-22T01:02:03.456Z; `timespec` as datetime.isoformat."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


class LinkFacts(msgspec.Struct, frozen=True):
    """The link as the worker loaded it from Postgres."""

    id: int
    workspace_id: int
    host: str
    slug: str
    url: str
    title: str | None = None
    note: str | None = None
    enabled: bool = True
    # What Linkly's click payload shows of its link, besides the above.
    cloaked: bool = False
    forward_params: bool = False
    block_bots: bool = False
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    og_title: str | None = None
    description: str | None = None
    rules: tuple[dict[str, Any], ...] = ()
    public_analytics: bool = False  # its statistics are public on /stats/l/{id}


class LinkRef(msgspec.Struct, frozen=True):
    id: int
    short_url: str
    host: str
    slug: str
    url: str  # the link's own destination
    title: str | None


class Click(msgspec.Struct, frozen=True):
    at: str
    destination: str  # where this visitor was sent (a rule may differ from the link's url)
    rule: str | None
    outcome: str
    visitor: str  # keyed hash, rotated daily: never an IP address
    country: str | None
    referrer: str | None
    user_agent: str | None
    qr: bool


class LinkClickedData(msgspec.Struct, frozen=True):
    workspace_id: int
    group_id: int | None
    link: LinkRef
    click: Click


class GroupRef(msgspec.Struct, frozen=True):
    id: int
    name: str


class GroupThresholdData(msgspec.Struct, frozen=True):
    workspace_id: int
    group: GroupRef
    metric: Metric  # C: clicks, P: unique visitors
    frequency: int  # fires every `frequency` clicks (C) or new unique visitors (P)
    count: int  # the total that reached the threshold, a multiple of `frequency`
    link_id: int  # the link whose click crossed it
    click_id: str  # that click's event id


class LinkClicked(msgspec.Struct, frozen=True):
    id: str
    type: Literal["link.clicked"]
    timestamp: str
    data: LinkClickedData


class GroupThreshold(msgspec.Struct, frozen=True):
    id: str
    type: Literal["group.clicks_threshold"]
    timestamp: str
    data: GroupThresholdData


class LinklyLink(msgspec.Struct, frozen=True):
    """The link as Linkly's click webhook shows it (its `/support/webhooks` page)."""

    id: int
    url: str
    name: str | None
    note: str | None
    enabled: bool
    domain: str
    slug: str  # Linkly's slugs start with "/"
    full_url: str
    workspace_id: int
    destination: str
    cloaking: bool
    forward_params: bool
    block_bots: bool
    public_analytics: bool
    utm_source: str | None
    utm_medium: str | None
    utm_campaign: str | None
    og_title: str | None
    og_description: str | None
    rules: tuple[dict[str, Any], ...]


class LinklyClick(msgspec.Struct, frozen=True):
    id: str
    destination: str
    country: str | None
    referer: str | None  # Linkly's spelling
    user_agent: str | None
    visitor: str
    qr: bool


class LinklyClickPayload(msgspec.Struct, frozen=True):
    event: Literal["click"]
    id: str
    timestamp: str
    link: LinklyLink
    click: LinklyClick


_encoder = msgspec.json.Encoder()


def click_event_id(event: ClickEvent) -> str:
    return f"evt_{event.id}"


def threshold_event_id(group_id: int, metric: str, count: int) -> str:
    return f"evt_g{group_id}_{metric}{count}"


def short_url(scheme: str, host: str, slug: str) -> str:
    return f"{scheme}://{host}/{slug}"


def link_clicked(event: ClickEvent, link: LinkFacts, scheme: str) -> bytes:
    payload = LinkClicked(
        id=click_event_id(event),
        type="link.clicked",
        timestamp=iso_time(event.at),
        data=LinkClickedData(
            workspace_id=event.workspace_id,
            group_id=event.group_id,
            link=LinkRef(
                link.id,
                short_url(scheme, link.host, link.slug),
                link.host,
                link.slug,
                link.url,
                link.title,
            ),
            click=Click(
                iso_time(event.at),
                event.destination,
                event.rule,
                event.outcome,
                event.visitor,
                event.country,
                event.referrer,
                event.user_agent,
                event.qr,
            ),
        ),
    )
    return _encoder.encode(payload)


def linkly_click(event: ClickEvent, link: LinkFacts, scheme: str) -> bytes:
    payload = LinklyClickPayload(
        event="click",
        id=click_event_id(event),
        # Linkly's precision: its clients tell clicks apart by it (Pipedream's
        # new-link-clicked dedupes on `<link id>-<timestamp>`).
        timestamp=iso_time(event.at, "microseconds"),
        link=LinklyLink(
            link.id,
            link.url,
            link.title,
            link.note,
            link.enabled,
            link.host,
            "/" + link.slug,
            short_url(scheme, link.host, link.slug),
            link.workspace_id,
            link.url,
            link.cloaked,
            link.forward_params,
            link.block_bots,
            link.public_analytics,
            link.utm_source,
            link.utm_medium,
            link.utm_campaign,
            link.og_title,
            link.description,
            link.rules,
        ),
        click=LinklyClick(
            event.id,
            event.destination,
            event.country,
            event.referrer,
            event.user_agent,
            event.visitor,
            event.qr,
        ),
    )
    return _encoder.encode(payload)


def group_threshold(
    *,
    group_id: int,
    group_name: str,
    workspace_id: int,
    metric: Metric,
    frequency: int,
    count: int,
    event: ClickEvent,
) -> bytes:
    payload = GroupThreshold(
        id=threshold_event_id(group_id, metric, count),
        type="group.clicks_threshold",
        timestamp=iso_time(event.at),
        data=GroupThresholdData(
            workspace_id,
            GroupRef(group_id, group_name),
            metric,
            frequency,
            count,
            event.link_id,
            event.id,
        ),
    )
    return _encoder.encode(payload)


NOTIFY_THRESHOLDS: tuple[int, ...] = tuple(10**k for k in range(2, 10))  # 100 .. 1,000,000,000


SCHEMAS: dict[str, type[msgspec.Struct]] = {
    LINK_CLICKED: LinkClicked,
    GROUP_THRESHOLD: GroupThreshold,
    "click (Linkly format)": LinklyClickPayload,
}


def json_schema(event: str) -> str:
    """The JSON Schema of an event's body, as docs/webhooks.md shows it."""
    schema = msgspec.json.encode(msgspec.json.schema(SCHEMAS[event]))
    return msgspec.json.format(schema, indent=2).decode()
