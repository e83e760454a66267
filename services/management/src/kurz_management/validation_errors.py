"""A decoding error said so a caller can fix it: a value outside an enum names the values
the field takes, in every family's message (msgspec says only which value is wrong)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
from msgspec import inspect

_ENUM_ERROR = re.compile(r"^Invalid enum value .* - at `\$(?P<path>[^`]*)`$")
_STEP = re.compile(r"\.(\w+)|\[\d+\]")
_COLLECTIONS = (inspect.ListType, inspect.SetType, inspect.FrozenSetType, inspect.VarTupleType)


def explained(exc: msgspec.ValidationError, shape: Any) -> str:
    """The error's message; for a value outside an enum, with the values allowed."""
    message = str(exc)
    found = _ENUM_ERROR.match(message)
    if found is None:
        return message
    allowed = _allowed(inspect.type_info(shape), found["path"])
    return f"{message}; one of: {', '.join(allowed)}" if allowed else message


def _allowed(info: inspect.Type, path: str) -> list[str]:
    for step in _STEP.finditer(path):
        info = _unwrapped(info)
        if step.group(1) is not None:
            if not isinstance(info, inspect.StructType):
                return []
            fields = {f.encode_name: f.type for f in info.fields}
            if step.group(1) not in fields:
                return []
            info = fields[step.group(1)]
        elif isinstance(info, _COLLECTIONS):
            info = info.item_type
        else:
            return []
    return _values(_unwrapped(info))


def _unwrapped(info: inspect.Type) -> inspect.Type:
    """The one type of a union with None (an optional field; UNSET leaves no trace)."""
    if isinstance(info, inspect.UnionType):
        kept = [t for t in info.types if not isinstance(t, inspect.NoneType)]
        if len(kept) == 1:
            return kept[0]
    return info


def _values(info: inspect.Type) -> list[str]:
    if isinstance(info, inspect.LiteralType):
        return [str(v) for v in info.values]
    if isinstance(info, inspect.EnumType):
        return [str(member.value) for member in info.cls]
    if isinstance(info, inspect.UnionType):
        return [v for t in info.types for v in _values(t)]
    return []
