"""An ASGI app that answers with its process id, served by kurz.serve like any service:
tests of several workers see which worker took each connection. With
PID_APP_REFUSE_STARTUP set, its startup fails."""

from __future__ import annotations

import os
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if os.environ.get("PID_APP_REFUSE_STARTUP"):
                    await send({"type": "lifespan.startup.failed", "message": "refused"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = str(os.getpid()).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    from kurz.serve import serve
    from kurz.settings import load_settings

    serve("tests.support.pid_app:app", load_settings(), 8080, factory=False)
