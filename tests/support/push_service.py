"""A push service on 127.0.0.1 in place of FCM or Mozilla's: it takes RFC 8030 deliveries
(POST to a subscription's endpoint), checks the RFC 8292 VAPID token against the
application server key a browser subscribed with, and decrypts the RFC 8291 payload
(aes128gcm) with the private key of the browser it plays. Endpoints under /gone/ answer
410, as a push service does for a subscription the browser dropped."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from kurz.push import new_vapid_keys


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    """The keys a browser makes when it subscribes: its P-256 pair and auth secret."""

    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        point = self.private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def subscription(self, endpoint: str) -> dict[str, Any]:
        return {"endpoint": endpoint, "expirationTime": None,
                "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)}}  # fmt: skip


@dataclass
class Received:
    path: str
    vapid_key: str  # the k= of the Authorization header
    claims: dict[str, Any]
    message: dict[str, Any]  # the decrypted payload
    headers: dict[str, str]


class VapidError(AssertionError):
    pass


def verify_vapid(authorization: str, audience: str) -> tuple[str, dict[str, Any]]:
    """RFC 8292: `vapid t=<JWT>, k=<key>`; the JWT signed ES256 by that key, for this
    push service's origin, expiring within 24 hours, with a contact. (k, claims)."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise VapidError(f"not a vapid Authorization: {authorization!r}")
    values = dict(part.strip().split("=", 1) for part in params.split(","))
    token, key = values["t"], values["k"]
    head, body, signature = token.split(".")
    header = json.loads(unb64url(head))
    if header.get("alg") != "ES256":
        raise VapidError(f"JWT alg {header.get('alg')!r}, not ES256")
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    try:
        public.verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise VapidError("the JWT's signature does not verify with k") from None
    claims = json.loads(unb64url(body))
    if claims.get("aud") != audience:
        raise VapidError(f"aud {claims.get('aud')!r}, not {audience!r}")
    if not time.time() < claims["exp"] <= time.time() + 24 * 3600:
        raise VapidError(f"exp {claims['exp']} not within the next 24 hours")
    if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
        raise VapidError(f"sub {claims.get('sub')!r} is no contact")
    return key, claims


class PushService:
    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}  # endpoint path -> the browser behind it
        self.received: list[Received] = []
        self.refused: list[str] = []  # what failed verification, and why
        self.origin = ""

    def endpoint(self, name: str, browser: Browser, *, gone: bool = False) -> str:
        path = f"/{'gone' if gone else 'push'}/{name}"
        self.browsers[path] = browser
        return self.origin + path

    def take(self, path: str, headers: dict[str, str], body: bytes) -> int:
        browser = self.browsers.get(path)
        if browser is None:
            return 404
        if path.startswith("/gone/"):
            return 410
        try:
            key, claims = verify_vapid(headers.get("authorization", ""), self.origin)
            if headers.get("content-encoding") != "aes128gcm":
                raise VapidError(f"content-encoding {headers.get('content-encoding')!r}")
            if "ttl" not in headers:
                raise VapidError("no TTL header (RFC 8030 requires it)")
            plain = http_ece.decrypt(
                body, private_key=browser.private, auth_secret=browser.auth, version="aes128gcm"
            )
        except Exception as exc:  # any failure is the sender's, reported to the test
            self.refused.append(f"{path}: {exc!r}")
            return 400
        self.received.append(Received(path, key, claims, json.loads(plain), headers))
        return 201


@contextmanager
def push_service() -> Iterator[PushService]:
    service = PushService()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = service.take(self.path, headers, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    service.origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()


# The suite's own VAPID pair: every service a test starts reads it (service_env), so
# push pages subscribe and workers send as a configured install does.
VAPID_PRIVATE, VAPID_PUBLIC = new_vapid_keys()
