"""A QR code as a PNG of exactly the requested side: modules drawn nearest-neighbour, so
each is the requested size divided by the module count, give or take a pixel (readers
sample module centres and do not mind), and the image is neither smaller than asked nor
padded out of shape. One bit a pixel, rows zlib-compressed: a few kilobytes."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _packed_row(dark: Sequence[bool], size: int) -> bytes:
    """One image row of a module row: 1 bit a pixel, 0 dark, 1 light, after the
    filter-type byte PNG puts before each row."""
    modules = len(dark)
    row = bytearray((size + 7) // 8)
    for x in range(size):
        if not dark[x * modules // size]:
            row[x >> 3] |= 0x80 >> (x & 7)
    return b"\x00" + bytes(row)


def exact_png(matrix: Sequence[Sequence[bool]], size: int) -> bytes:
    """`matrix` (rows of dark/light modules, quiet zone included) as a PNG `size` pixels a side."""
    modules = len(matrix)
    rows = [_packed_row(row, size) for row in matrix]
    raw = b"".join(rows[y * modules // size] for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )
