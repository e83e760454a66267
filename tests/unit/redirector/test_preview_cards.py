"""A link-preview crawler gets a card only from the preview fields (Open Graph title,
description, image); the title names the link in its owner's dashboard and makes none."""

from __future__ import annotations

import random
from typing import Any

import pytest
from kurz.decision import Answer, RequestFacts, decide, has_preview
from kurz.edge_records import LINK_COLUMNS, edge_link_from_row

CRAWLER = RequestFacts(user_agent="Slackbot-LinkExpanding 1.0", bot=True, preview=True)


def row(**values: Any) -> dict[str, Any]:
    """A links row as the edge reads it: every column empty but the given ones."""
    names = [c.strip().removeprefix("l.") for c in LINK_COLUMNS.split(",")]
    base: dict[str, Any] = dict.fromkeys(names)
    base.update(
        id=1, workspace_id=1, url="https://example.com/", redirect_type=302, link_type="URL",
        enabled=True, forward_params=False, block_bots=False, cloaked=False,
        hide_referrer=False, qr_bypass=False, push_subscribe=False, host="k.test", slug="s",
    )  # fmt: skip
    base.update(values)
    return base


def test_a_bare_title_is_no_card() -> None:
    link = edge_link_from_row(row(title="Q3 newsletter, footer link"))
    assert not has_preview(link)
    decision = decide(link, CRAWLER, 0.0, random.Random(1))
    assert (decision.answer, decision.destination) == (Answer.REDIRECT, "https://example.com/")


@pytest.mark.parametrize(
    "fields",
    [
        {"og_title": "Spring sale"},
        {"description": "Everything half price"},
        {"image": "https://img.example/sale.png"},
        {"title": "dashboard name", "description": "Everything half price"},
    ],
)
def test_each_preview_field_makes_a_card(fields: dict[str, str]) -> None:
    link = edge_link_from_row(row(**fields))
    assert decide(link, CRAWLER, 0.0, random.Random(1)).answer == Answer.PREVIEW
    assert link.og_title == fields.get("og_title")  # never the dashboard name
