"""Postgres being unreachable becomes LinkError("unavailable"), never a crash."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import asyncpg

from kurz_management.links.model import LinkError

log = logging.getLogger(__name__)

# What asyncpg and the socket layer raise when the database is down or restarting.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
)


@contextlib.contextmanager
def database_available() -> Iterator[None]:
    try:
        yield
    except UNAVAILABLE_ERRORS as exc:
        log.warning("database unavailable: %r", exc)
        raise LinkError("unavailable", "the database is unavailable, try again later") from exc
