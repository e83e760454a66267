"""Vivoldi wire pieces without a server: key extraction, times, flags, paging, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest
from kurz_management.core.groups.model import GroupError
from kurz_management.core.links.service import LinkError
from kurz_management.vivoldi.endpoint import api_key, from_domain
from kurz_management.vivoldi.envelope import Code, Envelope, VivoldiError
from kurz_management.vivoldi.fields import flag, format_time, parse_time, yn
from kurz_management.vivoldi.paging import PAGE_SIZE, offset_of, paged
from msgspec import UNSET


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("APIKey kurz_abc", "kurz_abc"),
        ("apikey   kurz_abc ", "kurz_abc"),
        ("Bearer kurz_abc", "kurz_abc"),
        ("APIKey", None),
        ("Basic kurz_abc", None),
        ("kurz_abc", None),
        ("", None),
        (None, None),
    ],
)
def test_api_key(header: str | None, key: str | None) -> None:
    assert api_key(header) == key


def test_times_are_in_the_workspace_zone() -> None:
    parsed = parse_time("2026-03-01 00:00:00", "strtYmdt", "Asia/Seoul")
    assert parsed == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
    assert isinstance(parsed, datetime)
    assert format_time(parsed, "Asia/Seoul") == "2026-03-01 00:00:00"
    assert format_time(parsed, "UTC") == "2026-02-28 15:00:00"
    assert parse_time(UNSET, "x", "UTC") is UNSET
    assert parse_time("", "x", "UTC") is None and parse_time(None, "x", "UTC") is None
    assert format_time(None, "UTC") is None


@pytest.mark.parametrize(
    "bad",
    [
        "2026-03-01",
        "2026-02-30 00:00:00",
        "2026-03-01T00:00:00",
        "01/03/2026 00:00:00",
        "2026-03-01 24:00:00",
        "now",
    ],
)
def test_bad_times(bad: str) -> None:
    with pytest.raises(VivoldiError) as caught:
        parse_time(bad, "endYmdt", "UTC")
    assert caught.value.code is Code.INVALID and "endYmdt" in caught.value.message


def test_flags() -> None:
    assert flag("Y") is True and flag("N") is False
    assert flag(None) is UNSET and flag(UNSET) is UNSET
    assert (yn(True), yn(False)) == ("Y", "N")


def test_paging() -> None:
    assert offset_of(1) == 0 and offset_of(3) == 2 * PAGE_SIZE
    for bad in (0, -1, 10**9):
        with pytest.raises(VivoldiError):
            offset_of(bad)
    last = msgspec.to_builtins(paged([1, 2, 3], 1, 3))
    assert last == {
        "extra": {"pages": 1, "nextPages": 1, "nextYn": "N", "count": 3, "totalCount": 3},
        "list": [1, 2, 3],
    }
    more = msgspec.to_builtins(paged(list(range(30)), 2, 61))
    assert more["extra"] == {
        "pages": 2,
        "nextPages": 3,
        "nextYn": "Y",
        "count": 30,
        "totalCount": 61,
    }


def test_domain_errors_become_codes_with_wire_names() -> None:
    invalid = from_domain(GroupError("invalid", "is required", "name"))
    assert (invalid.code, invalid.message) == (Code.INVALID, "nm is required")
    assert from_domain(GroupError("forbidden", "needs Enterprise")).code is Code.PLAN
    assert from_domain(GroupError("not_found", "group 3 not found", "group_id")).message == (
        "group 3 not found"
    )
    assert from_domain(LinkError("conflict", "taken", field="slug")).code is Code.CONFLICT
    assert from_domain(LinkError("unavailable", "later")).code is Code.UNAVAILABLE


def test_envelope_shape() -> None:
    encoded = msgspec.json.encode(Envelope(0, "", {"grpIdx": 1, "webhookSecretKey": None}))
    assert encoded == b'{"code":0,"message":"","result":{"grpIdx":1,"webhookSecretKey":null}}'
