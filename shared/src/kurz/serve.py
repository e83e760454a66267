"""Run a service's ASGI app under uvicorn (default) or granian, as settings say."""

from __future__ import annotations

import signal
from typing import Any

from kurz.settings import Settings


def serve(
    app_path: str,
    settings: Settings,
    default_port: int,
    *,
    factory: bool = True,
    protocol: str | None = None,
    own_protocol: str | None = None,
) -> None:
    """`app_path` is "module:callable"; with `factory` the callable builds the app.
    `protocol` ("module:Class") replaces kurz's guarded httptools protocol
    (kurz.http_guard) with a subclass of it (the redirector's answers its hot path
    itself); granian ignores it. With KURZ_SERVER=kurz, uvicorn runs the process and
    `own_protocol`, a service's own HTTP/1.1 protocol (the redirector's edge.py), speaks
    HTTP; a service without one gets uvicorn's, as by default."""
    port = settings.server.port or default_port
    if settings.server.server == "kurz" and own_protocol is not None:
        protocol = own_protocol
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
    from uvicorn.importer import import_from_string

    from kurz.logs import log_as, service_of
    from kurz.workers import exit_cleanly, run_workers

    options: dict[str, Any] = dict(
        workers=1,  # kurz.workers runs several; and WEB_CONCURRENCY must not
        host=settings.server.host,
        port=port,
        factory=factory,
        interface="asgi3",  # an app may return its handler's coroutine from a plain call
        loop="uvloop",
        http=import_from_string(protocol or "kurz.http_guard:GuardedProtocol"),
        access_log=settings.access_log,
        log_config=None,  # kurz.logs formats every line, uvicorn's own included
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=int(settings.shutdown_grace),
        lifespan="on",
        server_header=False,
        date_header=False,
        proxy_headers=False,  # kurz.proxies applies them, the same way under either server
    )
    if settings.server.workers > 1:  # a socket per worker: see kurz.workers
        config = uvicorn.Config(app_path, **options)
        log_as(service_of(app_path), settings)  # the supervisor's own lines
        run_workers(config, settings.server.workers)
        return
    log_as(service_of(app_path), settings)
    signal.signal(signal.SIGTERM, exit_cleanly)
    uvicorn.run(app_path, **options)
