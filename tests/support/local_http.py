"""aiohttp apps served on 127.0.0.1 inside the test's event loop (webhook receivers)."""

from __future__ import annotations

from aiohttp import web
from kurz.dev.servers import free_port


async def serve_locally(app: web.Application) -> tuple[web.AppRunner, int]:
    """`app` listening on a free port of 127.0.0.1: its runner (`cleanup()` stops it)
    and the port."""
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, port
