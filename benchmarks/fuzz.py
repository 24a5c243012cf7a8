"""Fuzz: hostile requests, bounded in count and time, against a live stack on loopback.

`python -m benchmarks.fuzz` starts a fresh stack (free ports, temporary databases, an admin
with a random password), then sends generated requests (hypothesis) to three targets:

- `web`: every HTTP route of the web server's route table, anonymous: random methods, path
  parameters (traversal, NUL, huge, unicode), query strings, bodies and content types;
- `web-admin`: the same routes with a signed-in admin's session and CSRF token, so requests
  get past the sign-in check to the code that parses bodies, dates and conversation ids;
- `rasa-rest`: Rasa's REST channel (`POST /webhooks/rest/webhook`) with random and hostile
  JSON: Rasa's raw `/intent{...}` syntax and built-in commands, huge and unicode texts (lone
  surrogates too), odd senders and metadata, and bodies that are not JSON at all.

It passes when no answer is a server error (5xx) or a dropped connection, and every process of
the stack still answers its health check afterwards. The counts per target, the statuses seen
and the time go to benchmarks/results/fuzz.md. tests/security/test_fuzz_live.py runs the same
targets, smaller, in `make test`; tests/web/test_fuzz.py fuzzes the console API in process.

The route table comes from the app itself (`web.app.create_app`), so a new route is fuzzed
without a change here; tests/security/test_route_matrix.py reads the same table.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st
from starlette.routing import Mount

from launcher.fresh import fresh_config
from launcher.stack import ROOT, Stack, StackConfig, missing_environments, prepare

RESULTS = Path(__file__).resolve().parent / "results" / "fuzz.md"
LOG_DIR = ROOT / "var" / "logs" / "fuzz"
DEFAULT_CASES = 300
DEFAULT_BUDGET_S = 60.0
REQUEST_TIMEOUT_S = 60.0
SERVER_ERROR = 500
DROPPED = 0  # the "status" of a request whose connection failed: the server crashed or hung
EXAMPLES_KEPT = 5  # failing requests kept per target for the report
# The web server limits requests per client address (web/app.py, 300 a minute). Each target
# speaks from its own loopback addresses, a new one every REQUESTS_PER_ADDRESS requests, so
# the fuzz reaches the routes instead of the limiter (a 429 would still be a fine answer).
REQUESTS_PER_ADDRESS = 100
ADDRESSES_PER_TARGET = 40
FRESH_SENDER = "<fresh sender>"  # replaced by a new conversation id when the case is sent
ALL_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
WITH_BODY = frozenset({"POST", "PUT", "DELETE", "PATCH"})
# Not fuzzed with a session: logging out would end it (the anonymous target covers both).
SESSION_ROUTES = frozenset({("POST", "/agent/api/login"), ("POST", "/agent/api/logout")})

# Rasa's own syntax and commands: a shopper must never reach Rasa with these (issue 17).
RASA_SYNTAX = [
    "/restart", "/back", "/session_start", "/stop", "/greet", "/",
    '/track_order{"order_number":"000000001","email":"ava.thompson@example.com"}',
    '/track_order{"order_number":', "/EXTERNAL_handoff_timeout", "/handoff_timeout",
    '/rate_5{"x": [1, 2, {"y": null}]}', "/nlu_fallback", '/{"": ""}', "/" + "a" * 300,
]  # fmt: skip
HOSTILE_TEXTS = [
    "\x00", "\x00" * 100, "<script>alert(document.cookie)</script>", "{{7*7}} ${jndi:ldap://x}",
    "%s%s%s%n", "\u202eredro ym si erehw", "' OR 1=1 --", "a" * 20_000,
    "\U0001f600" * 3000, "\ud800", "abc\udfffdef", "\r\n\r\nHTTP/1.1 200 OK", "\t \n ",
    "..\\..\\..\\etc\\passwd", "../../../../etc/passwd", "ﷺ" * 500, "𝕳𝖊𝖑𝖑𝖔",
]  # fmt: skip
PATH_VALUES = [
    "..", ".", "%2e%2e", "0", "-1", "999999999999999999999", "x" * 3000, "\x00", "a/b",
    "../../etc/passwd", "🙂", "' OR 1=1 --", "${jndi:x}", "%", "%zz", " ", "\ud800",
]  # fmt: skip
QUERY_KEYS = ["from", "to", "table", "token", "after_seq", "seq", "x"]
JSON_FIELDS = ["text", "seq", "intent", "new_intent", "username", "password", "session_id"]
CONTENT_TYPES = [
    "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/json; charset=utf-16", "",
]  # fmt: skip

TEXTS = st.text(max_size=300) | st.sampled_from(RASA_SYNTAX + HOSTILE_TEXTS)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXTS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)


@dataclass(frozen=True)
class Case:
    """One generated request."""

    method: str
    path: str  # with its query string, percent-encoded
    body: bytes | None = None
    content_type: str = ""
    csrf: bool = True  # with a session: whether the CSRF header goes too


@dataclass
class TargetReport:
    """What one target answered: counts by status, and the requests that broke something."""

    name: str
    planned: int
    cases: int = 0
    seconds: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= SERVER_ERROR or not status)

    def record(self, case: Case, status: int, detail: str = "") -> None:
        self.cases += 1
        self.statuses[status] += 1
        if (status >= SERVER_ERROR or status == DROPPED) and len(self.failures) < EXAMPLES_KEPT:
            self.failures.append(f"{status} {case.method} {case.path[:120]!r} {detail[:200]}")


@dataclass(frozen=True)
class Target:
    name: str
    cases: st.SearchStrategy[Case]
    send: Callable[[Case], tuple[int, str]]
    # sent first on every run, whatever the seed: what an earlier run found
    known: tuple[Case, ...] = ()


REST = "/webhooks/rest/webhook"
# Each broke Rasa once: a 500, or (the lone surrogate as sender) Rasa's SQL tracker store
# exiting the whole process. Fixed in bot/shopdesk_rasa/channels.py (`refuse_malformed`).
KNOWN_REST_BODIES: tuple[Any, ...] = (
    {"sender": "\ud800", "message": "hi"},
    {"sender": "a\x00b", "message": "hi"},
    {"sender": "x" * 300, "message": "hi"},
    {"sender": FRESH_SENDER, "message": "\udfff"},
    {"sender": FRESH_SENDER, "message": {"text": "hi"}},
    {"sender": FRESH_SENDER, "message": ["hi"]},
    {"sender": FRESH_SENDER, "message": "hi", "input_channel": {}},
    {"sender": FRESH_SENDER, "message": "/restart", "metadata": {"raw_intents": True}},
    {"message": "hi"}, None, [], 7, "hi",
)  # fmt: skip
KNOWN_REST = tuple(
    Case("POST", REST, json.dumps(body).encode(), "application/json") for body in KNOWN_REST_BODIES
)
# Each was a 500 once (dates whose range leaves the calendar); fixed in analytics/report.py.
KNOWN_WEB_ADMIN = (
    Case("GET", "/agent/api/analytics?to=0001-01-05"),
    Case("GET", "/agent/api/analytics.csv?from=9999-12-30&to=9999-12-31"),
)


# ------------------------------------------------------------------ the web server's routes


def route_app() -> Any:
    """The web server's ASGI app as `python -m web serve` builds it, for its route table only
    (never started: no database or Rasa is touched)."""
    from web.app import create_app
    from web.settings import WebSettings

    settings = WebSettings(rasa_urls=("http://127.0.0.1:9",), rasa_token="route-table-only")
    return create_app(settings, "sqlite://", secrets.token_urlsafe(48).encode())


WRAPPERS_AT_MOST = 10


def socketio_app(asgi_app: Any) -> Any:
    """The socket.io app inside the middleware that wraps it (each keeps the next in `app`)."""
    found = asgi_app
    for _ in range(WRAPPERS_AT_MOST):
        if hasattr(found, "other_asgi_app"):
            return found
        found = getattr(found, "app", None)
    raise LookupError("no socket.io app (with FastAPI as other_asgi_app) inside the web app")


def http_routes(asgi_app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route of the FastAPI app inside the socket.io app; a mounted
    folder is one `GET <mount>/{path}` route. HEAD is left out: it answers as GET does."""
    routes: list[tuple[str, str]] = []
    for route in flat_routes(socketio_app(asgi_app).other_asgi_app.routes):
        if isinstance(getattr(route, "original_route", route), Mount):
            routes.append(("GET", f"{route.path}/{{path}}"))
            continue
        routes += [(method, route.path) for method in sorted(set(route.methods) - {"HEAD"})]
    return sorted(set(routes))


def flat_routes(routes: Sequence[Any]) -> Iterator[Any]:
    """Every route, those of included routers too: newer FastAPI keeps an included router as
    one lazy entry, and `iter_route_contexts` lists its routes with their full paths."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # an older FastAPI: included routes are copied in, already flat
        yield from routes
        return
    yield from iter_route_contexts(routes)


def socket_events(asgi_app: Any) -> list[tuple[str, str]]:
    """(namespace, event) of every socket.io handler, functions and namespace classes."""
    sio = socketio_app(asgi_app).engineio_server
    events = {(ns, event) for ns, handlers in sio.handlers.items() for event in handlers}
    for ns, handler in getattr(sio, "namespace_handlers", {}).items():
        events |= {(ns, name[3:]) for name in dir(handler) if name.startswith("on_")}
    return sorted(events)


def fill_path(template: str, value: Callable[[str], str]) -> str:
    """The template with each `{name}` replaced by `value(name)`."""
    path = template
    while "{" in path:
        start = path.index("{")
        end = path.index("}", start)
        path = path[:start] + value(path[start + 1 : end]) + path[end + 1 :]
    return path


@st.composite
def web_cases(draw: st.DrawFn, routes: Sequence[tuple[str, str]]) -> Case:
    method, template = draw(st.sampled_from(list(routes)))
    if draw(st.integers(0, 9)) == 0:  # now and then a method the route does not take
        method = draw(st.sampled_from(ALL_METHODS))

    def value(name: str) -> str:
        raw = draw(st.text(min_size=1, max_size=60) | st.sampled_from(PATH_VALUES))
        # a mounted folder's {path} keeps its slashes: traversal is the point there
        return escape(raw, safe="/" if name == "path" else "")

    path = fill_path(template, value)
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(QUERY_KEYS) | st.text(max_size=8),
                st.dates().map(str) | st.text(max_size=40) | st.sampled_from(PATH_VALUES),
            ),
            max_size=3,
        )
    )
    if pairs:
        path += "?" + "&".join(f"{escape(k)}={escape(v)}" for k, v in pairs)
    body = draw(bodies()) if method in WITH_BODY else None
    return Case(
        method, path, body=body, content_type=draw(st.sampled_from(CONTENT_TYPES)),
        csrf=draw(st.integers(0, 9)) > 0,
    )  # fmt: skip


def bodies() -> st.SearchStrategy[bytes]:
    fields = st.dictionaries(st.sampled_from(JSON_FIELDS), JSON | TEXTS, max_size=4)
    return st.one_of(
        fields.map(encode),
        JSON.map(encode),
        st.binary(max_size=2000),
        st.sampled_from(["", "{", "null", "[]", '{"text": "' + "x" * 100_000 + '"}']).map(
            str.encode
        ),
    )


def escape(text: str, safe: str = "") -> str:
    """Percent-encoded UTF-8, lone surrogates too (as their raw bytes: a hostile client's)."""
    return quote(text, safe=safe, errors="surrogatepass")


def encode(value: Any) -> bytes:
    """JSON as a client would send it; lone surrogates go as \\ud800 escapes (valid JSON)."""
    return json.dumps(value).encode()


# ------------------------------------------------------------------ Rasa's REST channel


SHAPED_IN_TEN = 7  # of ten REST cases, this many are well-formed messages
METADATA = JSON | st.fixed_dictionaries(
    {},
    optional={
        key: JSON | TEXTS
        for key in ("agent_present", "display_text", "message_id", "is_external", "raw_intents",
                    "client", "received_at")
    },
)  # fmt: skip


@st.composite
def rest_bodies(draw: st.DrawFn) -> Case:
    """Mostly well-formed messages from a new conversation each (so most cases reach the bot:
    hostile texts, metadata claiming what only the server may say), the rest odd senders and
    malformed bodies."""
    if draw(st.integers(0, 9)) < SHAPED_IN_TEN:
        sender = FRESH_SENDER
        if draw(st.integers(0, 4)) == 0:  # now and then an odd sender id
            sender = draw(st.text(max_size=40) | st.sampled_from(PATH_VALUES))
        body: dict[str, Any] = {"sender": sender, "message": draw(TEXTS)}
        body |= draw(
            st.fixed_dictionaries({}, optional={"metadata": METADATA, "input_channel": TEXTS})
        )
        raw = encode(body)
    else:
        raw = draw(
            st.dictionaries(
                st.sampled_from(["sender", "message", "metadata"]), JSON, max_size=3
            ).map(encode)
            | JSON.map(encode)
            | st.binary(max_size=500)
        )
    content_type = draw(st.sampled_from(["application/json", "application/json", "text/plain", ""]))
    return Case("POST", REST, raw, content_type)


def fresh_senders(body: bytes | None) -> bytes | None:
    """A new conversation per case where the case asked for one (hypothesis cannot make a
    uuid, and one shared conversation would soon be paused by a handoff)."""
    if body is None or FRESH_SENDER.encode() not in body:
        return body
    return body.replace(FRESH_SENDER.encode(), f"fuzz-{uuid.uuid4().hex[:12]}".encode())


# ------------------------------------------------------------------ sending


class Clients:
    """httpx clients on loopback addresses of their own (127.0.0.<first_octet + n>, up to
    ADDRESSES_PER_TARGET of them), a new one every REQUESTS_PER_ADDRESS requests, sharing
    cookies (a signed-in session)."""

    def __init__(self, base_url: str, first_octet: int) -> None:
        self.base_url = base_url
        self.first_octet = first_octet
        self.cookies = httpx.Cookies()
        self.sent = 0
        self.client = self._new()

    def _new(self) -> httpx.Client:
        octet = self.first_octet + (self.sent // REQUESTS_PER_ADDRESS) % ADDRESSES_PER_TARGET
        return httpx.Client(
            base_url=self.base_url,
            transport=httpx.HTTPTransport(local_address=f"127.0.0.{octet}"),
            timeout=REQUEST_TIMEOUT_S,
            cookies=self.cookies,
        )

    def request(self, case: Case, headers: dict[str, str]) -> httpx.Response:
        if self.sent and self.sent % REQUESTS_PER_ADDRESS == 0:
            self.cookies = self.client.cookies
            self.client.close()
            self.client = self._new()
        self.sent += 1
        return self.client.request(
            case.method, case.path, content=case.body,
            headers={**headers, "Content-Type": case.content_type} if case.content_type
            else headers,
        )  # fmt: skip

    def close(self) -> None:
        self.client.close()


def sender(clients: Clients, csrf_token: str = "") -> Callable[[Case], tuple[int, str]]:
    def send(case: Case) -> tuple[int, str]:
        headers = {"X-CSRF-Token": csrf_token} if csrf_token and case.csrf else {}
        try:
            response = clients.request(replace(case, body=fresh_senders(case.body)), headers)
        except httpx.HTTPError as error:
            return DROPPED, type(error).__name__
        return response.status_code, response.text[:200]

    return send


def sign_in(clients: Clients, username: str, password: str) -> str:
    """Signs the clients in to the console; the session's CSRF token."""
    response = clients.client.post(
        "/agent/api/login", json={"username": username, "password": password}
    )
    response.raise_for_status()
    return str(response.json().get("csrf_token") or "")


def run_target(target: Target, cases: int, budget_s: float, seed_value: int) -> TargetReport:
    """Up to `cases` generated requests, for at most `budget_s` seconds. Failures are
    collected, not raised, so one run shows them all with the counts."""
    report = TargetReport(target.name, cases)
    stop_at = time.monotonic() + budget_s

    @seed(seed_value)
    @settings(
        max_examples=cases, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )  # fmt: skip
    @given(target.cases)
    def one(case: Case) -> None:
        if time.monotonic() > stop_at:
            return
        status, detail = target.send(case)
        report.record(case, status, detail)

    for known in target.known:
        one = example(known)(one)

    started = time.monotonic()
    one()
    report.seconds = round(time.monotonic() - started, 1)
    return report


@contextmanager
def targets(stack: Stack, admin: tuple[str, str], first_octet: int = 100) -> Iterator[list[Target]]:
    """The three targets against `stack`; `admin` is (username, password) of an admin."""
    config = stack.config
    routes = http_routes(route_app())
    anonymous = Clients(config.web_url, first_octet)
    signed = Clients(config.web_url, first_octet + ADDRESSES_PER_TARGET)
    rasa = Clients(config.rasa_url, first_octet + 2 * ADDRESSES_PER_TARGET)
    try:
        csrf = sign_in(signed, *admin)
        yield [
            Target("web", web_cases(routes), sender(anonymous)),
            Target(
                "web-admin",
                web_cases([r for r in routes if r not in SESSION_ROUTES]),
                sender(signed, csrf),
                KNOWN_WEB_ADMIN,
            ),
            Target("rasa-rest", rest_bodies(), sender(rasa), KNOWN_REST),
        ]
    finally:
        for clients in (anonymous, signed, rasa):
            clients.close()


def unhealthy(stack: Stack) -> list[str]:
    """The stack's services that no longer answer their health check (or have exited)."""
    down = []
    for name in stack.services:
        try:
            if not stack.is_healthy(name):
                down.append(name)
        except RuntimeError as error:  # StackError: the process exited
            down.append(f"{name} ({str(error)[:200]})")
    return down


def run_all(
    stack: Stack, admin: tuple[str, str], cases: int, budget_s: float, seed_value: int
) -> list[TargetReport]:
    with targets(stack, admin) as chosen:
        return [run_target(target, cases, budget_s, seed_value) for target in chosen]


# ------------------------------------------------------------------ the report


def statuses_text(statuses: Counter[int]) -> str:
    return ", ".join(
        f"{'dropped' if s == DROPPED else s}: {n}" for s, n in sorted(statuses.items())
    )


def markdown(reports: Sequence[TargetReport], down: Sequence[str], about: dict[str, Any]) -> str:
    passed = not down and not any(r.failed for r in reports)
    lines = [
        "# Fuzz run",
        "",
        f"`{about['command']}` on {about['cores']} cores, seed {about['seed']}, "
        f"at most {about['cases']} cases and {about['budget_s']:g} s per target, loopback only. "
        "Generated by benchmarks/fuzz.py.",
        "",
        "| target | cases sent | seconds | 5xx or dropped | statuses seen |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {r.name} | {r.cases} | {r.seconds:g} | {r.failed} | {statuses_text(r.statuses)} |"
        for r in reports
    ]
    health = (
        f"Unhealthy afterwards: {', '.join(down)}."
        if down
        else "Every process of the stack answered its health check afterwards."
    )
    lines += ["", f"Result: **{'pass' if passed else 'FAIL'}**. {health}"]
    for report in reports:
        lines += [f"- {report.name}: `{failure}`" for failure in report.failures]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ the command


def options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.fuzz",
        description="Fuzz a fresh ShopDesk stack on loopback (the web server's routes, "
        "anonymous and as an admin, and Rasa's REST channel): no 5xx, no crash. Writes the "
        "counts to benchmarks/results/fuzz.md.",
    )
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES, help="cases per target")
    parser.add_argument(
        "--budget-s", type=float, default=DEFAULT_BUDGET_S, help="seconds at most per target"
    )
    parser.add_argument("--seed", type=int, help="hypothesis seed (default: a random one)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the markdown report")
    args = parser.parse_args(argv)
    if args.cases < 1 or args.budget_s <= 0:
        parser.error("--cases and --budget-s must be above 0")
    return args


def fuzz_stack(work: Path) -> tuple[StackConfig, tuple[str, str]]:
    """A fresh stack's config with an admin of a random password (given by environment)."""
    admin = ("fuzzadmin", secrets.token_urlsafe(24))
    config = fresh_config(work, LOG_DIR)
    extra = {"SHOPDESK_ADMIN_USERNAME": admin[0], "SHOPDESK_ADMIN_PASSWORD": admin[1]}
    return replace(config, extra_env={**config.extra_env, **extra}), admin


def main(argv: Sequence[str] | None = None) -> int:
    args = options(argv)
    seed_value = args.seed if args.seed is not None else secrets.randbelow(2**32)
    with tempfile.TemporaryDirectory(prefix="shopdesk-fuzz-") as work:
        config, admin = fuzz_stack(Path(work))
        if missing := missing_environments(config):
            print("fuzz: missing " + ", ".join(missing), file=sys.stderr)
            return 2
        prepare(config)
        with Stack(config) as stack:
            reports = run_all(stack, admin, args.cases, args.budget_s, seed_value)
            down = unhealthy(stack)
    about = {
        "command": f"python -m benchmarks.fuzz --cases {args.cases} --budget-s {args.budget_s:g}"
        f" --seed {seed_value}",
        "cores": os.cpu_count(), "seed": seed_value, "cases": args.cases,
        "budget_s": args.budget_s,
    }  # fmt: skip
    text = markdown(reports, down, about)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0 if not down and not any(r.failed for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
