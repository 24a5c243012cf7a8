"""A local HTTP server that answers with recorded payloads, for the connectors' contract tests.

Shopify and Magento cannot run here, so their connectors are tested against the payloads the
platforms document (tests/connectors/fixtures/<platform>/, each file naming its source), served
over real HTTP by this server: the connector's own client, headers, timeouts and retries are
exercised as they would be against a live store. Each route matches a method and a path regex
(and, for GraphQL, a predicate on the request body) and answers a status and a JSON body; every
request is kept in `requests` for the tests to check what the connector sent.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass(frozen=True)
class Received:
    method: str
    path: str  # with its query string
    headers: dict[str, str]
    body: Any  # decoded JSON, or the raw text, or None


Answer = tuple[int, Any]  # status, JSON-able body (None: no body)


@dataclass
class Route:
    method: str
    path: str  # a regex matched against the whole path (query string excluded)
    answer: Answer | Callable[[Received], Answer]
    when: Callable[[Received], bool] | None = None  # e.g. a GraphQL operation's name
    times: int | None = None  # answer this many times, then let later routes answer

    def matches(self, request: Received) -> bool:
        if self.times == 0 or request.method != self.method:
            return False
        if not re.fullmatch(self.path, request.path.split("?", 1)[0]):
            return False
        return self.when is None or self.when(request)


@dataclass
class ReplayServer:
    routes: list[Route] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    def add(self, route: Route) -> None:
        self.routes.insert(0, route)  # the latest added wins, so a test can override

    def answer(self, request: Received) -> Answer:
        self.requests.append(request)
        for route in self.routes:
            if route.matches(request):
                if route.times is not None:
                    route.times -= 1
                return route.answer(request) if callable(route.answer) else route.answer
        return 404, {"message": f"no recorded answer for {request.method} {request.path}"}


def fixture(platform: str, name: str) -> Any:
    """A recorded payload: tests/connectors/fixtures/<platform>/<name>.json's `payload`
    (each file also holds `source`, where the documentation shows it)."""
    data = json.loads((FIXTURES / platform / f"{name}.json").read_text(encoding="utf-8"))
    return data["payload"] if isinstance(data, dict) and "payload" in data else data


def _handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            received = Received(self.command, self.path, dict(self.headers.items()), body)
            status, payload = server.answer(received)
            data = b"" if payload is None else json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return Handler


@contextmanager
def replaying(*routes: Route) -> Iterator[ReplayServer]:
    """A ReplayServer on a free local port for the `with` block."""
    server = ReplayServer(list(routes))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
