"""The visitor's address and scheme behind trusted proxies (X-Forwarded-For/-Proto).

kurz applies these headers itself rather than leaving it to the ASGI server: the same
rules under uvicorn and granian (which has no such option of its own), and on the
redirect path at the cost of one dictionary lookup when no proxy header is present
(uvicorn's middleware parses the peer's address on every request). The rules are
uvicorn's, read from the same variable, FORWARDED_ALLOW_IPS: a comma-separated list of
addresses, networks (CIDR) and literals, or "*" for every peer. From a trusted peer the
client is the right-most X-Forwarded-For entry that is not itself a trusted proxy (the
left-most when every entry is). Unlike uvicorn, "*" trusts the peer for one hop only:
the client is the right-most entry, the address the peer itself saw, since with every
address trusted the entries to its left are whatever the visitor chose to send (a
visitor rotating them would otherwise be a new visitor on every request, past password
throttling). Manifests name the ingress instead (docs/operations.md).
"""

from __future__ import annotations

import ipaddress
from typing import Any

_MEMO_MAX = 4096
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    def __init__(self, spec: str) -> None:
        entries = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in entries
        self._addresses: set[Address] = set()
        self._networks: list[Network] = []
        self._literals: set[str] = set()
        for entry in entries:
            try:
                if "/" in entry:
                    self._networks.append(ipaddress.ip_network(entry, strict=False))
                else:
                    self._addresses.add(ipaddress.ip_address(entry))
            except ValueError:
                self._literals.add(entry)  # "unix:", a host name: compared as text
        self._memo: dict[str, bool] = {}

    def trusts(self, host: str) -> bool:
        """Whether `host` is a proxy whose forwarding headers count. Memoized: a pod sees
        a handful of peers (the ingress controllers), asked about on every request."""
        known = self._memo.get(host)
        if known is None:
            known = self._decide(host)
            if len(self._memo) >= _MEMO_MAX:
                self._memo.clear()
            self._memo[host] = known
        return known

    def _decide(self, host: str) -> bool:
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return host in self._literals
        return address in self._addresses or any(address in n for n in self._networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The visitor's address: `peer`, unless a trusted proxy forwarded the request."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hosts = [host.strip() for host in forwarded_for.split(",")]
        for host in reversed(hosts):
            if host and (self.everyone or not self.trusts(host)):
                return host
        return hosts[0] or peer


class ProxyHeaders:
    """ASGI middleware: `client` and `scheme` of the scope as a trusted proxy gives them."""

    def __init__(self, app: Any, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self.proxies.trusts(client[0]):
            forwarded_for = forwarded_proto = ""
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    # Several headers are one list, in order (RFC 9110, section 5.3).
                    text = value.decode("latin-1")
                    forwarded_for = f"{forwarded_for}, {text}" if forwarded_for else text
                elif name == b"x-forwarded-proto" and not forwarded_proto:
                    forwarded_proto = value.decode("latin-1").strip().lower()
            if forwarded_proto in ("http", "https"):
                if scope["type"] == "websocket":
                    forwarded_proto = "wss" if forwarded_proto == "https" else "ws"
                scope["scheme"] = forwarded_proto
            if forwarded_for:
                scope["client"] = (self.proxies.client(client[0], forwarded_for), 0)
        await self.app(scope, receive, send)
