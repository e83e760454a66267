"""Run a service's ASGI app under uvicorn (default) or granian, as settings say."""

from __future__ import annotations

import signal
import sys
from types import FrameType

from kurz.settings import Settings


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    sys.exit(0)


def serve(app_path: str, settings: Settings, default_port: int, *, factory: bool = True) -> None:
    """`app_path` is "module:callable"; with `factory` the callable builds the app."""
    port = settings.server.port or default_port
    if settings.server.server == "granian":
        from granian import Granian
        from granian.constants import Interfaces, Loops

        Granian(
            app_path,
            address=settings.server.host,
            port=port,
            interface=Interfaces.ASGI,
            workers=settings.server.workers,
            loop=Loops.uvloop,
            factory=factory,
            log_access=False,
        ).serve()
        return
    import uvicorn

    # uvicorn drains on SIGTERM, then re-raises the signal to the handler it found; making
    # that handler a clean exit gives Kubernetes (and tests) status 0 after a drain.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    uvicorn.run(
        app_path,
        host=settings.server.host,
        port=port,
        workers=settings.server.workers,
        factory=factory,
        interface="asgi3",  # an app may return its handler's coroutine from a plain call
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=int(settings.shutdown_grace),
        lifespan="on",
        server_header=False,
        date_header=False,
        proxy_headers=False,  # kurz.proxies applies them, the same way under either server
    )
