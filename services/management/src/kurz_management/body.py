"""Reading a request body under a size limit: one rule for every API family, which each
renders a refusal in its own envelope (413)."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

T = TypeVar("T")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
        self.limit = limit


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it passes `limit` bytes, declared or not: a body
    without a length is read in chunks and never buffered past the limit."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise BodyTooLarge(limit)
    return bytes(received)


def decode_json(raw: bytes, shape: type[T]) -> T:
    """The JSON body as `shape`, types strict, except that a number with no fraction
    (`2.0`) is the integer it equals, as JSON Schema reads it (and clients that keep
    every number as a float send it)."""
    try:
        return msgspec.json.decode(raw, type=shape)
    except msgspec.ValidationError:
        whole = _integral(msgspec.json.decode(raw))
        if whole is _UNCHANGED:
            raise
        return msgspec.convert(whole, shape)


_UNCHANGED: Any = object()


def _integral(value: Any) -> Any:
    """`value` with its integral floats made ints, or _UNCHANGED when it has none."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else _UNCHANGED
    if isinstance(value, list):
        items = [_integral(v) for v in value]
        if all(i is _UNCHANGED for i in items):
            return _UNCHANGED
        return [v if i is _UNCHANGED else i for v, i in zip(value, items, strict=True)]
    if isinstance(value, dict):
        changed = {k: _integral(v) for k, v in value.items()}
        if all(v is _UNCHANGED for v in changed.values()):
            return _UNCHANGED
        return {k: value[k] if v is _UNCHANGED else v for k, v in changed.items()}
    return _UNCHANGED
