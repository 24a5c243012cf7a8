"""What every request to the web server passes first, before socket.io or FastAPI sees it.

python-socketio's `ASGIApp` answers `/socket.io/` itself, so FastAPI's middleware (the HTTP
rate limit, headers) never sees the shopper channel. This wrapper sits in front of both:

- a new socket.io connection (an engine.io handshake: `/socket.io/` without `sid`, by
  polling or straight over a WebSocket) counts against its address's limit per minute; over
  it, the answer is HTTP 429 with Retry-After and a short JSON message, before socket.io
  allocates anything;
- every HTTP response gets the page headers (CSP with `frame-ancestors 'none'`, nosniff, a
  referrer policy) unless it set its own, so no page can be framed or sniffed, including the
  static files FastAPI's `StaticFiles` serves.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from web.limits import MINUTE_S, SlidingWindow
from web.shopper import client_address

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SOCKET_IO_PATH = "/socket.io/"
TOO_MANY_CONNECTS = "Too many new chat connections from your address. Please wait a minute."
WEBSOCKET_DENIAL = "websocket.http.response"  # the ASGI extension for a real HTTP refusal
POLICY_VIOLATION = 1008  # WebSocket close code, where the server cannot answer with HTTP


def is_handshake(scope: Scope) -> bool:
    """A request that opens a new engine.io session: under /socket.io/ and without `sid`."""
    path = str(scope.get("path", ""))
    if not (path if path.endswith("/") else path + "/").startswith(SOCKET_IO_PATH):
        return False
    if scope["type"] == "http" and scope.get("method") != "GET":
        return False  # engine.io refuses a POST without sid by itself
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    return "sid" not in query


def environ_of(scope: Scope) -> dict[str, Any]:
    """The request as python-engineio hands it to socket.io's `connect` (the ASGI scope, the
    headers as HTTP_*), so `client_address` finds the same address here as there."""
    environ: dict[str, Any] = {"asgi.scope": scope}
    for raw_name, raw_value in scope.get("headers", ()):
        name = "HTTP_" + raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        environ[name] = f"{environ[name]},{value}" if name in environ else value
    return environ


class Gate:
    """The ASGI app the server runs: `app` (socket.io in front of FastAPI) behind the
    handshake limit, with `headers` added to every HTTP response."""

    def __init__(self, app: ASGIApp, headers: Mapping[str, str], connects_per_minute: int) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.handshakes = SlidingWindow(connects_per_minute, MINUTE_S)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        if is_handshake(scope):
            address = client_address(environ_of(scope))
            if not self.handshakes.allow(address):
                await self.refuse(scope, receive, send, self.handshakes.retry_after(address))
                return
        await self.app(scope, receive, self.with_headers(send) if scope["type"] == "http" else send)

    def with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {bytes(name).lower() for name, _ in message.get("headers", ())}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        return sending

    async def refuse(self, scope: Scope, receive: Receive, send: Send, wait: int) -> None:
        """HTTP 429 with Retry-After; over a WebSocket without the denial extension, a close
        before the upgrade (the client sees the handshake fail and backs off)."""
        body = json.dumps({"error": TOO_MANY_CONNECTS, "retry_after": wait}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(wait).encode()),
            # the widget on a shop's own origin may read why (it says so politely)
            (b"access-control-allow-origin", b"*"),
            *self.headers,
        ]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await receive()  # websocket.connect
        if WEBSOCKET_DENIAL in scope.get("extensions", {}):
            start = {"type": "websocket.http.response.start", "status": 429, "headers": headers}
            await send(start)
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await send({"type": "websocket.close", "code": POLICY_VIOLATION})
