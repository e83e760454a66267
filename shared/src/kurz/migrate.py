"""Schema migrations with yoyo: plain SQL files in kurz/migrations, applied in order, once."""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS = Path(__file__).with_name("migrations")


def _yoyo_dsn(dsn: str) -> str:
    # yoyo names the driver in the scheme; kurz's DSNs are plain postgresql:// ones.
    scheme, _, rest = dsn.partition("://")
    if scheme in ("postgres", "postgresql"):
        return f"postgresql+psycopg://{rest}"
    return dsn


def apply_migrations(dsn: str) -> list[str]:
    """Apply every pending migration; return the ids applied. Safe to run concurrently:
    yoyo holds a lock while it works."""
    backend = get_backend(_yoyo_dsn(dsn))
    migrations = read_migrations(str(MIGRATIONS))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]
