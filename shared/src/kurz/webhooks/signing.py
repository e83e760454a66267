"""Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret looks like `whsec_<base64 key>`; the signature is
`v1,<base64 HMAC-SHA256 of "id.timestamp.body">` under the decoded key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from functools import lru_cache

SECRET_PREFIX = "whsec_"


def generate_secret() -> str:
    """A fresh signing secret: 24 random bytes, the size Standard Webhooks suggests."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


@lru_cache(maxsize=4096)
def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret. A secret not in `whsec_` form (set through an API that
    lets clients choose their own) signs with its UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except ValueError:
            pass
    return secret.encode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = message_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def vivoldi_headers(
    secret: str, event_id: str, timestamp_ms: int, body: bytes, organization: int
) -> dict[str, str]:
    """Vivoldi's webhook headers for one attempt of a group webhook: a new request id
    each attempt, the event id kept across retries, the body's SHA-256, and
    `X-Vivoldi-Signature: t=<ms>,v1=<hex HMAC-SHA256 of "<t>.<body>">,alg=hmac-sha256`
    keyed by the group's secret (the `webhookSecretKey` Vivoldi's group API answers).
    The timestamp is in milliseconds, as the guide's example is (its text says seconds)."""
    stamp = str(timestamp_ms)
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-Vivoldi-Request-Id": uuid.uuid4().hex,
        "X-Vivoldi-Event-Id": event_id,
        "X-Vivoldi-Webhook-Type": "GROUP",
        "X-Vivoldi-Resource-Type": "URL",
        "X-Vivoldi-Action-Type": "NONE",
        "X-Vivoldi-Comp-Idx": str(organization),
        "X-Vivoldi-Timestamp": stamp,
        "X-Content-SHA256": hashlib.sha256(body).hexdigest(),
        "X-Vivoldi-Signature": f"t={stamp},v1={mac},alg=hmac-sha256",
    }
