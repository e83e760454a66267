"""The redirector: a plain ASGI callable. GET/HEAD on `/{slug}` is the hot path; the rest
(operator endpoints, password form posts, QR codes) goes to small handlers."""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import time
from bisect import bisect_left
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis
from kurz import push as web_push
from kurz import redis_topology
from kurz.agents import classify
from kurz.branding import EdgeWorkspace
from kurz.decision import (
    Answer,
    Decision,
    RequestFacts,
    decide,
    fall_back,
    has_preview,
    is_static,
    limit_reached,
)
from kurz.events import COUNTED_OUTCOMES, Outcome, encode_event_fields, new_event_id
from kurz.logs import Sparse, log_as
from kurz.models import EdgeLink
from kurz.observability import OPERATOR_PATHS, serve_operator_path
from kurz.password_gate import PasswordGate
from kurz.proxies import ProxyHeaders, TrustedProxies
from kurz.settings import Settings, load_settings
from kurz.urls import visitor_params
from kurz.visitor import VisitorIds, network_of, param_pairs
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError, RedisError

from kurz_redirector import respond
from kurz_redirector.cache import Counters, Entry, LinkCache
from kurz_redirector.geo import Countries
from kurz_redirector.limits import ClickLimiter
from kurz_redirector.metrics import BUCKETS, new_stats
from kurz_redirector.passwords import PasswordCookies
from kurz_redirector.recorder import EventRecorder
from kurz_redirector.request import RequestHeaders, read_headers, trusted_country
from kurz_redirector.resolver import Resolver, Unavailable
from kurz_redirector.respond import EMPTY_BODY, UNAVAILABLE, Send, send_html
from kurz_redirector.side import SidePaths
from kurz_redirector.sites import Sites
from kurz_redirector.spool import Spool
from kurz_redirector.tasks import stop_task

if TYPE_CHECKING:
    from typing import Protocol

    class PendingAnswer(Protocol):
        """Who answers a visit taken by visit_now: told its entry and start time, then
        called once the event is in the stream (protocol.py's PendingAnswer, or kurz's
        own protocol in edge.py, which is its own pending answer)."""

        entry: Entry
        started: float

        def __call__(self) -> None: ...


log = logging.getLogger(__name__)
Scope = dict[str, Any]
_MAX_REQUEST_ID = 128
_REDIS_CONNECTIONS = 64
_NO_QUERY: tuple[tuple[tuple[str, str], ...], bool] = ((), False)
_REDIRECT = Outcome.REDIRECT
# user agent, bot, preview crawler, address, country, query parameters, QR marker,
# visitor id, network
Visitor = tuple[
    str, bool, bool, str, str | None, tuple[tuple[str, str], ...], bool, str, str | None
]
# user agent, bot, preview crawler, address, country, visitor id, network, UTC day
Identity = tuple[str, bool, bool, str, str | None, str, str | None, int]
_IDENTITIES_MAX = 4096


class Redirector:
    def __init__(self, settings: Settings) -> None:
        edge = settings.edge
        self.settings = settings
        self.stats = new_stats()
        self._redirect_latency = self.stats.latency[_REDIRECT]
        self.cache = LinkCache(edge.cache_size, edge.cache_ttl)
        self.countries = Countries(edge.geoip_mmdb)
        self.visitors = VisitorIds(edge.visitor_secret)
        self.cookies = PasswordCookies(edge.cookie_secret)
        self.proxies = TrustedProxies(settings.server.forwarded_allow_ips)
        self._limit_log = Sparse()  # a Redis outage would log every limited visit
        self.rng = random.Random()
        self.scheme = edge.public_scheme
        web_push.check_keys(settings.push)
        self.push_key = web_push.public_key(settings.push)
        self._country_header = edge.country_header.lower().encode() if edge.country_header else None
        # Who a request comes from, by peer address and the headers that say it: a
        # keep-alive connection (or a proxy's) repeats them, and working it out again
        # (user agent classes, proxies, country, the visitor id's keyed hash) cost more
        # than the rest of a visit's event. Bounded; dropped whole when full.
        self._identities: dict[tuple[str, bytes, bytes, bytes], Identity] = {}
        self.started = False
        self.draining = False
        self._tasks: list[asyncio.Task[None]] = []
        # Set at startup, inside the server's event loop.
        self.redis: aioredis.Redis
        self.resolver: Resolver
        self.recorder: EventRecorder
        self.limiter: ClickLimiter
        self.side: ProxyHeaders  # the side paths, with the visitor's address applied
        self.sites: Sites

    def __call__(self, scope: Scope, receive: Any, send: Send) -> Awaitable[None]:
        """An ASGI 3 app, though not a coroutine function: it hands the server the handler's
        coroutine itself, so a visit runs in one coroutine, not two (kurz.serve tells
        uvicorn the interface rather than letting it guess from the signature)."""
        if scope["type"] == "http":
            path: str = scope["path"]
            if _is_visit(scope["method"], path):
                return self.visit(scope, send)
            if path in OPERATOR_PATHS:
                return serve_operator_path(scope, send, self._ready, draining=lambda: self.draining)
            return self.side(scope, receive, send)
        if scope["type"] == "lifespan":
            return self._lifespan(receive, send)
        return _nothing()

    def prepare(self, link: EdgeLink, deadline: float, counters: Counters | None = None) -> Entry:
        """A cache entry; a link whose answer never changes gets its response ready-made
        and, unless a link-preview crawler would get a card from it, no EdgeLink."""
        if not is_static(link):
            return Entry.of_link(link, deadline, counters)
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
        """GET/HEAD /{slug}: resolve, decide, record, answer. Cached plain redirects are
        usually answered before they get here, by visit_now (protocol.py)."""
        started = time.perf_counter()
        fields = read_headers(scope["headers"], self._country_header)
        path: str = scope["path"]
        host_name = fields[0].decode("latin-1").lower()
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
            await self._unknown(send, host_name, head_only=method == "HEAD")
            self.stats.observe("not_found", time.perf_counter() - started)
            return
        now = time.time()
        visitor = self._visitor(fields, scope.get("client"), scope["query_string"], now)
        ua, bot, preview, _, country_code, query, qr, _, _ = visitor
        link = entry.link
        if entry.headers is not None and not (preview and link is not None):
            event = self._event(entry, visitor, fields, now, host_name, path, method)
            await self.recorder.record(event)
            await send({"type": "http.response.start", "status": entry.status,
                        "headers": entry.headers})  # fmt: skip
            await send(EMPTY_BODY)
            self.stats.observe(_REDIRECT, time.perf_counter() - started)
            return
        assert link is not None  # only plain redirects drop their EdgeLink
        cookie = fields[4].decode("latin-1")
        facts = RequestFacts(
            method, ua, bot, preview, country_code, fields[5].decode("latin-1"), query, qr,
            link.password_hash is not None and self.cookies.valid(link, cookie, now),
        )  # fmt: skip
        decision = await self._decide(link, facts, now, entry.counters)
        if decision is None:
            await send_html(send, 503, UNAVAILABLE, extra=[(b"retry-after", b"2")])
            return
        brand = None
        if decision.answer != Answer.REDIRECT:  # a page, or the workspace's redirect instead
            brand = await self.sites.for_workspace(link.workspace_id)
            decision = fall_back(decision, brand)
        event = self._event(
            entry, visitor, fields, now, host_name, path, method,
            decision.destination, decision.rule, decision.outcome,
        )  # fmt: skip
        await self.recorder.record(event)
        await self._answer(scope, send, link, decision, host_name, brand)
        self.stats.observe(decision.outcome, time.perf_counter() - started)

    def visit_now(
        self,
        method: str,
        path: str,
        query_string: bytes,
        headers: list[tuple[bytes, bytes]],
        client: tuple[str, int] | None,
        pending: PendingAnswer,
    ) -> bool:
        """The hot path without ASGI, for the HTTP protocol (protocol.py): a visit to a
        cached plain redirect, recorded like any other; `pending` is called with its
        entry once the event is in the stream. False, having done nothing, for any other
        request (not a visit, not cached, not a plain redirect, a preview crawler's
        card): that one goes the ASGI way."""
        started = time.perf_counter()
        if not _is_visit(method, path):
            return False
        fields = read_headers(headers, self._country_header)
        host_name = fields[0].decode("latin-1").lower()
        entry = self.cache.get(host_name + path)
        if entry is None or entry.headers is None:
            return False
        now = time.time()
        visitor = self._visitor(fields, client, query_string, now)
        if visitor[2] and entry.link is not None:  # a preview crawler gets the card
            return False
        self.stats.cache_hits += 1
        self.stats.answered_in_protocol += 1
        event = self._event(entry, visitor, fields, now, host_name, path, method)
        pending.entry, pending.started = entry, started
        self.recorder.record_then(event, pending)
        return True

    def answered(self, started: float) -> None:
        """visit_now's visit is answered: into the latency histogram (its row looked up
        once, not per visit)."""
        seconds = time.perf_counter() - started
        row = self._redirect_latency
        row[bisect_left(BUCKETS, seconds)] += 1
        row[-1] += seconds

    def _visitor(
        self,
        fields: RequestHeaders,
        client: tuple[str, int] | None,
        query_string: bytes,
        now: float,
    ) -> Visitor:
        """Who visits: user agent, bot and preview-crawler flags, address, country,
        query parameters, the QR marker, visitor id and network."""
        peer = client[0] if client else ""
        key = (peer, fields[1], fields[7], fields[6])
        day = int(now // 86400)
        known = self._identities.get(key)
        if known is None or known[7] != day:
            known = self._identify(fields, peer, now, day)
            if len(self._identities) >= _IDENTITIES_MAX:
                self._identities.clear()
            self._identities[key] = known
        ua, bot, preview, ip, country, visitor_id, network, _ = known
        query, qr = visitor_params(query_string) if query_string else _NO_QUERY
        return ua, bot, preview, ip, country, query, qr, visitor_id, network

    def _identify(self, fields: RequestHeaders, peer: str, now: float, day: int) -> Identity:
        ua = fields[1].decode("latin-1")
        bot, preview = classify(ua) if ua else (False, False)
        ip = peer
        if fields[7]:
            ip = self.proxies.client(ip, fields[7].decode("latin-1"))
        country = trusted_country(fields[6]) if fields[6] else self.countries.of(ip)
        visitor_id = self.visitors.visitor_id(ip, ua, now)
        return ua, bot, preview, ip, country, visitor_id, network_of(ip), day

    def _event(
        self,
        entry: Entry,
        visitor: Visitor,
        fields: RequestHeaders,
        now: float,
        host_name: str,
        path: str,
        method: str,
        destination: str | None = None,
        rule: str | None = None,
        outcome: str = _REDIRECT,
    ) -> bytes:
        """The visit's click event, encoded; a plain redirect's by default."""
        ua, bot, _, _, country, query, qr, visitor_id, network = visitor
        request_id = fields[3]
        event_id = new_event_id(now)
        return encode_event_fields(
            (
                event_id,
                now,
                entry.workspace_id,
                entry.link_id,
                entry.group_id,
                host_name,
                path[1:],
                entry.destination if destination is None else destination,
                rule,
                outcome,
                visitor_id,
                country,
                fields[2].decode("latin-1") or None,
                ua or None,
                qr,
                method,
                request_id[:_MAX_REQUEST_ID].decode("latin-1") if request_id else event_id,
                bot,
                network,
                param_pairs(query) if query else (),
            )
        )  # fmt: skip (ClickEvent's fields, in order)

    async def _decide(
        self, link: EdgeLink, facts: RequestFacts, now: float, counters: Counters | None
    ) -> Decision | None:
        """decide(), then a slot of the click limit for a visit that would go through.
        None when the limit cannot be checked."""
        decision = decide(link, facts, now, self.rng)
        if not (decision.limited and decision.outcome in COUNTED_OUTCOMES):
            return decision
        assert counters is not None
        counted = facts.method == "GET" and not facts.bot
        try:
            allowed = await self.limiter.admit(counters, counted=counted)
        except RedisError as exc:
            # Exactness needs the shared counter; without it, refuse rather than overshoot.
            if (skipped := self._limit_log.due()) is not None:  # one line per interval
                log.warning(
                    "click limit unavailable",
                    extra={"link_id": link.id, "error": str(exc), "skipped": skipped},
                )
            return None
        return decision if allowed else limit_reached(link)

    async def _unknown(self, send: Send, host: str, *, head_only: bool) -> None:
        """No link at this address: on to the domain's workspace's invalid-link URL if it
        set one, else the not-found page (in its branding on its own domain)."""
        brand = await self.sites.for_host(host)
        elsewhere = brand.invalid_link_redirect if brand is not None else None
        await respond.no_link(send, elsewhere, brand, head_only=head_only)

    async def _answer(
        self,
        scope: Scope,
        send: Send,
        link: EdgeLink,
        decision: Decision,
        host: str,
        brand: EdgeWorkspace | None = None,
    ) -> None:
        head_only = scope["method"] == "HEAD"
        if decision.destination and not respond.safe_destination(decision.destination):
            blocked = Decision(Answer.BLOCKED, 403, decision.outcome)
            page = respond.page_for(blocked, link, "", "", brand)
            await send_html(send, 403, page, head_only=head_only)
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
        page = respond.page_for(decision, link, short_url, action, brand, self.push_key)
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
        self.redis = redis_topology.client(
            settings.redis.url, blocking=True, max_connections=_REDIS_CONNECTIONS, timeout=2.0,
            socket_timeout=2.0, socket_connect_timeout=1.0,
            retry=Retry(NoBackoff(), 1, supported_errors=(ConnectionError,)),
        )  # fmt: skip
        self.resolver = Resolver(
            self.cache, self.redis, settings.database.url, self.prepare,
            replica_url=settings.database.replica_url, pool_max=settings.database.pool_max,
            stats=self.stats,
        )  # fmt: skip
        self.sites = Sites(self.redis, self.resolver.database_pool, settings.edge.cache_ttl)
        self.resolver.listeners.append(self.sites.invalidate)
        self.recorder = EventRecorder(
            self.redis,
            spool=Spool(Path(settings.edge.spool_dir), settings.edge.spool_bytes),
            stats=self.stats,
            wait_replicas=settings.edge.wait_replicas,
            wait_ms=settings.edge.wait_ms,
            streams=settings.redis.click_streams,
        )
        self.recorder.start()
        self.limiter = ClickLimiter(self.redis)
        self.limiter.start()
        gate = PasswordGate(
            self.redis, settings.edge.password_attempts, settings.edge.password_window
        )
        self.side = ProxyHeaders(SidePaths(self, gate), self.proxies)
        self._tasks.append(asyncio.create_task(self.resolver.listen(), name="invalidations"))
        # What startup made (modules, the GeoIP tables, pages) lives as long as the process:
        # out of the collector's sight, a full collection takes microseconds, not the
        # 10 ms it took with the GeoIP tables in it (a p99 spike under load).
        gc.freeze()
        self.started = True

    async def shutdown(self) -> None:
        self.draining = True
        for task in self._tasks:
            await stop_task(task)
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


def _is_visit(method: str, path: str) -> bool:
    """GET or HEAD of /{slug}, and not an operator path."""
    return (
        (method == "GET" or method == "HEAD")
        and path.find("/", 1) < 0
        and len(path) > 1
        and path not in OPERATOR_PATHS
    )


async def _nothing() -> None:
    """Scope types the redirector does not speak (websocket) get no answer."""


def create_app(settings: Settings | None = None) -> Redirector:
    settings = settings or load_settings()
    log_as("redirector", settings)
    return Redirector(settings)
