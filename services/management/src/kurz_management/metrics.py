"""API request metrics by route template and status, as a plain ASGI middleware (no
task per request, unlike BaseHTTPMiddleware)."""

from __future__ import annotations

import time
from typing import Any

from kurz.observability import Receive, Scope, Send
from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "kurz_management_requests_total", "API requests answered", ["method", "route", "status"]
)
DURATION = Histogram(
    "kurz_management_request_seconds",
    "Time to answer an API request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
UNMATCHED = "<unmatched>"


class MetricsMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app fails before starting a response

        async def send_with_status(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            # The route template, not the raw path: one series per endpoint, whatever ids
            # ({link_id}, without the path convertor a route may name).
            route = getattr(scope.get("route"), "path_format", UNMATCHED)
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            DURATION.labels(method, route).observe(time.perf_counter() - started)
