"""Stream entries → rows of the batch table: decoding, enrichment and the counting rules.

Counting rules:
- a click counts when the edge let it through (ClickEvent.counted: a redirect or a page,
  not HEAD, not flagged as a bot by the edge) and crawlerdetect does not know its user
  agent as a crawler either;
- with blockOverseasSticsYn=Y on the click's group, a click from a known country other
  than the workspace's home country is kept as a raw click (overseas = true) but counted
  nowhere: not in the group's figures nor in its link's, so that a group's totals always
  equal the sum of its links'. Without a home country, or without a known country for the
  click, nothing is overseas;
- days and hours are local to the workspace's time zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from kurz.events import ClickEvent, entry_events
from kurz.stream import Entry
from kurz.visitor import MAX_PARAM_LENGTH, MAX_PARAMS

from kurz_aggregator.enrich import clean_text, parse_agent, referrer_host
from kurz_aggregator.lookups import Lookups

# Column order of the batch table (see writer.BATCH_TABLE) and of every row below.
COLUMNS: tuple[str, ...] = (
    "event_id", "clicked_at", "workspace_id", "link_id", "group_id", "destination", "rule",
    "outcome", "visitor", "country", "referrer", "user_agent", "device", "os", "browser",
    "bot", "qr", "counted", "referrer_host", "bot_name", "overseas", "isp", "params",
    "day", "hour",
)  # fmt: skip

Row = tuple[Any, ...]


class Decoded(NamedTuple):
    events: list[ClickEvent]  # one per event id (a batch may carry an id twice)
    invalid: int  # entries or batch items that are not click events: acknowledged, skipped
    stale: int  # events older than raw-click retention: acknowledged and skipped


def decode_entries(entries: Iterable[Entry], oldest: float | None = None) -> Decoded:
    """Decode a batch. Events before `oldest` (the start of raw-click retention) are
    skipped: their raw rows, which make a redelivery a no-op, may already be dropped, so
    counting them could count them twice."""
    by_id: dict[str, ClickEvent] = {}
    invalid = stale = 0
    for entry in entries:
        found = entry_events(entry.fields)
        invalid += found.invalid
        for event in found.events:
            if not _storable(event):
                invalid += 1
            elif oldest is not None and event.at < oldest:
                stale += 1
            else:
                by_id.setdefault(event.id, event)
    return Decoded(list(by_id.values()), invalid, stale)


_BIGINT = 2**63
_YEAR_3000 = 32_503_680_000.0


def _storable(event: ClickEvent) -> bool:
    """Values Postgres and the calendar can hold: anything else would fail the whole batch."""
    ids_fit = 0 < event.workspace_id < _BIGINT and 0 < event.link_id < _BIGINT
    group_fits = event.group_id is None or 0 < event.group_id < _BIGINT
    return ids_fit and group_fits and 0 <= event.at < _YEAR_3000 and bool(event.id)


def is_overseas(event: ClickEvent, lookups: Lookups) -> bool:
    if not event.country or not lookups.blocks_overseas(event.group_id):
        return False
    home = lookups.workspace(event.workspace_id).home_country
    return home is not None and event.country.strip().upper() != home


def to_row(event: ClickEvent, lookups: Lookups) -> Row:
    user_agent = clean_text(event.user_agent)
    agent = parse_agent(user_agent)
    bot = event.bot or agent.bot
    overseas = is_overseas(event, lookups)
    counted = event.counted and not agent.bot and not overseas
    clicked_at = datetime.fromtimestamp(event.at, UTC)
    local = clicked_at.astimezone(lookups.workspace(event.workspace_id).tz)
    country = (clean_text(event.country) or "").strip().upper()[:2] or None
    return (
        clean_text(event.id, 64), clicked_at, event.workspace_id, event.link_id,
        event.group_id, clean_text(event.destination) or "", clean_text(event.rule, 200),
        clean_text(event.outcome, 32) or "", clean_text(event.visitor, 128) or "", country,
        clean_text(event.referrer), user_agent, agent.device, agent.os,
        agent.browser, bot, event.qr, counted,
        clean_text(referrer_host(event.referrer), 255), agent.bot_name, overseas,
        lookups.isp.of(clean_text(event.network, 64)), _params(event.params),
        local.date(), local.hour,
    )  # fmt: skip


def _params(params: tuple[str, ...]) -> list[str] | None:
    """The visit's query parameters as stored: cleaned, capped as the edge caps them."""
    kept = [p for p in (clean_text(p, MAX_PARAM_LENGTH) for p in params[:MAX_PARAMS]) if p]
    return kept or None


def utc_days(rows: Iterable[Row]) -> set[date]:
    """The UTC days whose partitions of `clicks` the rows land in."""
    at = COLUMNS.index("clicked_at")
    return {row[at].date() for row in rows}
