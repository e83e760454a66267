"""kurz's own HTTP/1.1 protocol for the redirector (KURZ_SERVER=kurz, ADR 0015).

An asyncio protocol on uvloop with httptools, owned outright rather than subclassing
uvicorn's: a visit to a cached plain redirect costs a parse, `Redirector.visit_now` and
one write of bytes made when the link was cached, with no per-request object. Everything
else (cache misses, pages, QR codes, passwords, side and operator paths) gets a minimal
ASGI scope and runs as a task, as under uvicorn.

uvicorn still runs the process (lifespan, signals, listening sockets, workers and the
graceful drain): its server only needs a protocol class that takes its keyword arguments,
keeps `server_state.connections` and `.tasks`, and has `shutdown()`.

HTTP behaviour: keep-alive; HTTP/1.0 and `Connection: close` close after the answer;
pipelined requests are answered in order, one at a time (reading pauses while one waits);
HEAD gets the head alone; a request that does not parse gets 400 and the connection
closes, after the requests before it are answered. Limits as kurz.http_guard sets them
for uvicorn: 431 for a head over KURZ_HTTP_MAX_HEADER_BYTES, 414 for a target over
KURZ_HTTP_MAX_URL_BYTES, 408 (or a plain close) for a head not whole within
KURZ_HTTP_HEAD_TIMEOUT (also the idle keep-alive limit), KURZ_HTTP_MAX_CONNECTIONS with
the longest-waiting connection shed first, and back-pressure: while the transport's write
buffer is over its high-water mark, reading stops and ASGI sends wait.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
from collections import deque
from typing import Any
from urllib.parse import unquote

import httptools
from kurz.http_guard import connection_cap, limits, refusal, refuse

from kurz_redirector.app import Redirector
from kurz_redirector.cache import Entry

log = logging.getLogger("kurz.http")

MAX_PIPELINE = 32  # requests parsed and waiting behind the one being answered
_SWEEP_INTERVAL = 0.5  # seconds between two looks for heads past their deadline
_BODY_HIGH_WATER = 65_536  # request body bytes buffered before reading pauses
_CLOSE = b"connection: close\r\n"
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_NO_BODY_STATUS = frozenset({204, 304})
_SPLITS = re.compile(rb"[\r\n]").search  # in a header, it would split the response


def _status_line(status: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase.encode()
    except ValueError:
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (status, phrase)


STATUS_LINE = {status: _status_line(status) for status in range(100, 600)}


def ready_answer(entry: Entry) -> tuple[bytes, bytes]:
    """A plain redirect's head on the wire, kept and closing: made once per cached entry
    (the status line and the entry's headers never change while it is cached)."""
    head = STATUS_LINE[entry.status] + b"".join(
        name + b": " + value + b"\r\n" for name, value in entry.headers or ()
    )
    return head + b"\r\n", head + _CLOSE + b"\r\n"


def _address(info: Any) -> tuple[str, int] | None:
    if isinstance(info, tuple) and len(info) >= 2:  # IPv6 has four fields
        return str(info[0]), int(info[1])
    return None


class EdgeProtocol(asyncio.Protocol):
    """One client connection (see the module docstring)."""

    # Slots: an instance with this many attributes would otherwise keep them in a dict
    # of its own, and each access on the hot path would cost a lookup there.
    __slots__ = (
        "app",
        "app_state",
        "body_paused",
        "busy",
        "client",
        "closing",
        "connections",
        "cycle",
        "deferred_error",
        "drained",
        "entry",
        "expect_continue",
        "head_bytes",
        "head_timeout",
        "headers",
        "keep_alive",
        "loop",
        "marked",
        "max_head",
        "max_url",
        "parser",
        "parsing",
        "pipeline_paused",
        "queue",
        "reading_paused",
        "redirector",
        "rejected",
        "root_path",
        "server",
        "started",
        "tasks",
        "transport",
        "url",
        "waiting_since",
        "write_paused",
    )

    def __init__(
        self, config: Any, server_state: Any, app_state: dict[str, Any] | None = None,
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:  # fmt: skip
        self.app = config.loaded_app
        self.root_path: str = config.root_path
        self.app_state = app_state if app_state is not None else {}
        self.loop = _loop or asyncio.get_event_loop()
        self.connections: set[Any] = server_state.connections
        self.tasks: set[asyncio.Task[None]] = server_state.tasks
        # The app as uvicorn loaded it: wrapped (trace logging does), it gets no shortcut.
        self.redirector = self.app if isinstance(self.app, Redirector) else None
        settings = limits()
        self.max_head = settings.max_header_bytes
        self.max_url = settings.max_url_bytes
        self.head_timeout = settings.head_timeout
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.client: tuple[str, int] | None = None
        self.server: tuple[str, int] | None = None
        # The request being parsed.
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_bytes = 0
        self.expect_continue = False
        self.marked = False  # the head has a Connection or Expect header
        self.parsing: Cycle | None = None  # its ASGI cycle, if it has one: takes the body
        # The request being answered, and those parsed behind it.
        self.busy = False
        self.cycle: Cycle | None = None  # the ASGI cycle running, if that is what is busy
        self.queue: deque[Cycle] = deque()
        self.keep_alive = True  # of the visit answered in the protocol
        self.entry: Entry  # set by Redirector.visit_now, with the time the visit began
        self.started = 0.0
        # Connection state.
        self.closing = False  # shutdown: close once the request being answered is
        self.rejected = False
        self.deferred_error = False  # bytes that did not parse, behind pending answers
        self.waiting_since: float | None = None  # waiting for a request head since
        self.reading_paused = False
        self.pipeline_paused = False
        self.body_paused = False
        self.write_paused = False
        self.drained: asyncio.Future[None] | None = None

    # -- the connection --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.connections.add(self)
        self.client = _address(transport.get_extra_info("peername"))
        self.server = _address(transport.get_extra_info("sockname"))
        self.waiting_since = self.loop.time()
        if len(self.connections) > connection_cap() and not self._shed_one():
            log.warning("connection refused: every connection is busy")
            self._reject(503)
            return
        loop_id = id(self.loop)
        if loop_id not in _sweepers:
            _sweepers[loop_id] = self.loop.call_later(_SWEEP_INTERVAL, _sweep, self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.connections.discard(self)
        self.waiting_since = None
        for cycle in (self.cycle, self.parsing, *self.queue):
            if cycle is not None:
                cycle.disconnected = True
                cycle.wake()
        self.queue.clear()
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    def eof_received(self) -> bool | None:
        return None  # the transport closes itself

    def pause_writing(self) -> None:
        # The client does not read: stop reading its requests until it does.
        self.write_paused = True
        self._pause()

    def resume_writing(self) -> None:
        self.write_paused = False
        self._resume()
        if self.drained is not None and not self.drained.done():
            self.drained.set_result(None)

    async def drain(self) -> None:
        if self.write_paused and not self.transport.is_closing():
            self.drained = self.loop.create_future()
            await self.drained
            self.drained = None

    def _pause(self) -> None:
        if not self.reading_paused:
            self.reading_paused = True
            self.transport.pause_reading()

    def _resume(self) -> None:
        if self.reading_paused and not (
            self.write_paused or self.pipeline_paused or self.body_paused or self.deferred_error
        ):
            self.reading_paused = False
            self.transport.resume_reading()

    def shutdown(self) -> None:
        """uvicorn's drain: close now if nothing is being answered, else once it is."""
        self.closing = True
        if not self.busy:
            self.transport.close()

    def _shed_one(self) -> bool:
        """Close the connection waiting longest for a request, one that sent nothing of
        it first; False if none waits."""
        victim: EdgeProtocol | None = None
        best = (True, 0.0)
        for other in self.connections:
            if other is self or not isinstance(other, EdgeProtocol):
                continue
            since = other.waiting_since
            if since is None or other.transport.is_closing():
                continue
            key = (other.in_head(), since)
            if victim is None or key < best:
                victim, best = other, key
        if victim is None:
            return False
        victim.close_waiting()
        return True

    def in_head(self) -> bool:
        """Part of a request head came (its target at least), not all of it."""
        return bool(self.url or self.headers)

    def close_waiting(self) -> None:
        self.waiting_since = None
        if self.in_head():  # bytes came: tell the client why
            self._reject(408)
        else:
            self.transport.close()

    def _reject(self, status: int) -> None:
        """Answer `status` and close (kurz.http_guard.refuse); nothing more is parsed."""
        self.rejected = True
        self.waiting_since = None
        refuse(self.transport, self.loop, status)

    # -- parsing ---------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.rejected:
            return
        if self.url:  # a head still incomplete from an earlier read
            self.head_bytes += len(data)
            if self.head_bytes > self.max_head:
                self._reject(431)
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # no upgrade is spoken here: the request was answered as plain HTTP
        except httptools.HttpParserError:
            if self._refused():  # a callback refused the head: answered already
                return
            if self.busy:  # answer what came before the garbage first, then the 400
                self.deferred_error = True
                self._pause()
                return
            self._reject(400)

    def _refused(self) -> bool:
        return self.rejected

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.max_url and not self.rejected:
            self._reject(414)

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        self.headers.append((name, value))
        if name == b"connection" or name == b"expect":
            self.marked = True  # looked at once the head is whole
        self.head_bytes += len(name) + len(value)
        if self.head_bytes > self.max_head and not self.rejected:
            self._reject(431)

    def on_headers_complete(self) -> None:
        url, headers = self.url, self.headers
        # Ready for the next head here, not in a callback of its own when it begins:
        # one callback less per request.
        self.url, self.headers, self.head_bytes = b"", [], 0
        if self.rejected:
            return
        self.waiting_since = None
        parser = self.parser
        keep_alive: bool = parser.should_keep_alive()
        if self.marked:  # an HTTP/1.0 keep-alive, or an Expect header
            self.marked = False
            keep_alive, self.expect_continue = self._marks(keep_alive, headers)
        else:
            self.expect_continue = False
        method: bytes = parser.get_method()
        busy = self.busy
        if not busy:
            if (method == b"GET" or method == b"HEAD") and self._visit(
                method, url, headers, keep_alive
            ):
                return
        elif len(self.queue) >= MAX_PIPELINE:
            self._reject(503)
            return
        cycle = self._cycle(method, url, headers, keep_alive)
        self.parsing = cycle
        if busy:
            self.queue.append(cycle)
            self.pipeline_paused = True
            self._pause()
        else:
            self._run(cycle)

    def _marks(self, keep_alive: bool, headers: list[tuple[bytes, bytes]]) -> tuple[bool, bool]:
        """Keep-alive and 100-continue, for a head with a Connection or Expect header.
        HTTP/1.0 closes even when asked to keep alive (the answer does not say it
        would). Only here: the parser's version costs as much as the rest of a head."""
        if keep_alive and self.parser.get_http_version() == "1.0":
            keep_alive = False
        expect = any(n == b"expect" and v.lower() == b"100-continue" for n, v in headers)
        return keep_alive, expect

    def on_body(self, body: bytes) -> None:
        cycle = self.parsing
        if cycle is None or self.rejected:  # a GET's body, answered already: unread
            return
        cycle.body += body
        if len(cycle.body) > _BODY_HIGH_WATER and not self.body_paused:
            self.body_paused = True
            self._pause()
        cycle.wake()

    def on_message_complete(self) -> None:
        cycle = self.parsing
        if cycle is None:
            return
        self.parsing = None
        cycle.more_body = False
        cycle.wake()

    # -- answering -------------------------------------------------------------------

    def _visit(
        self, method: bytes, url: bytes, headers: list[tuple[bytes, bytes]], keep_alive: bool
    ) -> bool:
        """Hand a GET or HEAD to Redirector.visit_now; True if it took it (then this
        protocol is called once the click is in the stream)."""
        redirector = self.redirector
        if redirector is None:
            return False
        # str, not bytes: `in` on bytes first tries its operand as an integer, and the
        # TypeError it raises and clears cost more than the rest of this check.
        try:
            target = url.decode("ascii")
        except UnicodeDecodeError:
            return False  # the ASGI path's decoding, then
        if "?" in target or "%" in target or "#" in target or target[:1] != "/":
            parsed = httptools.parse_url(url)
            path: bytes = parsed.path
            query: bytes = parsed.query or b""
            if path.find(b"%") >= 0:  # percent-decoding: the ASGI path's
                return False
            target = path.decode("ascii")
        else:
            query = b""
        self.keep_alive = keep_alive
        try:
            taken = redirector.visit_now(
                "GET" if method == b"GET" else "HEAD", target, query,
                headers, self.client, self,
            )  # fmt: skip
        except Exception:
            # Raised inside a parser callback, it would become a 400 with no trace: log
            # it, and let the ASGI path answer (its 500 if the fault is there too).
            log.exception("visit in the protocol failed")
            return False
        if taken:
            self.busy = True
        return taken

    def __call__(self) -> None:
        """The visit's click is in the stream: write the ready answer."""
        self.busy = False
        transport = self.transport
        try:
            if transport.is_closing():
                return
            entry = self.entry
            answers = entry.wire
            if answers is None:
                answers = entry.wire = ready_answer(entry)
            if self.keep_alive and not self.closing:
                transport.write(answers[0])
                self.redirector.answered(self.started)  # type: ignore[union-attr]
                if self.queue or self.deferred_error:
                    self._next()
                else:
                    self.waiting_since = self.loop.time()
            else:
                transport.write(answers[1])
                transport.close()
                self.redirector.answered(self.started)  # type: ignore[union-attr]
        except Exception:
            log.exception("answer failed")
            transport.close()  # the visitor gets no half answer

    def _next(self) -> None:
        """An answer is complete and the connection stays: the next request's turn."""
        if self.closing:
            self.transport.close()
            return
        queue = self.queue
        while queue:
            cycle = queue.popleft()
            if not queue:
                self.pipeline_paused = False
                self._resume()
            if not cycle.more_body and cycle.method in (b"GET", b"HEAD"):
                headers = cycle.scope["headers"]
                if self._visit(cycle.method, cycle.raw_url, headers, cycle.keep_alive):
                    return
            self._run(cycle)
            return
        if self.deferred_error:
            self._reject(400)
            return
        self.waiting_since = self.loop.time()

    def _cycle(
        self, method: bytes, url: bytes, headers: list[tuple[bytes, bytes]], keep_alive: bool
    ) -> Cycle:
        parsed = httptools.parse_url(url)
        raw_path: bytes = parsed.path
        path = raw_path.decode("ascii")  # not ASCII: raised in a callback, a 400
        if "%" in path:
            path = unquote(path)
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": self.parser.get_http_version(),
            "server": self.server,
            "client": self.client,
            "scheme": "http",
            "method": method.decode("ascii"),
            "root_path": self.root_path,
            "path": self.root_path + path,
            "raw_path": raw_path,
            "query_string": parsed.query or b"",
            "headers": headers,
            "state": self.app_state.copy(),
        }
        return Cycle(self, scope, method, url, keep_alive, self.expect_continue)

    def _run(self, cycle: Cycle) -> None:
        self.busy = True
        self.cycle = cycle
        task = self.loop.create_task(cycle.run(self.app))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def cycle_done(self, cycle: Cycle) -> None:
        if self.cycle is cycle:
            self.cycle = None
        if self.body_paused:
            self.body_paused = False
            self._resume()
        self.busy = False
        if cycle.keep_alive and not cycle.disconnected and not self.transport.is_closing():
            self._next()
        elif not self.transport.is_closing():
            self.transport.close()


class Cycle:
    """One request on the ASGI path: its scope, its body as it arrives, its response."""

    __slots__ = (
        "body",
        "chunked",
        "disconnected",
        "event",
        "expect_continue",
        "head_only",
        "keep_alive",
        "length",
        "method",
        "more_body",
        "protocol",
        "raw_url",
        "response_complete",
        "response_started",
        "scope",
    )  # fmt: skip

    def __init__(
        self, protocol: EdgeProtocol, scope: dict[str, Any], method: bytes, raw_url: bytes,
        keep_alive: bool, expect_continue: bool,
    ) -> None:  # fmt: skip
        self.protocol = protocol
        self.scope = scope
        self.method = method
        self.raw_url = raw_url
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.head_only = method == b"HEAD"
        self.body = b""
        self.more_body = True
        self.disconnected = False
        self.event: asyncio.Event | None = None
        self.response_started = False
        self.response_complete = False
        self.chunked = False
        self.length: int | None = None

    def wake(self) -> None:
        if self.event is not None:
            self.event.set()

    async def run(self, app: Any) -> None:
        protocol = self.protocol
        try:
            await app(self.scope, self.receive, self.send)
        except BaseException:
            log.exception("Exception in ASGI application")
            if not self.response_started:
                await self._error()
            else:
                self.keep_alive = False
        else:
            if not self.response_started:
                if not self.disconnected:
                    log.error("ASGI callable returned without starting response.")
                    await self._error()
            elif not self.response_complete and not self.disconnected:
                log.error("ASGI callable returned without completing response.")
                self.keep_alive = False
        finally:
            protocol.cycle_done(self)

    async def _error(self) -> None:
        if not self.disconnected and not self.protocol.transport.is_closing():
            self.protocol.transport.write(refusal(500, close=not self.keep_alive))

    async def receive(self) -> dict[str, Any]:
        protocol = self.protocol
        if self.expect_continue and not self.response_started and not self.disconnected:
            self.expect_continue = False
            protocol.transport.write(_CONTINUE)
        if not self.disconnected and not self.response_complete:
            if protocol.body_paused:
                protocol.body_paused = False
                protocol._resume()
            while self.more_body and not self.body and not self.disconnected:
                if self.event is None:
                    self.event = asyncio.Event()
                self.event.clear()
                await self.event.wait()
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        body, self.body = self.body, b""
        return {"type": "http.request", "body": body, "more_body": self.more_body}

    async def send(self, message: dict[str, Any]) -> None:
        protocol = self.protocol
        if protocol.write_paused:
            await protocol.drain()
        if self.disconnected:
            return
        kind = message["type"]
        if not self.response_started:
            if kind != "http.response.start":
                raise RuntimeError(f"Expected 'http.response.start', got '{kind}'")
            self.response_started = True
            protocol.transport.write(self._head(message["status"], message.get("headers", ())))
            return
        if self.response_complete:
            raise RuntimeError(f"Unexpected ASGI message '{kind}' sent, after response completed.")
        if kind != "http.response.body":
            raise RuntimeError(f"Expected 'http.response.body', got '{kind}'")
        self._body(message.get("body", b""), message.get("more_body", False))

    def _head(self, status: int, headers: Any) -> bytes:
        content = [STATUS_LINE[status]]
        for raw_name, value in headers:
            name = bytes(raw_name).lower()
            # A CR or LF would split the response: refused, as uvicorn refuses it.
            if _SPLITS(name) or _SPLITS(value):
                raise RuntimeError("Invalid HTTP header")
            if name == b"content-length" and self.length is None:
                self.length = int(value)
            elif name == b"transfer-encoding" and value.lower() == b"chunked":
                self.length = None
                self.chunked = True
            elif name == b"connection" and value.lower() == b"close":
                self.keep_alive = False
            content += (name, b": ", value, b"\r\n")
        if (
            self.length is None and not self.chunked and not self.head_only
            and status not in _NO_BODY_STATUS
        ):  # fmt: skip
            self.chunked = True  # no length known: the body is sent in chunks
            content.append(b"transfer-encoding: chunked\r\n")
        if self.protocol.closing:
            self.keep_alive = False
        if not self.keep_alive:
            content.append(_CLOSE)
        content.append(b"\r\n")
        return b"".join(content)

    def _body(self, body: bytes, more: bool) -> None:
        transport = self.protocol.transport
        if not self.head_only and body:
            if self.chunked:
                transport.write(b"%x\r\n%s\r\n" % (len(body), body))
            else:
                transport.write(body)
        if more:
            return
        if self.chunked and not self.head_only:
            transport.write(b"0\r\n\r\n")
        self.response_complete = True
        self.wake()
        if not self.keep_alive:
            transport.close()


# One sweeper per event loop (a server's process has one; tests may run several).
_sweepers: dict[int, asyncio.TimerHandle] = {}


def _sweep(any_protocol: EdgeProtocol) -> None:
    """Close connections whose head did not arrive in time (all of this loop's: they
    share one set), then look again later while any connection is left."""
    loop = any_protocol.loop
    del _sweepers[id(loop)]
    connections = any_protocol.connections
    now = loop.time()
    for protocol in list(connections):
        if not isinstance(protocol, EdgeProtocol):
            continue
        since = protocol.waiting_since
        if since is not None and now - since > protocol.head_timeout:
            protocol.close_waiting()
    if connections:
        _sweepers[id(loop)] = loop.call_later(_SWEEP_INTERVAL, _sweep, any_protocol)
