"""What Python itself can do on the redirect path: a bare asyncio protocol on uvloop
that parses each request with httptools and answers a fixed 302, keeping the connection
alive and answering pipelined requests in order. No server framework, no ASGI, no
routing, no Redis: the ceiling the redirector's own HTTP handling is measured against.

`python -m bench.bare_protocol PORT [WORKERS]` serves 127.0.0.1:PORT, each worker a
process of its own on a SO_REUSEPORT socket (as the redirector's workers, ADR 0007).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys

import httptools
import uvloop

ANSWER = b"HTTP/1.1 302 Found\r\nlocation: https://example.com/\r\ncontent-length: 0\r\n\r\n"
CLOSE = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Bare(asyncio.Protocol):
    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(CLOSE)
            self.transport.close()

    def on_message_complete(self) -> None:
        assert self.transport is not None
        self.transport.write(ANSWER)
        if not self.parser.should_keep_alive():
            self.transport.close()


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(4096)
    sock.setblocking(False)
    return sock


async def _serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Bare, sock=_listen(port))
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


def main() -> None:
    port, workers = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1
    children = []
    for _ in range(workers - 1):
        pid = os.fork()
        if pid == 0:
            uvloop.run(_serve(port))
            os._exit(0)
        children.append(pid)
    uvloop.run(_serve(port))
    for pid in children:
        os.kill(pid, signal.SIGTERM)


if __name__ == "__main__":
    main()
