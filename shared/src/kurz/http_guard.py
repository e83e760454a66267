"""uvicorn's httptools protocol with the limits a server facing the internet needs, so one
client can never stall the others or exhaust the process's descriptors or memory.

- A request head (request line and headers) larger than `max_header_bytes` gets 431, a
  request target longer than `max_url_bytes` 414, and the connection is closed: the
  bytes are refused before the parser buffers them.
- A head must arrive whole within `head_timeout` seconds of the connection opening or of
  the previous answer, however slowly its bytes trickle in; else 408 (or, if not a byte
  came, a plain close).
- At most `max_connections` connections (below the descriptor limit): past it, the
  connection waiting longest for a request (idle, or trickling a head) is closed to make
  room; only when every one is busy is the newcomer refused, with 503.
- At most `_MAX_PIPELINE` pipelined requests wait behind the one being answered.
- A request pipelined ahead of bytes that do not parse is answered before the 400.

The redirector's protocol (kurz_redirector.protocol) subclasses this one, so the same
holds on its fast path. Settings: KURZ_HTTP_* (kurz.settings.ServerSettings).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import resource
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from kurz.settings import ServerSettings, load_settings

log = logging.getLogger("kurz.http")

_MAX_PIPELINE = 32
_DESCRIPTOR_RESERVE = 128  # for the process's own files, pools and listening sockets
_SWEEP_INTERVAL = 0.5  # seconds between two looks for heads past their deadline
_LINGER = 2.0  # seconds a refused connection's input is read and discarded before closing


@functools.cache
def limits() -> ServerSettings:
    """Read once per process (workers are spawned with the same environment)."""
    return load_settings().server


@functools.cache
def connection_cap() -> int:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = limits().max_connections
    if soft != resource.RLIM_INFINITY:
        cap = min(cap, max(soft - _DESCRIPTOR_RESERVE, 16))
    return cap


def refuse(transport: asyncio.Transport, loop: asyncio.AbstractEventLoop, status: int) -> None:
    """Answer `status` and close. Closed at once, a socket whose client is still sending
    would be reset, and the client might never read the answer: so the sending side is
    shut first, what still arrives is discarded, and the connection closed a moment
    later."""
    if transport.is_closing():
        return
    transport.write(refusal(status))
    if transport.can_write_eof():
        transport.write_eof()
        loop.call_later(_LINGER, transport.close)
    else:
        transport.close()


def refusal(status: int, close: bool = True) -> bytes:
    body = STATUS_LINE[status].split(b" ", 2)[2].strip()
    return (
        STATUS_LINE[status]
        + b"content-type: text/plain; charset=utf-8\r\ncontent-length: "
        + str(len(body)).encode()
        + (b"\r\nconnection: close\r\n\r\n" if close else b"\r\n\r\n")
        + body
    )


class GuardedProtocol(HttpToolsProtocol):
    """HttpToolsProtocol within kurz's limits (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = limits()
        self._max_head = settings.max_header_bytes
        self._max_url = settings.max_url_bytes
        self._head_timeout = settings.head_timeout
        self._head_bytes = 0
        self._in_head = False
        self._rejected = False
        self._deferred_error: str | None = None
        self.waiting_since: float | None = None  # waiting for a request head since

    # -- connections ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.waiting_since = self.loop.time()
        if len(self.connections) > connection_cap() and not self._shed_one():
            log.warning("connection refused: every connection is busy")
            self._reject(503)
            return
        if id(self.loop) not in _sweepers:
            _sweepers[id(self.loop)] = self.loop.call_later(_SWEEP_INTERVAL, _sweep, self)

    def _shed_one(self) -> bool:
        """Close the connection waiting longest for a request, one that sent nothing of
        it first; False if none waits."""
        victim: GuardedProtocol | None = None
        best = (True, 0.0)
        for other in self.connections:
            if not isinstance(other, GuardedProtocol) or other is self:
                continue
            since = other.waiting_since
            if since is None or other.transport.is_closing():
                continue
            key = (other._in_head, since)
            if victim is None or key < best:
                victim, best = other, key
        if victim is None:
            return False
        victim._close_waiting()
        return True

    def _close_waiting(self) -> None:
        self.waiting_since = None
        if self._in_head:  # bytes came: tell the client why
            self._reject(408)
        else:
            self.transport.close()

    def _reject(self, status: int) -> None:
        """Answer `status` and close (`refuse`); nothing more is parsed."""
        self._rejected = True
        self.waiting_since = None
        refuse(self.transport, self.loop, status)

    # -- parsing -------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return
        if self._in_head:  # a head still incomplete from an earlier read
            self._head_bytes += len(data)
            if self._head_bytes > self._max_head:
                self._reject(431)
                return
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self.refused:  # a callback refused the head: answered already
                return
            if self.cycle is not None and not self.cycle.response_complete:
                # Answer what came before the garbage first, then the 400.
                self._deferred_error = "Invalid HTTP request received."
                self.flow.pause_reading()
                return
            self.send_400_response("Invalid HTTP request received.")

    @property
    def refused(self) -> bool:
        return self._rejected

    def head_begins(self) -> None:
        self._in_head = True
        self._head_bytes = 0

    def on_message_begin(self) -> None:
        self.head_begins()
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        if self._rejected:
            return
        super().on_url(url)
        if len(self.url) > self._max_url:
            self._reject(414)

    def head_accepted(self) -> bool:
        """At the end of a head: False if it was refused (its answer is sent)."""
        self._in_head = False
        if self._rejected:
            return False
        if len(self.pipeline) >= _MAX_PIPELINE:
            self._reject(503)
            return False
        self.waiting_since = None
        return True

    def on_headers_complete(self) -> None:
        if self.head_accepted():
            super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._rejected:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._rejected:
            super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._deferred_error is not None and not self.pipeline:
            self.send_400_response(self._deferred_error)
            return
        if not self.pipeline:
            self.waiting_since = self.loop.time()


# One sweeper per event loop (a server's process has one; tests may run several).
_sweepers: dict[int, asyncio.TimerHandle] = {}


def _sweep(any_protocol: GuardedProtocol) -> None:
    """Close connections whose head did not arrive in time (all of this loop's: they
    share one set), then look again later while any connection is left."""
    loop = any_protocol.loop
    del _sweepers[id(loop)]
    connections = any_protocol.connections
    now = loop.time()
    for protocol in list(connections):
        if not isinstance(protocol, GuardedProtocol):
            continue
        since = protocol.waiting_since
        if since is not None and now - since > protocol._head_timeout:
            protocol._close_waiting()
    if connections:
        _sweepers[id(loop)] = loop.call_later(_SWEEP_INTERVAL, _sweep, any_protocol)
