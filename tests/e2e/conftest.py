from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kurz.dev.servers import free_port

from tests.support.services import Stack, service_env


@pytest.fixture(scope="module")
def stack(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """All four services as real processes; the default short domain is the redirector's
    own address, so short URLs are directly reachable."""
    redirector_port = free_port()
    env = service_env(database_url, redis_url, KURZ_DEFAULT_DOMAIN=f"127.0.0.1:{redirector_port}")
    logs: Path = tmp_path_factory.mktemp("e2e-logs")
    s = Stack(env, logs)
    s.add("management").start()
    redirector = s.add("redirector")
    redirector.port = redirector_port
    redirector.start()
    s.add("aggregator").start()
    s.add("webhook-worker").start()
    yield s
    s.stop()
