"""A query is checked against the constraints its OpenAPI document declares before it is
read, on the text as sent: what the document forbids is refused, never read leniently;
patterns that declare only part of what the server takes decide nothing."""

from __future__ import annotations

import msgspec
import pytest
from kurz.validation import MAX_ID
from kurz_management import constraints as c


class Query(msgspec.Struct):
    when: c.Timestamp | None = None
    id: c.Id | None = None
    text: c.Text | None = None
    host: c.Host | None = None
    day: c.Date | None = None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"when": "0.5"}, "when"),  # msgspec would read a Unix time
        ({"when": "1700000000"}, "when"),
        ({"id": "0"}, "id"),
        ({"id": str(MAX_ID + 1)}, "id"),  # a float would round it back into range
        ({"text": "a\x00b"}, "text"),
        ({"host": "a\x00.example"}, "host"),
    ],
)
def test_what_the_document_forbids_is_named(params: dict[str, str], field: str) -> None:
    breach = c.query_breach(Query, params)
    assert breach is not None and breach[0] == field, breach


@pytest.mark.parametrize(
    "params",
    [
        {"when": "2999-01-01T00:00:00Z"},  # past the declared years: the server decides
        {"id": str(MAX_ID)},
        {"id": "1"},
        {"text": ""},
        {"host": "bücher.example"},  # declared: ASCII names only; taken all the same
        {"day": "2024-02-29"},  # declared: days to the 28th; a leap day is real
        {"unknown": "anything"},
    ],
)
def test_what_it_allows_or_leaves_to_the_server_passes(params: dict[str, str]) -> None:
    assert c.query_breach(Query, params) is None
