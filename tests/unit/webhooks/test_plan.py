"""What a click fires, decided as pure functions; the payloads' documented shapes."""

from __future__ import annotations

from typing import Any

import msgspec
from kurz.events import ClickEvent
from kurz.webhooks import payloads
from kurz_webhooks.facts import Facts, GroupFacts, LinkHooks, RegisteredHook, WorkspaceFacts
from kurz_webhooks.plan import group_effects, link_deliveries, visitor_day

WS = WorkspaceFacts(id=1, time_zone="Asia/Seoul", webhook_secret="whsec_d3M=", owner_email="o@x.io")
LINK = payloads.LinkFacts(
    id=5, workspace_id=1, host="s.io", slug="abc", url="https://d.io", title="T", note="n"
)


def event(n: int = 0, visitor: str = "v", at: float = 1_700_000_000.0) -> ClickEvent:
    return ClickEvent(
        id=f"e{n}",
        at=at,
        workspace_id=1,
        link_id=5,
        group_id=9,
        host="s.io",
        slug="abc",
        destination="https://d.io/x",
        rule="country:DE",
        outcome="redirect",
        visitor=visitor,
        country="DE",
        referrer=None,
        user_agent="UA",
    )


def group(**changes: Any) -> GroupFacts:
    base = GroupFacts(
        id=9,
        workspace_id=1,
        name="G",
        webhook_enabled=True,
        webhook_url="https://g.io/h",
        webhook_metric="C",
        webhook_frequency=3,
        webhook_secret=None,
        mail_notify=False,
        push_notify=False,
    )
    return msgspec.structs.replace(base, **changes)


def test_link_deliveries_cover_urls_link_and_workspace_hooks() -> None:
    hooks = Facts(
        links={},
        groups={},
        workspaces={1: WS},
        link_hooks={5: [RegisteredHook(1, 1, 5, "https://a.io", "whsec_YQ==", "standard")]},
        workspace_hooks={1: [RegisteredHook(2, 1, None, "https://b.io", "whsec_Yg==", "linkly")]},
    )
    planned = link_deliveries(event(), LinkHooks(LINK, ("https://u.io",)), hooks, WS, "https")
    assert [(p.url, p.source, p.secret) for p in planned] == [
        ("https://u.io", "link", WS.webhook_secret),
        ("https://a.io", "webhook", "whsec_YQ=="),
        ("https://b.io", "webhook", "whsec_Yg=="),
    ]
    assert {p.message_id for p in planned} == {"evt_e0"}
    standard = msgspec.json.decode(planned[0].payload, type=payloads.LinkClicked)
    assert standard.data.link.short_url == "https://s.io/abc"
    assert standard.data.click.rule == "country:DE"
    linkly = msgspec.json.decode(planned[2].payload, type=payloads.LinklyClickPayload)
    assert (linkly.event, linkly.link.slug, linkly.link.full_url) == (
        "click",
        "/abc",
        "https://s.io/abc",
    )
    assert linkly.timestamp == "2023-11-14T22:13:20.000000Z"  # Linkly's microseconds


def test_metric_c_fires_on_multiples_across_batches() -> None:
    tallied = [(event(i), False) for i in range(5)]
    deliveries, _ = group_effects(
        group(), WS, tallied, clicks_before=4, visitors_before=0, mail_configured=True
    )
    # Totals 5..9: multiples of 3 are 6 and 9.
    counts = [msgspec.json.decode(d.payload)["data"]["count"] for d in deliveries]
    assert counts == [6, 9]
    assert [d.message_id for d in deliveries] == ["evt_g9_C6", "evt_g9_C9"]
    assert all(d.secret == WS.webhook_secret for d in deliveries)  # no group secret: workspace's


def test_metric_p_counts_only_new_visitors() -> None:
    tallied = [(event(0), True), (event(1), False), (event(2), True), (event(3), True)]
    deliveries, _ = group_effects(
        group(webhook_metric="P", webhook_frequency=2, webhook_secret="whsec_Zw=="),
        WS,
        tallied,
        clicks_before=0,
        visitors_before=1,
        mail_configured=True,
    )
    # Visitors 2 (event 0), 3 (event 2), 4 (event 3): thresholds at 2 and 4.
    assert [d.message_id for d in deliveries] == ["evt_g9_P2", "evt_g9_P4"]
    assert deliveries[0].secret == "whsec_Zw=="


def test_milestone_notifications_by_channel() -> None:
    g = group(webhook_enabled=False, mail_notify=True, push_notify=True)
    tallied = [(event(i), False) for i in range(3)]
    deliveries, notes = group_effects(
        g, WS, tallied, clicks_before=98, visitors_before=0, mail_configured=True
    )
    assert deliveries == []
    assert [(n.channel, n.status, n.data["clicks"]) for n in notes] == [
        ("mail", "pending", 100),
        ("push", "pending", 100),
    ]
    _, unconfigured = group_effects(g, WS, tallied, 98, 0, mail_configured=False)
    assert unconfigured[0].status == "skipped" and "SMTP" in (unconfigured[0].last_error or "")


def test_visitor_day_is_the_workspace_day() -> None:
    # 2023-11-14T22:13:20Z is already the 15th in Seoul.
    assert str(visitor_day(event(), "Asia/Seoul")) == "2023-11-15"
    assert str(visitor_day(event(), "UTC")) == "2023-11-14"
    assert str(visitor_day(event(), "Not/AZone")) == "2023-11-14"


def test_docs_show_the_current_json_schemas() -> None:
    from pathlib import Path

    docs = (Path(__file__).parents[3] / "docs" / "webhooks.md").read_text()
    for name in payloads.SCHEMAS:
        assert f"### `{name}`" in docs
        assert payloads.json_schema(name) in docs, f"docs/webhooks.md is stale for {name}"


def test_the_same_url_registered_twice_gets_both_deliveries() -> None:
    """Linkly keys webhooks by URL at two levels: a URL subscribed on the link and on the
    workspace gets a delivery for each; the repeat's id is its own and stable."""
    same = "https://same.io/hook"
    hooks = Facts(
        links={}, groups={}, workspaces={},
        link_hooks={LINK.id: [RegisteredHook(7, 1, LINK.id, same, "whsec_YQ==", "linkly")]},
        workspace_hooks={1: [RegisteredHook(9, 1, None, same, "whsec_Yg==", "linkly")]},
    )  # fmt: skip
    planned = link_deliveries(event(), LinkHooks(LINK, ()), hooks, WS, "https")
    assert [(p.url, p.webhook_id, p.message_id) for p in planned] == [
        (same, 7, "evt_e0"), (same, 9, "evt_e0.w9"),
    ]  # fmt: skip
    again = link_deliveries(event(), LinkHooks(LINK, ()), hooks, WS, "https")
    assert [p.message_id for p in again] == [p.message_id for p in planned]
