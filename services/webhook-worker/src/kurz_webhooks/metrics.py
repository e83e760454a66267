"""Prometheus metrics of the webhook worker."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "kurz_webhook_deliveries", "Delivery attempts by result: success, retry, dead", ["result"]
)
SUCCEEDED = DELIVERIES.labels("success")  # bound once: it is the hot path
DELAY = Histogram(
    "kurz_webhook_delivery_delay_seconds",
    "From a delivery's creation to its successful send",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300, 3600, 86400),
)
EVENTS = Counter(
    "kurz_webhook_events",
    "Click events read from the stream: fanned_out, ignored, passed_over (no target: not"
    " decoded), malformed",
    ["result"],
)
PASSED_OVER = EVENTS.labels("passed_over")
MALFORMED = EVENTS.labels("malformed")
IN_FLIGHT = Gauge("kurz_webhook_in_flight", "Deliveries being sent right now")
ENDPOINTS_DISABLED = Counter("kurz_webhook_endpoints_disabled", "Endpoints disabled after failures")
NOTIFICATIONS = Counter("kurz_notifications", "Notification emails by result", ["result"])
PUSH = Counter(
    "kurz_push_deliveries", "Web push attempts by result: sent, retrying, failed, gone", ["result"]
)
SUBSCRIPTIONS = Counter("kurz_push_subscriptions_stored", "Web push subscriptions stored")
