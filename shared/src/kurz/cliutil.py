"""What every `kurz` command shares: one-line failures, reaching Postgres and Redis, and
the checks on what an operator types.

A command fails with `CommandFailed` (exit 1) or `BadInput` (exit 2, nothing changed);
`kurz.cli.main` prints the one line and exits, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import zoneinfo
from collections.abc import AsyncIterator
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as aioredis
from email_validator import EmailNotValidError, validate_email

from kurz import redis_topology
from kurz.countries import COUNTRY_CODES
from kurz.plans import PLAN_CODES

CONNECT_TIMEOUT = 5.0


class CommandFailed(Exception):
    """A command could not do its work; the message is the whole story."""

    exit_status = 1


class BadInput(CommandFailed):
    """What was typed is not acceptable; nothing was changed."""

    exit_status = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (`kurz: ...`) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise BadInput(f"{message} (see {self.prog} --help)")


def address(url: str) -> str:
    """A server's URL without its password, to name it in a message."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def unreachable(what: str, url: str, exc: BaseException) -> CommandFailed:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return CommandFailed(f"cannot reach {what} at {address(url)}: {reason}")


@contextlib.asynccontextmanager
async def postgres(url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    try:
        conn = await asyncpg.connect(url, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise unreachable("Postgres", url, exc) from None
    try:
        yield conn
    finally:
        await conn.close()


async def redis_client(url: str) -> aioredis.Redis:
    """A Redis client that has answered a PING."""
    client = redis_topology.client(url, socket_connect_timeout=CONNECT_TIMEOUT)
    try:
        await client.ping()
    except (OSError, aioredis.RedisError) as exc:
        await client.aclose()
        raise unreachable("Redis", url, exc) from None
    return client


def time_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"unknown time zone {value!r} (an IANA name, e.g. Europe/Berlin)") from None
    return value


def country(value: str) -> str:
    code = value.upper()
    if code not in COUNTRY_CODES:
        raise BadInput(f"unknown country code {value!r} (ISO 3166-1 alpha-2, e.g. DE)")
    return code


def plan(value: str) -> str:
    if value not in PLAN_CODES:
        raise BadInput(f"unknown plan {value!r} (one of: {', '.join(PLAN_CODES)})")
    return value


def email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise BadInput(f"invalid e-mail address {value!r}: {exc}") from None


def positive_id(value: str) -> int:
    if not value.isdecimal() or not 0 < int(value) < 2**63:
        raise BadInput(f"not an id: {value!r} (a positive whole number)")
    return int(value)
