"""The access matrix: every HTTP route and every socket.io event of the web server, for each
kind of caller (no credentials, a shopper with a widget session, an agent, an admin), with the
answer each must get, replayed against the running stack; and every route of Rasa, the action
server and the classifier for a caller without their secret.

The routes and events are read from the apps' own tables (`web.app.create_app`'s FastAPI routes
and socket.io handlers, Rasa's and rasa_sdk's route tables, the classifier's schema), so a new
route or event that nobody decided on fails `test_every_route_and_event_has_a_decision`.

What the roles hold:
- none: nothing (a stranger's browser or script);
- shopper: the signed widget session id of a conversation it started over the widget's socket,
  the one credential a shopper has; it sends it as the console's cookie and CSRF header too;
- agent, admin: a console session (cookie and CSRF header), signed in with their passwords.

Path parameters are real: conversation ids the widget created and that asked for a person,
and the number of a typed shopper message. Each role works its own conversations, in the
table's order (take, reply, note, mark a message, withdraw the mark, hand back; `close`
finishes a second conversation), and signs out last.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import socketio

from benchmarks.fuzz import fill_path, http_routes, route_app, socket_events
from launcher.stack import Stack
from tests.security.conftest import ADMIN, AGENT

NONE, SHOPPER, AGENT_ROLE, ADMIN_ROLE = "none", "shopper", "agent", "admin"
ROLES = (NONE, SHOPPER, AGENT_ROLE, ADMIN_ROLE)
CONVERSATION = "/agent/api/conversations/{conversation_id}"
AGENT_ACCOUNT = "/agent/api/agents/{agent_id}"
# The matrix speaks from its own loopback address, so that the limits per address (HTTP
# requests, socket connects) that other live tests use up do not decide its cells.
ADDRESS = "127.0.0.21"
WIDGET_CLIENT = "shopdesk-widget"  # web/static/widget/connection.js's socket.io `auth.client`
ASK_FOR_A_PERSON = "I want to talk to a human"
HANDED_OVER = "asked a person from our support team"
REPLY_WAIT_S = 60.0  # a bot reply on a loaded two-core machine
SILENCE_S = 1.5  # how long an ignored socket event must stay unanswered
NEW_INTENT = "access_matrix_probe"


def everyone(answer: Any) -> dict[str, Any]:
    return dict.fromkeys(ROLES, answer)


def console(agent: int, admin: int) -> dict[str, int]:
    """A console API route: signed-out callers and shoppers get 401."""
    return {NONE: 401, SHOPPER: 401, AGENT_ROLE: agent, ADMIN_ROLE: admin}


# Every HTTP route of the web server: the status each role gets. Run in this order per role.
HTTP_EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/"): everyone(200),
    ("GET", "/agent/"): everyone(200),
    ("GET", "/widget.js"): everyone(200),
    ("GET", "/static/{path}"): everyone(200),
    ("GET", "/static/vendor/socket.io.min.js"): everyone(200),
    ("GET", "/static/vendor/chart.umd.js"): everyone(200),
    ("GET", "/health"): everyone(200),
    # FastAPI's schema of the console API (paths only, no data); docs pages are off
    ("GET", "/openapi.json"): everyone(200),
    # an unknown confirmation token changes nothing, for anyone
    ("GET", "/newsletter/confirm"): everyone(404),
    # each role's own credentials; a shopper tries its session id as name and password
    ("POST", "/agent/api/login"): {NONE: 401, SHOPPER: 401, AGENT_ROLE: 200, ADMIN_ROLE: 200},
    ("GET", "/agent/api/me"): console(200, 200),
    ("GET", "/agent/api/queue"): console(200, 200),
    ("GET", "/agent/api/intents"): console(200, 200),
    ("GET", "/agent/api/audit"): console(403, 200),
    ("GET", "/agent/api/analytics"): console(403, 200),
    ("GET", "/agent/api/analytics.csv"): console(403, 200),
    ("GET", CONVERSATION): console(200, 200),
    ("POST", f"{CONVERSATION}/take"): console(200, 200),
    ("POST", f"{CONVERSATION}/reply"): console(200, 200),
    ("POST", f"{CONVERSATION}/note"): console(200, 200),
    ("POST", f"{CONVERSATION}/corrections"): console(200, 200),
    ("DELETE", f"{CONVERSATION}/corrections/{{seq}}"): console(200, 200),
    ("POST", f"{CONVERSATION}/hand_back"): console(200, 200),
    ("POST", f"{CONVERSATION}/close"): console(200, 200),
    # agent accounts (web/console/agents_admin.py): each role's {agent_id} is its own account,
    # so the admin's cells change nothing that other cells need (disabling oneself: 400)
    ("GET", "/agent/api/agents"): console(403, 200),
    ("POST", "/agent/api/agents"): console(403, 201),
    ("POST", f"{AGENT_ACCOUNT}/password-link"): console(403, 200),
    ("POST", f"{AGENT_ACCOUNT}/disable"): console(403, 400),
    ("POST", f"{AGENT_ACCOUNT}/enable"): console(403, 200),
    # a one-time link's page and routes: no session needed; a made-up token is refused
    ("GET", "/agent/set-password"): everyone(200),
    ("POST", "/agent/api/password-link/check"): everyone(410),
    ("POST", "/agent/api/password-link"): everyone(410),
    # the back office (web/console/inbox.py): every agent; item and review 0 never exist, so
    # a signed-in change reaches the route past sign-in and CSRF and changes nothing (404)
    ("GET", "/agent/api/inbox"): console(200, 200),
    ("POST", "/agent/api/inbox/{kind}/{item_id}/status"): console(404, 404),
    ("GET", "/agent/api/reviews/pending"): console(200, 200),
    ("POST", "/agent/api/reviews/{review_id}/moderate"): console(404, 404),
    ("POST", "/agent/api/logout"): console(200, 200),
}

CONNECTED, REFUSED, IGNORED, LEFT = "connected", "refused", "ignored", "left cleanly"


def shopper_only(answer: str) -> dict[str, str]:
    """Answered for the shopper's confirmed session; ignored for a socket without one."""
    return {NONE: IGNORED, SHOPPER: answer, AGENT_ROLE: IGNORED, ADMIN_ROLE: IGNORED}


def staff_only(answer: str) -> dict[str, str]:
    """The console's namespace: a socket without a console session is refused at connect."""
    return {NONE: REFUSED, SHOPPER: REFUSED, AGENT_ROLE: answer, ADMIN_ROLE: answer}


# Every socket.io event handler: what each role's socket sees. On "/", `none` has connected
# without asking for a session, `shopper` has its confirmed session, and an agent's or admin's
# socket carries the console cookie (which must buy nothing there) without a session. An event
# name is the answer that must arrive; IGNORED: nothing within SILENCE_S.
SOCKET_EXPECTED: dict[tuple[str, str], dict[str, str]] = {
    ("/", "connect"): everyone(CONNECTED),
    ("/", "session_request"): everyone("session_confirm"),
    ("/", "history"): shopper_only("history"),
    # a first message without a session starts one (rasa-webchat sends before the confirm)
    ("/", "user_uttered"): everyone("bot_uttered"),
    ("/", "clear_chat"): shopper_only("chat_cleared"),
    ("/", "disconnect"): everyone(LEFT),
    ("/agent", "connect"): staff_only("queue"),
    ("/agent", "disconnect"): staff_only(LEFT),
}
# The data each event is sent with, and the events that count as its answer.
EVENT_DATA: dict[str, Any] = {
    "session_request": {"session_id": None},
    "history": {"after_seq": -1},
    "user_uttered": {"message": "hi", "message_id": "matrix-1"},
    "clear_chat": {},
}
ANSWERS = {
    "session_request": "session_confirm",
    "history": "history",
    "user_uttered": "bot_uttered",
    "clear_chat": "chat_cleared",
}

# Rasa, the action server and the classifier, for a caller without their secret (and with a
# wrong one): only health checks, Rasa's greeting and version, and the shopper's REST channel
# answer. Rasa's `<conversation_id:path>` routes are called with a real conversation id.
INTERNAL_EXPECTED: dict[tuple[str, str, str], int] = {
    ("rasa", "GET", "/"): 200,
    ("rasa", "GET", "/version"): 200,
    ("rasa", "GET", "/status"): 401,
    ("rasa", "GET", "/conversations/{conversation_id}/tracker"): 401,
    ("rasa", "POST", "/conversations/{conversation_id}/tracker/events"): 401,
    ("rasa", "PUT", "/conversations/{conversation_id}/tracker/events"): 401,
    ("rasa", "GET", "/conversations/{conversation_id}/story"): 401,
    ("rasa", "POST", "/conversations/{conversation_id}/execute"): 401,
    ("rasa", "POST", "/conversations/{conversation_id}/trigger_intent"): 401,
    ("rasa", "POST", "/conversations/{conversation_id}/predict"): 401,
    ("rasa", "POST", "/conversations/{conversation_id}/messages"): 401,
    ("rasa", "POST", "/model/train"): 401,
    ("rasa", "POST", "/model/test/stories"): 401,
    ("rasa", "POST", "/model/test/intents"): 401,
    ("rasa", "POST", "/model/predict"): 401,
    ("rasa", "POST", "/model/parse"): 401,
    ("rasa", "PUT", "/model"): 401,
    ("rasa", "DELETE", "/model"): 401,
    ("rasa", "GET", "/domain"): 401,
    ("rasa", "GET", "/webhooks/rest/"): 200,
    ("rasa", "POST", "/webhooks/rest/webhook"): 200,  # the public shopper channel
    ("actions", "GET", "/health"): 200,
    ("actions", "POST", "/webhook"): 401,
    ("actions", "GET", "/actions"): 401,
    ("classifier", "GET", "/health"): 200,
    ("classifier", "POST", "/model/parse"): 401,
    ("classifier", "POST", "/classify"): 401,
    ("classifier", "GET", "/openapi.json"): 401,
    ("classifier", "GET", "/docs"): 401,
    ("classifier", "GET", "/docs/oauth2-redirect"): 401,
    ("classifier", "GET", "/redoc"): 401,
}
# FastAPI's own pages, which its schema does not list (nlu_models/service.py keeps them)
FASTAPI_PAGES = [("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"),
                 ("GET", "/redoc")]  # fmt: skip
SANIC_ROUTE = re.compile(r"@(?:app|custom_webhook)\.(get|post|put|delete|route)\(\s*\"([^\"]*)\"")


# ------------------------------------------------------------------ the route tables


@cache
def web_tables() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    app = route_app()
    return http_routes(app), socket_events(app)


def rasa_routes(rasa_venv: Path) -> list[tuple[str, str]]:
    """Rasa's HTTP API and REST channel routes, read from the installed Rasa's source (Rasa
    runs on Python 3.10 and cannot be imported here)."""
    site = next(rasa_venv.glob("lib/python3*/site-packages/rasa"))
    routes = []
    for method, path in SANIC_ROUTE.findall((site / "server.py").read_text()):
        routes.append((method.upper(), path.replace("<conversation_id:path>", "{conversation_id}")))
    rest = (site / "core" / "channels" / "rest.py").read_text()
    for match in re.finditer(r"@custom_webhook\.route\(\"([^\"]*)\", methods=\[\"(\w+)\"\]", rest):
        routes.append((match[2], "/webhooks/rest" + match[1]))
    return sorted(set(routes))


@cache  # Sanic allows one app of a name per process
def action_server_routes() -> list[tuple[str, str]]:
    """rasa_sdk's app, as actions/server.py wraps it (its middleware adds no route)."""
    from rasa_sdk.endpoint import create_app_for_serve
    from rasa_sdk.executor import ActionExecutor

    app = create_app_for_serve(ActionExecutor(), cors_origins=[])
    return sorted(
        (method, "/" + route.path.lstrip("/"))
        for route in app.router.routes
        for method in route.methods
        if method not in ("HEAD", "OPTIONS")
    )


def classifier_routes(stack: Stack) -> list[tuple[str, str]]:
    """The running classifier's own schema (read with the secret), and FastAPI's pages."""
    config = stack.config
    schema = httpx.get(
        f"{config.nlu_url}/openapi.json",
        headers={"Authorization": f"Bearer {config.internal_token}"},
        timeout=30,
    ).json()
    routes = [(m.upper(), path) for path, methods in schema["paths"].items() for m in methods]
    return sorted(set(routes + FASTAPI_PAGES))


def internal_routes(stack: Stack) -> set[tuple[str, str, str]]:
    return (
        {("rasa", m, p) for m, p in rasa_routes(stack.config.rasa_venv)}
        | {("actions", m, p) for m, p in action_server_routes()}
        | {("classifier", m, p) for m, p in classifier_routes(stack)}
    )


def undecided(found: set[Any], decided: set[Any]) -> str:
    return f"no decision for {sorted(found - decided)}; stale rows {sorted(decided - found)}"


def test_every_route_and_event_has_a_decision() -> None:
    """A route or event added to the web server without a row here fails, and so does a row
    for one that is gone."""
    routes, events = web_tables()
    assert set(routes) == set(HTTP_EXPECTED), undecided(set(routes), set(HTTP_EXPECTED))
    assert set(events) == set(SOCKET_EXPECTED), undecided(set(events), set(SOCKET_EXPECTED))


# ------------------------------------------------------------------ the callers


def http_client(stack: Stack) -> httpx.Client:
    return httpx.Client(
        base_url=stack.config.web_url,
        transport=httpx.HTTPTransport(local_address=ADDRESS),
        timeout=REPLY_WAIT_S,
    )


def socket_client(stack: Stack) -> socketio.SimpleClient:
    """A socket.io client over a WebSocket from ADDRESS. (Over long polling, leaving waits
    for the open poll to end: 25 s a socket.)"""
    web = urlsplit(stack.config.web_url)
    raw = socket.create_connection(
        (web.hostname, web.port), timeout=REPLY_WAIT_S, source_address=(ADDRESS, 0)
    )
    raw.settimeout(None)  # the client's reader waits for the server as long as it takes
    return socketio.SimpleClient(websocket_extra_options={"socket": raw}, reconnection=False)


def connect(
    stack: Stack, namespace: str, cookie: str = "", widget: bool = False
) -> socketio.SimpleClient | None:
    """A socket.io client connected to `namespace`, or None when refused."""
    client = socket_client(stack)
    try:
        client.connect(
            stack.config.web_url,
            headers={"Cookie": cookie} if cookie else {},
            auth={"client": WIDGET_CLIENT} if widget else None,
            namespace=namespace,
            transports=["websocket"],
            wait_timeout=10,
        )
    except socketio.exceptions.ConnectionError:
        with contextlib.suppress(Exception):  # the engine.io connection under the refusal
            client.client.disconnect()
        return None
    return client


def wait_for(client: socketio.SimpleClient, wanted: str | None, wait_s: float) -> tuple[str, Any]:
    """The first event named `wanted` (any event when None), with its data; (IGNORED, None)
    when none came in `wait_s`. Others on the way (typing, session_confirm) are skipped."""
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            event, *data = client.receive(timeout=left)
        except socketio.exceptions.TimeoutError:
            break
        if wanted is None or event in (wanted, "rate_limited"):
            return event, data[0] if data else None
    return IGNORED, None


def widget_conversation(stack: Stack, text: str) -> str:
    """A conversation a shopper started in the widget: its signed session id, once the bot
    answered `text` (ASK_FOR_A_PERSON opens a handoff for the console)."""
    client = connect(stack, "/", widget=True)
    assert client is not None, "the shopper's socket was refused"
    try:
        client.emit("session_request", {"session_id": None})
        event, confirm = wait_for(client, "session_confirm", REPLY_WAIT_S)
        assert event == "session_confirm", event
        client.emit("user_uttered", {"message": text, "message_id": secrets.token_hex(4)})
        deadline = time.monotonic() + REPLY_WAIT_S
        while time.monotonic() < deadline:
            event, message = wait_for(client, "bot_uttered", REPLY_WAIT_S)
            assert event == "bot_uttered", f"no reply to {text!r}: {event}"
            if text != ASK_FOR_A_PERSON or HANDED_OVER in str(message.get("text", "")):
                return str(confirm["session_id"])
        raise AssertionError(f"the bot did not hand {text!r} over to a person")
    finally:
        client.disconnect()


@dataclass
class Role:
    """One kind of caller: its HTTP client, its credentials and the conversations it works."""

    name: str
    http: httpx.Client
    login: tuple[str, str]  # what it signs in with
    cookie: str = ""  # the Cookie header its sockets send
    conversation: str = ""
    spare: str = ""  # the conversation `close` finishes
    seq: int | None = None  # a typed shopper message of `conversation`, once it was read
    csrf: str = ""
    statuses: dict[tuple[str, str], int] = field(default_factory=dict)


def sign_in(stack: Stack, username: str, password: str) -> tuple[httpx.Client, str]:
    client = http_client(stack)
    response = client.post("/agent/api/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    csrf = str(response.json()["csrf_token"])
    client.headers["X-CSRF-Token"] = csrf
    return client, f"shopdesk_agent={client.cookies['shopdesk_agent']}"


@pytest.fixture(scope="module")
def shopper_session(live: Stack) -> str:
    """The shopper's own conversation (a plain chat): its signed session id."""
    return widget_conversation(live, "hi")


def make_role(stack: Stack, name: str, shopper_session: str) -> Role:
    if name == NONE:  # a stranger, trying the shopper's conversation
        return Role(NONE, http_client(stack), ("nobody-at-all", "not a password of anyone"),
                    conversation=shopper_session)  # fmt: skip
    if name == SHOPPER:
        client = http_client(stack)
        cookie = f"shopdesk_agent={shopper_session}"
        client.headers.update({"Cookie": cookie, "X-CSRF-Token": shopper_session})
        return Role(SHOPPER, client, (shopper_session, shopper_session), cookie, shopper_session)
    who = AGENT if name == AGENT_ROLE else ADMIN
    client, cookie = sign_in(stack, who[0], who[2])
    return Role(
        name, client, (who[0], who[2]), cookie, csrf=str(client.headers["X-CSRF-Token"]),
        conversation=widget_conversation(stack, ASK_FOR_A_PERSON),
        spare=widget_conversation(stack, ASK_FOR_A_PERSON),
    )  # fmt: skip


# ------------------------------------------------------------------ HTTP cells


def typed_message(role: Role) -> int:
    """The number of a typed shopper message in the role's conversation (as the console
    numbers them); read once, by the role itself."""
    if role.seq is None:
        opened = role.http.get(CONVERSATION.format(conversation_id=role.conversation))
        marked = [m["seq"] for m in opened.json().get("messages", []) if m.get("markable")]
        role.seq = int(marked[0]) if marked else 0
    return role.seq


def request_for(role: Role, method: str, template: str) -> tuple[str, dict[str, Any]]:
    """The path (parameters filled) and httpx arguments of the route's sample request."""
    params: dict[str, str] = {}

    def value(name: str) -> str:
        if name == "conversation_id":
            return role.spare if template.endswith("/close") and role.spare else role.conversation
        if name == "seq":
            return str(typed_message(role) if role.csrf else 0)
        if name == "path":
            return "console.css"
        if name == "agent_id":  # the role's own account; any number for those without one
            return str(role.http.get("/agent/api/me").json()["agent"]["id"]) if role.csrf else "1"
        if name == "kind":
            return "message"
        if name in ("item_id", "review_id"):
            return "0"
        raise AssertionError(f"no sample value for the path parameter {name!r} of {template}")

    path = fill_path(template, value)
    if template.endswith("analytics.csv"):
        params["table"] = "days"
    if template == "/newsletter/confirm":
        params["token"] = secrets.token_urlsafe(24)
    arguments: dict[str, Any] = {"params": params}
    if method in ("POST", "PUT", "DELETE") and not template.endswith("/corrections/{seq}"):
        arguments["json"] = body_for(role, template)
    return path, arguments


def body_for(role: Role, template: str) -> dict[str, Any]:
    if template.endswith("/login"):
        return {"username": role.login[0], "password": role.login[1]}
    if template.endswith(("/reply", "/note")):
        return {"text": "Written by the access matrix test."}
    if template.endswith("/corrections"):
        return {"seq": typed_message(role) if role.csrf else 0, "new_intent": NEW_INTENT}
    if template == "/agent/api/agents":
        return {"username": f"matrix-{secrets.token_hex(4)}", "display_name": "Access matrix"}
    if template.endswith("/status"):
        return {"status": "in_progress"}
    if template.endswith("/moderate"):
        return {"decision": "approve"}
    if template.startswith("/agent/api/password-link"):
        return {"token": secrets.token_urlsafe(32), "password": "a long enough new password"}
    return {}


def http_cell(stack: Stack, role: Role, method: str, template: str) -> int:
    path, arguments = request_for(role, method, template)
    if template.endswith("/login"):  # a client of its own: the role keeps its session
        with http_client(stack) as fresh:
            return fresh.request(method, path, **arguments).status_code
    return role.http.request(method, path, **arguments).status_code


@pytest.mark.e2e
def test_every_http_route_answers_each_role_as_decided(live: Stack, shopper_session: str) -> None:
    """Each cell of HTTP_EXPECTED, replayed over HTTP against the running web server."""
    differing = []
    for role_name in ROLES:
        role = make_role(live, role_name, shopper_session)
        try:
            for (method, template), expected in HTTP_EXPECTED.items():
                actual = http_cell(live, role, method, template)
                print(f"{role_name} {method} {template}: {actual}")  # the matrix, with -s
                if actual != expected[role_name]:
                    differing.append(
                        f"{role_name} {method} {template}: {actual}, expected {expected[role_name]}"
                    )
        finally:
            role.http.close()
    assert not differing, "\n".join(differing)


# ------------------------------------------------------------------ socket.io cells


def socket_cell(stack: Stack, role: str, cookie: str, session: str, key: tuple[str, str]) -> str:
    namespace, event = key
    client = connect(stack, namespace, cookie, widget=namespace == "/")
    if client is None:
        return REFUSED
    try:
        if event == "connect":
            return wait_for(client, "queue", REPLY_WAIT_S)[0] if namespace != "/" else CONNECTED
        if event == "disconnect":
            client.disconnect()
            return LEFT
        if role == SHOPPER:
            client.emit("session_request", {"session_id": session})
            assert wait_for(client, "session_confirm", REPLY_WAIT_S)[0] == "session_confirm"
        client.emit(event, EVENT_DATA.get(event, {}))
        silent = SOCKET_EXPECTED[key][role] == IGNORED
        return wait_for(client, ANSWERS.get(event), SILENCE_S if silent else REPLY_WAIT_S)[0]
    finally:
        client.disconnect()


@pytest.fixture(scope="module")
def socket_cookies(live: Stack, shopper_session: str) -> Iterator[dict[str, str]]:
    signed = {name: sign_in(live, who[0], who[2]) for name, who in
              ((AGENT_ROLE, AGENT), (ADMIN_ROLE, ADMIN))}  # fmt: skip
    yield {NONE: "", SHOPPER: f"shopdesk_agent={shopper_session}",
           **{name: cookie for name, (_, cookie) in signed.items()}}  # fmt: skip
    for client, _ in signed.values():
        client.close()


@pytest.mark.e2e
def test_every_socket_event_answers_each_role_as_decided(
    live: Stack, shopper_session: str, socket_cookies: dict[str, str]
) -> None:
    """Each cell of SOCKET_EXPECTED, replayed with socket.io clients against the web server."""
    differing = []
    for key, expected in SOCKET_EXPECTED.items():
        for role in ROLES:
            actual = socket_cell(live, role, socket_cookies[role], shopper_session, key)
            print(f"{role} {key}: {actual}")
            if actual != expected[role]:
                differing.append(f"{role} {key}: {actual}, expected {expected[role]}")
    assert not differing, "\n".join(differing)


# ------------------------------------------------------------------ Rasa, actions, classifier


def internal_status(stack: Stack, key: tuple[str, str, str], conversation: str, token: str) -> int:
    service, method, template = key
    base = {"rasa": stack.config.rasa_url, "actions": stack.config.actions_url,
            "classifier": stack.config.nlu_url}[service]  # fmt: skip
    path = fill_path(template, lambda _: conversation)
    body: Any = {"sender": conversation, "message": "hi"} if path.endswith("/rest/webhook") else {}
    params = {"token": token} if token else {}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    sent = httpx.request(
        method, f"{base}{path}", params=params, headers=headers, timeout=REPLY_WAIT_S,
        json=body if method in ("POST", "PUT") else None,
    )  # fmt: skip
    return sent.status_code


@pytest.mark.e2e
@pytest.mark.parametrize("token", ["", "a-wrong-token"], ids=["no token", "wrong token"])
def test_internal_services_answer_only_their_public_routes_without_the_secret(
    live: Stack, shopper_session: str, token: str
) -> None:
    """Rasa's HTTP API, the action server and the classifier: every route in their tables."""
    found = internal_routes(live)
    assert found == set(INTERNAL_EXPECTED), undecided(found, set(INTERNAL_EXPECTED))
    conversation = f"matrix-{secrets.token_hex(6)}"
    differing = [
        f"{key}: {actual}, expected {expected}"
        for key, expected in INTERNAL_EXPECTED.items()
        if (actual := internal_status(live, key, conversation, token)) != expected
    ]
    assert not differing, "\n".join(differing)


def test_sample_values_cover_every_path_parameter() -> None:
    """The matrix can fill each route's parameters (a new parameter needs a sample value)."""
    role = Role(NONE, httpx.Client(), ("x", "y"), conversation="c", spare="s")
    for method, template in HTTP_EXPECTED:
        path, _ = request_for(role, method, template)
        assert "{" not in path, path
