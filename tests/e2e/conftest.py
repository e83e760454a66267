from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import Stack, edge_addressed_stack


@pytest.fixture(scope="module")
def stack(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """All four services as real processes; the default short domain is the redirector's
    own address, so short URLs are directly reachable."""
    logs: Path = tmp_path_factory.mktemp("e2e-logs")
    s = edge_addressed_stack(database_url, redis_url, logs, "aggregator", "webhook-worker")
    yield s
    s.stop()
