"""One rule reads an id from text everywhere: ASCII digits, a positive bigint."""

from __future__ import annotations

import pytest
from kurz.validation import MAX_ID, is_id, parse_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (str(MAX_ID), MAX_ID),
        ("0042", 42),
        ("0", None),
        (str(MAX_ID + 1), None),
        ("9" * 20, None),
        ("", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1.0", None),
        ("١٢", None),  # Arabic-Indic digits: str.isdecimal() and int() take them
        ("²", None),
    ],
)
def test_parse_id(text: str, expected: int | None) -> None:
    assert parse_id(text) == expected


def test_is_id_bounds() -> None:
    assert is_id(1) and is_id(MAX_ID)
    assert not is_id(0) and not is_id(-5) and not is_id(MAX_ID + 1)
