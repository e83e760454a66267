"""The Python stack's ceiling: a raw ASGI app answering a fixed 302, no framework.

Every redirect figure in the benchmark is reported as a ratio to this app, run on the
same server with the same worker count in the same run. `python -m bench.baseline_app`
serves it through `kurz.serve`, as the redirector is served: the same server options
(no access log, no proxy-header middleware, no Server or Date header), chosen by the
same settings (KURZ_SERVER, KURZ_WORKERS, KURZ_PORT)."""

from __future__ import annotations

from typing import Any

_START = {
    "type": "http.response.start",
    "status": 302,
    "headers": [(b"location", b"https://example.com/"), (b"content-length", b"0")],
}
_BODY = {"type": "http.response.body", "body": b""}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(_START)
    await send(_BODY)


if __name__ == "__main__":
    from kurz.serve import serve
    from kurz.settings import load_settings

    serve("bench.baseline_app:app", load_settings(), 8080, factory=False)
