"""The web console: server-rendered pages for the people who manage links, under
/console, over the same use cases as the APIs."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from kurz_management.console import (
    auth,
    domains,
    groups,
    imports,
    keys,
    links,
    stats,
    tags,
    webhooks,
)

routes = [
    Mount(
        "/console",
        routes=[
            *auth.routes,
            *imports.routes,
            *links.routes,
            *keys.routes,
            *tags.routes,
            *groups.routes,
            *domains.routes,
            *webhooks.routes,
            *stats.routes,
            Mount(
                "/static",
                StaticFiles(directory=Path(__file__).with_name("static")),
                name="console-static",
            ),
        ],
    )
]
