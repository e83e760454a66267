"""Postgres being unreachable becomes LinkError("unavailable"), never a crash."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from kurz_management.core.faults import DATABASE_UNAVAILABLE
from kurz_management.core.links.model import LinkError

log = logging.getLogger(__name__)


@contextlib.contextmanager
def database_available() -> Iterator[None]:
    try:
        yield
    except DATABASE_UNAVAILABLE as exc:
        log.warning("database unavailable: %r", exc)
        raise LinkError("unavailable", "the database is unavailable, try again later") from exc
