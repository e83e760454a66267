"""Decide what a click fires, as pure functions of the event and the loaded facts.

- Each counted click: one `link.clicked` delivery per URL in the link's webhook_urls, per
  registered link-level webhook and per registered workspace-level webhook.
- A group with its webhook on: one `group.clicks_threshold` delivery each time its click
  count (metric C) or its count of new unique visitors per day (metric P) reaches a
  multiple of webhook_frequency.
- A group with mail_notify / push_notify: a notification when its click count reaches a
  milestone (100, 1,000, 10,000, ...).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kurz.events import ClickEvent
from kurz.webhooks import payloads

from kurz_webhooks.facts import Facts, GroupFacts, LinkHooks, WorkspaceFacts


class PlannedDelivery(NamedTuple):
    workspace_id: int
    url: str
    webhook_id: int | None
    source: str  # link | webhook | group
    link_id: int | None
    group_id: int | None
    event_type: str
    message_id: str
    secret: str
    payload: bytes
    signing: str = "standard"  # standard (Standard Webhooks) | vivoldi (X-Vivoldi-*)


class PlannedNotification(NamedTuple):
    workspace_id: int
    kind: str
    channel: str  # mail | push
    dedupe_key: str
    recipient: str | None
    subject: str
    body: str
    data: dict[str, object]
    status: str  # pending, or skipped when mail cannot be sent
    last_error: str | None


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def visitor_day(event: ClickEvent, time_zone: str) -> date:
    """The visitor's day in the workspace's time zone: unique visitors count per day."""
    return datetime.fromtimestamp(event.at, _zone(time_zone)).date()


def link_deliveries(
    event: ClickEvent, link: LinkHooks, facts: Facts, workspace: WorkspaceFacts, scheme: str
) -> list[PlannedDelivery]:
    out: list[PlannedDelivery] = []
    message_id = payloads.click_event_id(event)
    standard: bytes | None = None
    linkly: bytes | None = None
    for url in link.webhook_urls:
        standard = standard or payloads.link_clicked(event, link.facts, scheme)
        out.append(
            PlannedDelivery(
                event.workspace_id,
                url,
                None,
                "link",
                event.link_id,
                event.group_id,
                payloads.LINK_CLICKED,
                message_id,
                workspace.webhook_secret,
                standard,
            )
        )
    hooks = [
        *facts.link_hooks.get(link.facts.id, ()),
        *facts.workspace_hooks.get(event.workspace_id, ()),
    ]
    planned_urls = set(link.webhook_urls)
    for hook in hooks:
        # The same URL registered twice (a link's and the workspace's, say) gets both
        # deliveries: deliveries are unique per URL and message id, so a repeat takes
        # an id of its own, the same on every redelivery of the event.
        hook_message_id = message_id if hook.url not in planned_urls else f"{message_id}.w{hook.id}"
        planned_urls.add(hook.url)
        if hook.format == "linkly":
            linkly = linkly or payloads.linkly_click(event, link.facts, scheme)
            body = linkly
        else:
            standard = standard or payloads.link_clicked(event, link.facts, scheme)
            body = standard
        out.append(
            PlannedDelivery(
                event.workspace_id,
                hook.url,
                hook.id,
                "webhook",
                event.link_id,
                event.group_id,
                payloads.LINK_CLICKED,
                hook_message_id,
                hook.secret,
                body,
            )
        )
    return out


def _threshold_delivery(
    group: GroupFacts, workspace: WorkspaceFacts, event: ClickEvent, count: int
) -> PlannedDelivery:
    metric: payloads.Metric = "P" if group.webhook_metric == "P" else "C"
    body = payloads.group_threshold(
        group_id=group.id,
        group_name=group.name,
        workspace_id=group.workspace_id,
        metric=metric,
        frequency=group.webhook_frequency,
        count=count,
        event=event,
    )
    return PlannedDelivery(
        group.workspace_id,
        group.webhook_url or "",
        None,
        "group",
        event.link_id,
        group.id,
        payloads.GROUP_THRESHOLD,
        payloads.threshold_event_id(group.id, metric, count),
        group.webhook_secret or workspace.webhook_secret,
        body,
        group.webhook_format,
    )


def _milestone_notifications(
    group: GroupFacts, workspace: WorkspaceFacts, clicks: int, mail_configured: bool
) -> list[PlannedNotification]:
    subject = f"kurz: link group \u201c{group.name}\u201d reached {clicks:,} clicks"
    body = (
        f"The link group \u201c{group.name}\u201d (id {group.id}) has reached {clicks:,} "
        "counted clicks.\n"
    )
    data: dict[str, object] = {"group_id": group.id, "clicks": clicks}
    key = f"group:{group.id}:clicks:{clicks}"
    out: list[PlannedNotification] = []
    if group.mail_notify:
        problem = (
            "the workspace has no owner email"
            if not workspace.owner_email
            else None
            if mail_configured
            else "SMTP is not configured"
        )
        out.append(
            PlannedNotification(
                group.workspace_id,
                payloads.GROUP_THRESHOLD,
                "mail",
                key,
                workspace.owner_email,
                subject,
                body,
                data,
                "skipped" if problem else "pending",
                problem,
            )
        )
    if group.push_notify:
        out.append(
            PlannedNotification(
                group.workspace_id,
                payloads.GROUP_THRESHOLD,
                "push",
                key,
                None,
                f"\u201c{group.name}\u201d reached {clicks:,} clicks",
                f"The link group \u201c{group.name}\u201d has reached {clicks:,} counted clicks.",
                data,
                "pending",
                None,
            )
        )
    return out


def group_effects(
    group: GroupFacts,
    workspace: WorkspaceFacts,
    tallied: list[tuple[ClickEvent, bool]],
    clicks_before: int,
    visitors_before: int,
    mail_configured: bool,
) -> tuple[list[PlannedDelivery], list[PlannedNotification]]:
    """Walk a group's fresh events in stream order; `tallied` pairs each with whether it
    brought a new unique visitor. The totals before the batch place each event exactly."""
    deliveries: list[PlannedDelivery] = []
    notes: list[PlannedNotification] = []
    clicks, visitors = clicks_before, visitors_before
    step = max(1, group.webhook_frequency)
    for event, new_visitor in tallied:
        clicks += 1
        visitors += new_visitor
        if group.fires_webhook:
            if group.webhook_metric == "P":
                if new_visitor and visitors % step == 0:
                    deliveries.append(_threshold_delivery(group, workspace, event, visitors))
            elif clicks % step == 0:
                deliveries.append(_threshold_delivery(group, workspace, event, clicks))
        if clicks in payloads.NOTIFY_THRESHOLDS:
            notes.extend(_milestone_notifications(group, workspace, clicks, mail_configured))
    return deliveries, notes
