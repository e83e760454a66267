"""A value outside an enum is refused with the values the field takes, at any depth."""

from __future__ import annotations

from typing import Literal

import msgspec
import pytest
from kurz_management.native.schema import LinkCreate
from kurz_management.validation_errors import explained
from kurz_management.vivoldi.group_schema import VivoldiGroupCreate
from msgspec import UNSET, UnsetType


class Item(msgspec.Struct):
    kind: Literal["a", "b"] | UnsetType | None = UNSET


class Batch(msgspec.Struct):
    items: list[Item]


def _message(body: bytes, shape: object) -> str:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(body, type=shape)
    return explained(caught.value, shape)


def test_nested_enum_values_are_named() -> None:
    message = _message(b'{"items": [{"kind": "a"}, {"kind": "z"}]}', Batch)
    assert message.endswith("at `$.items[1].kind`; one of: a, b")


def test_the_api_bodies_name_their_values() -> None:
    assert _message(b'{"nm": "g", "notfSubscYn": "X"}', VivoldiGroupCreate).endswith(
        "at `$.notfSubscYn`; one of: N, Y"
    )
    native = _message(b'{"url": "https://a.example", "redirectType": "sideways"}', LinkCreate)
    assert native.endswith("; one of: PAGE_200, PERMANENT_301, PERMANENT_308, TEMPORARY_302, "
                           "TEMPORARY_307")  # fmt: skip


def test_other_errors_are_left_as_they_are() -> None:
    message = _message(b'{"items": 5}', Batch)
    assert message == "Expected `array`, got `int` - at `$.items`"
