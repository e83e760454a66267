"""Postgres being unreachable becomes LinkError("unavailable"), never a crash."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import asyncpg
from asyncpg.exceptions import _base as asyncpg_base

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

# Values only the database refuses: an integer outside bigint (asyncpg refuses it before
# sending; its class is also an InterfaceError, so catch these before UNAVAILABLE_ERRORS)
# or text Postgres cannot store, such as a NUL character. Bad input, never a 500 or 503.
BAD_VALUE_ERRORS: tuple[type[BaseException], ...] = (asyncpg.DataError, asyncpg_base.DataError)
BAD_VALUE_MESSAGE = "a value is out of range or holds a character that cannot be stored (NUL)"


@contextlib.contextmanager
def database_available() -> Iterator[None]:
    try:
        yield
    except UNAVAILABLE_ERRORS as exc:
        log.warning("database unavailable: %r", exc)
        raise LinkError("unavailable", "the database is unavailable, try again later") from exc
