"""Who may call the API, and how often: one policy for every family.

A request without a valid key is counted against its client address before the key is
looked up, so a flood of missing or wrong keys is refused with 429 and never costs a
database query once the address is over its limit. A valid key counts against the key
(every family shares the key's budget). Each family reads the key its own way and
renders the refusal in its own envelope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.requests import Request

from kurz_management.context import AppContext
from kurz_management.core import ratelimit
from kurz_management.core.auth import Principal, authenticate
from kurz_management.core.ratelimit import RateLimit

Refusal = Literal["missing_key", "invalid_key", "rate_limited"]


class AccessRefused(Exception):
    def __init__(self, reason: Refusal, limit: RateLimit | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit

    @property
    def status(self) -> int:
        return 429 if self.reason == "rate_limited" else 401

    def headers(self) -> dict[str, str]:
        return self.limit.headers() if self.limit else {}

    def rate_message(self) -> str:
        per_second = f"{self.limit.limit} requests" if self.limit else "requests"
        return f"rate limit exceeded: {per_second} per second; retry after Retry-After seconds"


@dataclass(frozen=True)
class Access:
    principal: Principal
    limit: RateLimit | None  # None: the limiter did not answer (the request went on)

    def headers(self) -> dict[str, str]:
        return self.limit.headers() if self.limit else {}


def client_address(request: Request) -> str:
    """The caller's address, as the trusted proxies' headers give it: what counts the
    requests that carry no valid key."""
    return request.client.host if request.client else "unknown"


async def admit(ctx: AppContext, key: str | None, client: str) -> Access:
    """The key's principal, counted against its rate limit; AccessRefused otherwise."""
    budget = ctx.settings.api.rate_limit
    anonymous = f"ip:{client}"
    if key:
        standing = await ratelimit.peek(ctx.redis, anonymous, budget)
        if standing is not None and standing.remaining <= 0:
            raise AccessRefused("rate_limited", await ratelimit.hit(ctx.redis, anonymous, budget))
        principal = await authenticate(ctx.pool, key)
        if principal is not None:
            limit = await ratelimit.hit(ctx.redis, str(principal.key_id), budget)
            if limit is not None and limit.exceeded:
                raise AccessRefused("rate_limited", limit)
            return Access(principal, limit)
    limit = await ratelimit.hit(ctx.redis, anonymous, budget)
    if limit is not None and limit.exceeded:
        raise AccessRefused("rate_limited", limit)
    raise AccessRefused("invalid_key" if key else "missing_key", limit)
