"""What every service exposes to operators: /healthz, /readyz and /metrics, as plain ASGI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ReadinessCheck = Callable[[], Awaitable[None]]  # raises when a dependency does not answer

OPERATOR_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def serve_operator_path(
    scope: Scope, send: Send, ready: ReadinessCheck, *, draining: Callable[[], bool] = lambda: False
) -> None:
    """Answer one of OPERATOR_PATHS. Readiness fails while the service drains, so a load
    balancer stops sending new work before the process exits."""
    path = scope["path"]
    if path == "/healthz":
        await _respond(send, 200, b'{"status":"ok"}', b"application/json")
    elif path == "/readyz":
        if draining():
            await _respond(send, 503, b'{"status":"draining"}', b"application/json")
            return
        try:
            await ready()
        except Exception as exc:
            body = b'{"status":"unavailable","reason":' + _json_str(repr(exc)).encode() + b"}"
            await _respond(send, 503, body, b"application/json")
            return
        await _respond(send, 200, b'{"status":"ready"}', b"application/json")
    else:
        await _respond(send, 200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST.encode())


def _json_str(text: str) -> str:
    import msgspec

    return msgspec.json.encode(text).decode()
