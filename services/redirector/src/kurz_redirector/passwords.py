"""Password-protected links: the signed cookie that remembers a correct answer, and the
form's POST handler with per-visitor throttling of wrong answers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
from urllib.parse import parse_qs, quote

import redis.asyncio as aioredis
from kurz import keys
from kurz.models import EdgeLink
from kurz.passwords import verify_password
from redis.exceptions import RedisError

COOKIE_LIFETIME = 86_400
_MAX_FORM_BYTES = 4096


def cookie_name(link: EdgeLink) -> str:
    return f"kurz_pw_{link.id}"


class PasswordCookies:
    """HMAC over link id, expiry and the password hash: valid for one link only, and void
    once the password changes."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"kurz-password-cookie:" + secret.encode()).digest()

    def _signature(self, link: EdgeLink, expires: int) -> str:
        message = f"{link.id}:{expires}:{link.password_hash}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def issue(self, link: EdgeLink, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + COOKIE_LIFETIME)
        return f"{expires}.{self._signature(link, expires)}"

    def valid(self, link: EdgeLink, cookie_header: str, now: float) -> bool:
        value = _cookie_value(cookie_header, cookie_name(link))
        if value is None:
            return False
        expires_text, _, signature = value.partition(".")
        if not expires_text.isdecimal() or int(expires_text) < now:
            return False
        return hmac.compare_digest(signature, self._signature(link, int(expires_text)))

    def set_cookie_header(self, link: EdgeLink, path: str, *, secure: bool) -> bytes:
        value = self.issue(link)
        attrs = (
            f"{cookie_name(link)}={value}; Max-Age={COOKIE_LIFETIME}; Path={quote(path)}; "
            "HttpOnly; SameSite=Lax"
        )
        return (attrs + ("; Secure" if secure else "")).encode("latin-1")


def _cookie_value(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return None


class Throttled(Exception):
    pass


class CountUnavailable(Exception):
    """Redis, which counts the attempts, does not answer: no attempt can be checked."""


class PasswordChecker:
    def __init__(self, redis: aioredis.Redis, attempts: int, window: int) -> None:
        self._redis = redis
        self._attempts = attempts
        self._window = window

    async def check(self, link: EdgeLink, visitor: str, password: str) -> bool:
        """Count the attempt first (so concurrent guesses cannot slip past the limit),
        then verify; a correct answer clears the count. Raises Throttled, or
        CountUnavailable while Redis is away."""
        key = keys.password_attempts(link.id, visitor)
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, self._window, nx=True)
            count, _ = await pipe.execute()
        except RedisError as exc:
            # Without the counter there is no throttle: refuse rather than allow guessing.
            raise CountUnavailable from exc
        if count > self._attempts:
            raise Throttled
        assert link.password_hash is not None
        ok = await asyncio.to_thread(verify_password, link.password_hash, password)
        if ok:
            with contextlib.suppress(RedisError):
                await self._redis.delete(key)
        return ok


def form_password(body: bytes) -> str | None:
    """The `password` field of an urlencoded form body, or None when absent or too big."""
    if len(body) > _MAX_FORM_BYTES:
        return None
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    values = fields.get("password")
    return values[0] if values else None
