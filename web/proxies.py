"""Who is asking, and over which scheme, when a reverse proxy may stand in between.

`X-Forwarded-For` and `X-Forwarded-Proto` are ordinary request headers: anyone can send them.
They are believed only when the connection comes from a proxy the operator named in
SHOPDESK_TRUSTED_PROXIES; from anyone else they are ignored, so a client cannot pick an
address to dodge a rate limit or a sign-in throttle. `ForwardedHeaders` settles both once per
request, before socket.io or FastAPI see it, and `client_address` is the one place every rate
limit reads the result from (the HTTP limit, the sign-in throttle and the shopper's socket).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, MutableMapping
from typing import Any, TypeAlias

from starlette.types import ASGIApp, Receive, Scope, Send

Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
TrustedProxies: TypeAlias = tuple[Network, ...]

NO_PROXIES: TrustedProxies = ()
# A chain longer than this is not a real deployment; reading further only costs time.
MAX_FORWARDED_HOPS = 16
FORWARDED_SCHEMES = {"http", "https"}
PEER_KEY = "shopdesk.peer"  # the direct peer, kept in the scope for logs and tests


def parse_trusted_proxies(raw: str) -> TrustedProxies:
    """`"127.0.0.1, 10.0.0.0/8, ::1"` as networks; ValueError names an entry that is not one.

    Only addresses, not host names: a name would be looked up on every request, and whoever
    controls its DNS would decide whom we trust.
    """
    networks: list[Network] = []
    for entry in (part.strip() for part in raw.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network (like 127.0.0.1 or 10.0.0.0/8)"
            ) from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    """An IP address from a peer or a forwarded hop (`1.2.3.4`, `1.2.3.4:80`, `[::1]:80`)."""
    text = text.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return address


def is_trusted(peer: str, trusted: TrustedProxies) -> bool:
    address = _address(peer)
    return address is not None and any(address in network for network in trusted)


def forwarded_client(peer: str, forwarded_for: Iterable[str], trusted: TrustedProxies) -> str:
    """The client's address: `peer`, unless `peer` is a trusted proxy.

    Then the `X-Forwarded-For` hops are read from the right (each proxy appends the address it
    saw) and the first one that is not a trusted proxy is the client; whatever stands left of
    it was written by that client and is ignored. A malformed hop ends the walk at the last
    address a trusted proxy vouched for.
    """
    if not is_trusted(peer, trusted):
        return peer
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer
    for hop in reversed(hops[-MAX_FORWARDED_HOPS:]):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not any(address in network for network in trusted):
            break
    return client


def forwarded_scheme(
    peer: str, scheme: str, forwarded_proto: str | None, trusted: TrustedProxies
) -> str:
    """`scheme` as the client used it: a trusted proxy's `X-Forwarded-Proto` (its last value),
    else the connection's own. WebSocket scopes keep their kind (wss for https)."""
    if forwarded_proto is None or not is_trusted(peer, trusted):
        return scheme
    claimed = forwarded_proto.split(",")[-1].strip().lower()
    if claimed not in FORWARDED_SCHEMES:
        return scheme
    return claimed.replace("http", "ws") if scheme in {"ws", "wss"} else claimed


def _headers(scope: Scope, name: bytes) -> list[str]:
    return [
        value.decode("latin-1") for key, value in scope.get("headers") or () if key.lower() == name
    ]


def _peer(scope: Scope) -> str:
    client = scope.get("client") or ()
    return str(client[0]) if client else ""


class ForwardedHeaders:
    """ASGI middleware: the scope's `client` and `scheme` become the real client's, under the
    rule above. It wraps socket.io and FastAPI together, so both see the same answer."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"}:
            scope = resolved_scope(scope, self.trusted)
        await self.app(scope, receive, send)

    def __getattr__(self, name: str) -> Any:  # the wrapped app's own attributes stay reachable
        return getattr(self.app, name)


def resolved_scope(scope: Scope, trusted: TrustedProxies) -> Scope:
    """A copy of `scope` with the client and scheme a trusted proxy vouched for."""
    peer = _peer(scope)
    resolved: MutableMapping[str, Any] = dict(scope)
    resolved[PEER_KEY] = peer
    if not is_trusted(peer, trusted):
        return resolved
    proto = _headers(scope, b"x-forwarded-proto")
    resolved["scheme"] = forwarded_scheme(
        peer, str(scope.get("scheme", "http")), proto[-1] if proto else None, trusted
    )
    client = forwarded_client(peer, _headers(scope, b"x-forwarded-for"), trusted)
    port = (scope.get("client") or (None, 0))[1] if client == peer else 0
    resolved["client"] = (client, port)
    return resolved


def client_address(scope: Scope) -> str:
    """The address every per-client limit counts: the peer, or the client behind a trusted
    proxy once `ForwardedHeaders` has run. Never a header the client wrote itself."""
    return _peer(scope)


def is_https(scope: Scope) -> bool:
    """Whether the client reached us over TLS (directly or through a trusted proxy)."""
    return scope.get("scheme") in {"https", "wss"}
