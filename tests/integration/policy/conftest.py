"""A Postgres of this package's own: its tests shut it down, or run a management app whose
background tasks must see no other app's rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kurz.dev.servers import Postgres, free_port
from kurz.migrate import apply_migrations


@pytest.fixture(scope="package")
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    pg = Postgres(tmp_path_factory.mktemp("policy-pg"), free_port(), ephemeral=True).start()
    apply_migrations(pg.url)
    yield pg
    pg.stop()
