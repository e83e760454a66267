"""Vivoldi's paged lists: `result.extra` and `result.list`, 30 rows a page, 1-based."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

import msgspec

from kurz_management.constraints import declared
from kurz_management.vivoldi.envelope import Code, VivoldiError
from kurz_management.vivoldi.fields import YN

T = TypeVar("T")
PAGE_SIZE = 30
MAX_PAGE = 1_000_000
Page = Annotated[int, declared(minimum=1, maximum=MAX_PAGE)]


class VivoldiPageExtra(msgspec.Struct):
    """Fields:
    pages: This page, from 1.
    nextPages: The next page, or this one when it is the last.
    nextYn: Y when there is a next page.
    count: Rows on this page.
    totalCount: Rows in all pages.
    """

    pages: int  # this page, 1-based
    nextPages: int  # the next page, or this one when it is the last
    nextYn: YN
    count: int  # rows on this page
    totalCount: int


class Paged(msgspec.Struct, Generic[T]):
    """Fields:
    extra: Where this page stands.
    list: This page's rows.
    """

    extra: VivoldiPageExtra
    items: list[T] = msgspec.field(name="list")


def offset_of(page: int) -> int:
    if not 1 <= page <= MAX_PAGE:
        raise VivoldiError(Code.INVALID, f"pages must be between 1 and {MAX_PAGE}, got {page}")
    return (page - 1) * PAGE_SIZE


def paged(items: list[T], page: int, total: int) -> Paged[T]:
    more = page * PAGE_SIZE < total
    extra = VivoldiPageExtra(
        page, page + 1 if more else page, "Y" if more else "N", len(items), total
    )
    return Paged(extra, items)
