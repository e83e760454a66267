"""The redirector: a plain ASGI callable. GET/HEAD on `/{slug}` is the hot path; the rest
(operator endpoints, password form posts, QR codes) goes to small handlers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import random
import time
from collections.abc import Awaitable
from typing import Any

import redis.asyncio as aioredis
from kurz.agents import classify
from kurz.decision import (
    Answer,
    Decision,
    RequestFacts,
    decide,
    has_preview,
    is_static,
    limit_reached,
)
from kurz.events import COUNTED_OUTCOMES, ClickEvent, Outcome, encode_event, new_event_id
from kurz.logs import configure_logging
from kurz.models import EdgeLink
from kurz.observability import OPERATOR_PATHS, serve_operator_path
from kurz.proxies import ProxyHeaders, TrustedProxies
from kurz.settings import Settings, load_settings
from kurz.urls import visitor_params
from kurz.visitor import VisitorIds
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, RedisError

from kurz_redirector import respond
from kurz_redirector.cache import Entry, LinkCache
from kurz_redirector.geo import Countries
from kurz_redirector.limits import ClickLimiter
from kurz_redirector.metrics import new_stats
from kurz_redirector.passwords import PasswordChecker, PasswordCookies
from kurz_redirector.recorder import EventRecorder
from kurz_redirector.request import read_headers, trusted_country
from kurz_redirector.resolver import Resolver, Unavailable
from kurz_redirector.respond import EMPTY_BODY, NOT_FOUND, UNAVAILABLE, Send, send_html
from kurz_redirector.side import SidePaths

log = logging.getLogger(__name__)
Scope = dict[str, Any]
_MAX_REQUEST_ID = 128
_REDIS_CONNECTIONS = 64
_NO_QUERY: tuple[tuple[tuple[str, str], ...], bool] = ((), False)
_REDIRECT = Outcome.REDIRECT


class Redirector:
    def __init__(self, settings: Settings) -> None:
        edge = settings.edge
        self.settings = settings
        self.stats = new_stats()
        self.cache = LinkCache(edge.cache_size, edge.cache_ttl)
        self.countries = Countries(edge.geoip_mmdb)
        self.visitors = VisitorIds(edge.visitor_secret)
        self.cookies = PasswordCookies(edge.cookie_secret)
        self.proxies = TrustedProxies(settings.server.forwarded_allow_ips)
        self.rng = random.Random()
        self.scheme = edge.public_scheme
        self._country_header = edge.country_header.lower().encode() if edge.country_header else None
        self.started = False
        self.draining = False
        self._tasks: list[asyncio.Task[None]] = []
        # Set at startup, inside the server's event loop.
        self.redis: aioredis.Redis
        self.resolver: Resolver
        self.recorder: EventRecorder
        self.limiter: ClickLimiter
        self.side: ProxyHeaders  # the side paths, with the visitor's address applied

    def __call__(self, scope: Scope, receive: Any, send: Send) -> Awaitable[None]:
        """An ASGI 3 app, though not a coroutine function: it hands the server the handler's
        coroutine itself, so a visit runs in one coroutine, not two (kurz.serve tells
        uvicorn the interface rather than letting it guess from the signature)."""
        if scope["type"] == "http":
            path: str = scope["path"]
            method: str = scope["method"]
            if (
                (method == "GET" or method == "HEAD")
                and path.find("/", 1) < 0
                and len(path) > 1
                and path not in OPERATOR_PATHS
            ):
                return self.visit(scope, send)
            if path in OPERATOR_PATHS:
                return serve_operator_path(scope, send, self._ready, draining=lambda: self.draining)
            return self.side(scope, receive, send)
        if scope["type"] == "lifespan":
            return self._lifespan(receive, send)
        return _nothing()

    def prepare(self, link: EdgeLink, deadline: float, counter: str | None = None) -> Entry:
        """A cache entry; a link whose answer never changes gets its response ready-made
        and, unless a link-preview crawler would get a card from it, no EdgeLink."""
        if not is_static(link):
            return Entry.of_link(link, deadline, counter)
        decision = decide(link, RequestFacts(), 0.0, self.rng)
        headers = respond.redirect_headers(
            decision.status, decision.destination, no_referrer=link.hide_referrer
        )
        return Entry(
            deadline, link.workspace_id, link.id, link.group_id,
            link=link if has_preview(link) else None,
            status=decision.status, destination=decision.destination, headers=headers,
        )  # fmt: skip

    async def visit(self, scope: Scope, send: Send) -> None:
        """GET/HEAD /{slug}: resolve, decide, record, answer. Longer than the house's
        usual function on purpose: on the hot path every call saved counts."""
        started = time.perf_counter()
        host, user_agent, referrer, request_id, cookie, language, country, forwarded_for = (
            read_headers(scope["headers"], self._country_header)
        )
        path: str = scope["path"]
        host_name = host.decode("latin-1").lower()
        entry = self.cache.get(host_name + path)
        if entry is None:
            self.stats.cache_misses += 1
            try:
                entry = await self.resolver.resolve(host_name, path[1:])
            except Unavailable:
                await send_html(send, 503, UNAVAILABLE, extra=[(b"retry-after", b"2")])
                return
        else:
            self.stats.cache_hits += 1
        method: str = scope["method"]
        if not entry.link_id:
            await send_html(send, 404, NOT_FOUND, head_only=method == "HEAD")
            self.stats.observe("not_found", time.perf_counter() - started)
            return
        ua = user_agent.decode("latin-1")
        bot, preview = classify(ua) if ua else (False, False)
        now = time.time()
        client = scope.get("client")
        ip = client[0] if client else ""
        if forwarded_for:
            ip = self.proxies.client(ip, forwarded_for.decode("latin-1"))
        if country:
            country_code = trusted_country(country)
        else:
            country_code = self.countries.of(ip) if ip else None
        query_string: bytes = scope["query_string"]
        query, qr = visitor_params(query_string) if query_string else _NO_QUERY
        headers = entry.headers
        link = entry.link
        decision: Decision | None = None
        if headers is not None and not (preview and link is not None):
            status, destination, rule, outcome = entry.status, entry.destination, None, _REDIRECT
        else:
            assert link is not None  # only plain redirects drop their EdgeLink
            headers = None
            facts = RequestFacts(
                method, ua, bot, preview, country_code, language.decode("latin-1"), query, qr,
                link.password_hash is not None
                and self.cookies.valid(link, cookie.decode("latin-1"), now),
            )  # fmt: skip
            decision = await self._decide(link, facts, now, entry.counter)
            if decision is None:
                await send_html(send, 503, UNAVAILABLE, extra=[(b"retry-after", b"2")])
                return
            status, destination = decision.status, decision.destination
            rule, outcome = decision.rule, decision.outcome
        event_id = new_event_id(now)
        event = ClickEvent(
            event_id, now, entry.workspace_id, entry.link_id, entry.group_id, host_name,
            path[1:], destination, rule, outcome, self.visitors.visitor_id(ip, ua, now),
            country_code, referrer.decode("latin-1") or None, ua or None, qr, method,
            request_id[:_MAX_REQUEST_ID].decode("latin-1") if request_id else event_id, bot,
        )  # fmt: skip
        await self.recorder.record(encode_event(event))
        if headers is not None:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send(EMPTY_BODY)
        else:
            assert link is not None and decision is not None
            await self._answer(scope, send, link, decision, host_name)
        self.stats.observe(outcome, time.perf_counter() - started)

    async def _decide(
        self, link: EdgeLink, facts: RequestFacts, now: float, counter: str | None
    ) -> Decision | None:
        """decide(), then a slot of the click limit for a visit that would go through.
        None when the limit cannot be checked."""
        decision = decide(link, facts, now, self.rng)
        if not (decision.limited and decision.outcome in COUNTED_OUTCOMES):
            return decision
        assert counter is not None and link.max_clicks is not None
        counted = facts.method == "GET" and not facts.bot
        try:
            allowed = await self.limiter.admit(counter, link.max_clicks, counted=counted)
        except RedisError as exc:
            # Exactness needs the shared counter; without it, refuse rather than overshoot.
            log.warning("click limit unavailable", extra={"link_id": link.id, "error": str(exc)})
            return None
        return decision if allowed else limit_reached(link)

    async def _answer(
        self, scope: Scope, send: Send, link: EdgeLink, decision: Decision, host: str
    ) -> None:
        head_only = scope["method"] == "HEAD"
        if decision.destination and not respond.safe_destination(decision.destination):
            await send_html(
                send,
                403,
                respond.page_for(Decision(Answer.BLOCKED, 403, decision.outcome), link, "", ""),
                head_only=head_only,
            )
            return
        if decision.answer == Answer.REDIRECT:
            await send(
                respond.redirect_start(
                    decision.status, decision.destination, no_referrer=link.hide_referrer
                )
            )
            await send(EMPTY_BODY)
            return
        path: str = scope["path"]
        query = scope["query_string"].decode("latin-1")
        short_url = f"{self.scheme}://{host}{path}"
        action = path + ("?" + query if query else "")
        page = respond.page_for(decision, link, short_url, action)
        await send_html(send, decision.status, page, head_only=head_only)

    async def _ready(self) -> None:
        """Ready from the end of startup until draining (the caller checks that). Redis is
        not asked: cached links keep redirecting through a Redis outage, which must not
        take every replica out of the load balancer at once; kurz_redis_up shows it."""
        if not self.started:
            raise RuntimeError("starting")

    async def startup(self) -> None:
        settings = self.settings
        # A blocking pool: a burst of cache misses waits for a connection instead of
        # failing with "too many connections" and falling through to Postgres.
        # One retry on a broken connection: after a Redis restart every pooled connection
        # is dead, and a lookup must not fall through to Postgres for that alone.
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.redis.url, max_connections=_REDIS_CONNECTIONS, timeout=2.0,
            socket_timeout=2.0, socket_connect_timeout=1.0,
            retry=Retry(NoBackoff(), 1, supported_errors=(ConnectionError,)),
        )  # fmt: skip
        self.redis = aioredis.Redis.from_pool(pool)  # owns the pool: aclose() closes it
        database_url = settings.database.replica_url or settings.database.url
        self.resolver = Resolver(
            self.cache, self.redis, database_url, self.prepare,
            pool_max=settings.database.pool_max, stats=self.stats,
        )  # fmt: skip
        self.recorder = EventRecorder(
            self.redis,
            maxlen=settings.redis.stream_maxlen,
            buffer_limit=settings.edge.event_buffer,
            stats=self.stats,
        )
        self.recorder.start()
        self.limiter = ClickLimiter(self.redis)
        self.limiter.start()
        checker = PasswordChecker(
            self.redis, settings.edge.password_attempts, settings.edge.password_window
        )
        self.side = ProxyHeaders(SidePaths(self, checker), self.proxies)
        self._tasks.append(asyncio.create_task(self.resolver.listen(), name="invalidations"))
        # What startup made (modules, the GeoIP tables, pages) lives as long as the process:
        # out of the collector's sight, a full collection takes microseconds, not the
        # 10 ms it took with the GeoIP tables in it (a p99 spike under load).
        gc.freeze()
        self.started = True

    async def shutdown(self) -> None:
        self.draining = True
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.limiter.close()
        await self.recorder.close(grace=min(self.settings.shutdown_grace, 10.0))
        await self.resolver.close()
        await self.redis.aclose()

    async def _lifespan(self, receive: Any, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _nothing() -> None:
    """Scope types the redirector does not speak (websocket) get no answer."""


def create_app(settings: Settings | None = None) -> Redirector:
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    return Redirector(settings)
