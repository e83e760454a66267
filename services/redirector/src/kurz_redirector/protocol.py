"""The redirector's HTTP/1.1 protocol: uvicorn's httptools protocol, with the hot path
answered inside it (ADR 0008).

A visit to a cached plain redirect needs no ASGI: no scope, no task, no coroutine, no
response messages. The protocol hands the parsed request to `Redirector.visit_now`,
which records the click like any other, and writes the ready response once the event is
in the stream. Everything else (cache misses, pages, limited links, side paths, requests
pipelined behind a pending answer) goes through uvicorn's ASGI machinery unchanged.

Subclassing a server's protocol ties kurz to its internals: the uvicorn version is pinned
in uv.lock, and tests/integration/redirector/test_protocol.py holds this protocol to
uvicorn's own behaviour (keep-alive, Connection: close, HTTP/1.0, pipelining, HEAD,
shutdown) so an upgrade that breaks it fails there.
"""

from __future__ import annotations

import logging
from typing import Any

import httptools
from kurz.http_guard import GuardedProtocol
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from kurz_redirector.cache import Entry

log = logging.getLogger(__name__)
_CLOSE = b"connection: close\r\n"


class _Nothing:
    """What uvicorn's connection_lost sets on a request's message event."""

    def set(self) -> None:
        pass


class PendingAnswer:
    """A visit answered in the protocol, waiting for its event's commit; called once the
    event is in the stream. It stands where uvicorn keeps its request-response cycle,
    with the attributes uvicorn's own code reads there: a request pipelined behind it
    queues, a lost connection marks it disconnected, and a shutdown makes it close the
    connection once answered."""

    __slots__ = ("disconnected", "entry", "keep_alive", "protocol", "response_complete", "started")

    message_event = _Nothing()

    def __init__(self, protocol: EdgeProtocol, keep_alive: bool) -> None:
        self.protocol = protocol
        self.keep_alive = keep_alive
        self.disconnected = False
        self.response_complete = False
        self.entry: Entry  # set by Redirector.visit_now, with the time the visit began
        self.started = 0.0

    def __call__(self) -> None:
        try:
            self.protocol.answer(self)
        except Exception:
            log.exception("answer failed")
            self.protocol.transport.close()  # the visitor gets no half answer


class EdgeProtocol(GuardedProtocol):
    """uvicorn's HttpToolsProtocol within kurz's limits (kurz.http_guard), answering
    cached plain redirects itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kurz_redirector.app import Redirector

        # The app as uvicorn loaded it: wrapped (trace logging does), it gets no shortcut.
        self.redirector = self.app if isinstance(self.app, Redirector) else None

    def on_message_begin(self) -> None:
        # uvicorn builds the ASGI scope here; it is built only for what goes the ASGI way.
        self.head_begins()
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def on_headers_complete(self) -> None:
        if not self.head_accepted():  # too large, or too many pipelined: answered
            return
        if (self.cycle is None or self.cycle.response_complete) and self._answer_now():
            return
        url, headers, expect = self.url, self.headers, self.expect_100_continue
        super().on_message_begin()
        self.url, self.expect_100_continue = url, expect
        self.headers = self.scope["headers"] = headers
        super().on_headers_complete()

    def _answer_now(self) -> bool:
        """Hand the request to Redirector.visit_now, if it is a plain GET or HEAD of one
        path segment; True if that took it."""
        parser = self.parser
        method = parser.get_method()
        if (method != b"GET" and method != b"HEAD") or self.redirector is None:
            return False
        # A full write buffer: ASGI's send() waits for it to drain, this path would not.
        if parser.should_upgrade() or self.flow.write_paused:
            return False
        parsed = httptools.parse_url(self.url)
        raw_path: bytes = parsed.path
        # find, not `in`: `in` on bytes first tries its operand as an integer, and the
        # TypeError it raises and clears costs thousands of instructions.
        if raw_path.find(b"%") >= 0 or not raw_path.isascii():  # uvicorn's decoding, then
            return False
        keep_alive = parser.get_http_version() != "1.0" and parser.should_keep_alive()
        pending = PendingAnswer(self, keep_alive)
        try:
            taken = self.redirector.visit_now(
                method.decode("ascii"), raw_path.decode("ascii"), parsed.query or b"",
                self.headers, self.client, pending,
            )  # fmt: skip
        except Exception:
            # Raised inside a parser callback, it would become a 400 with no trace: log
            # it, and let the ASGI path answer (its 500 if the fault is there too).
            log.exception("visit in the protocol failed")
            return False
        if not taken:
            return False
        self.cycle = pending  # type: ignore[assignment]
        return True

    def answer(self, pending: PendingAnswer) -> None:
        """The event is in the stream: write the answer, the status and headers uvicorn's
        send() would write for the same response."""
        pending.response_complete = True
        transport = self.transport
        if pending.disconnected or transport.is_closing():
            return
        entry = pending.entry
        content = [STATUS_LINE[entry.status]]
        for name, value in self.server_state.default_headers:
            content += (name, b": ", value, b"\r\n")
        for name, value in entry.headers or ():
            content += (name, b": ", value, b"\r\n")
        if not pending.keep_alive:
            content.append(_CLOSE)
        content.append(b"\r\n")
        transport.write(b"".join(content))
        if not pending.keep_alive:
            transport.close()
        assert self.redirector is not None
        self.redirector.answered(pending.started)
        self.on_response_complete()

    def on_body(self, body: bytes) -> None:
        if not self._answering():  # a GET's body: nothing reads it
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._answering():
            super().on_message_complete()

    def _answering(self) -> bool:
        cycle: object = self.cycle
        return type(cycle) is PendingAnswer
