"""Shoppers' session ids are signed by the server; the console's sign-in throttle; the shopper
channel's limits, idle sessions and "clear this chat", on the real app without Rasa."""

from __future__ import annotations

import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
import uvicorn
import websocket
from sqlalchemy import create_engine, text
from starlette.testclient import TestClient

from catalog.db import migrate
from core.settings import SettingsError
from launcher.ports import free_port
from tracker.writer import write_events
from web.app import create_app
from web.console.sign_in import LOGIN_FAILURES_ALLOWED, LoginThrottle
from web.gate import Gate, is_handshake
from web.limits import (
    CONNECTS_ENV,
    IDLE_ENV,
    MESSAGES_ENV,
    EventLimits,
    Rule,
    ShopperChannelSettings,
)
from web.settings import WebSettings, load_session_secret
from web.shopper import (
    HISTORY_PER_SOCKET,
    TOO_FAST_TEXT,
    message_metadata,
    new_session_id,
    session_id_from,
)

SECRET = b"a test key that is long enough for hmac"


def test_session_ids_are_signed_by_the_server() -> None:
    issued = new_session_id(SECRET)
    assert session_id_from({"session_id": issued}, SECRET) == issued
    assert session_id_from(issued, SECRET) == issued  # rasa-webchat may send it bare
    assert new_session_id(SECRET) != issued
    nonce, _ = issued.split(".")
    forged = f"{nonce}.{'A' * 22}"
    other_key = new_session_id(b"another server's key, also long enough")
    for bad in (
        {"session_id": forged},
        {"session_id": other_key},
        {"session_id": "3f2a9c1e5b7d4a10"},
        {"session_id": "../../etc"},
        {"session_id": 12345678},
        None,
        {"session_id": "<script>alert(1)</script>"},
    ):
        assert session_id_from(bad, SECRET) is None  # a new conversation instead


def test_the_signing_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "web_secret.key"
    first = load_session_secret({}, path)
    assert load_session_secret({}, path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_session_secret({"SHOPDESK_WEB_SECRET": "x" * 40}, path) == b"x" * 40
    with pytest.raises(SettingsError, match="at least 32"):
        load_session_secret({"SHOPDESK_WEB_SECRET": "short"}, path)


@pytest.mark.parametrize("content", [b"", b"\n", b"   \n", b"x" * 31, b"short-key\n"])
def test_an_empty_or_short_key_file_is_refused(tmp_path: Path, content: bytes) -> None:
    """An empty file once gave an empty HMAC key: anyone could then sign session ids."""
    path = tmp_path / "web_secret.key"
    path.write_bytes(content)
    path.chmod(0o600)
    with pytest.raises(SettingsError, match="fewer than 32") as refused:
        load_session_secret({}, path)
    assert "delete it" in str(refused.value)
    assert path.read_bytes() == content  # left for the owner to look at, not replaced


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o602])
def test_a_key_file_open_to_other_users_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "web_secret.key"
    path.write_bytes(b"k" * 64)
    path.chmod(mode)
    with pytest.raises(SettingsError, match=f"open to other users \\(mode {mode:o}\\)"):
        load_session_secret({}, path)
    path.chmod(0o600)
    assert load_session_secret({}, path) == b"k" * 64
    assert load_session_secret({}, path.with_name("new.key")) != b"k" * 64  # missing: made


def test_the_web_server_exits_2_with_the_reason_for_a_bad_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from web import __main__ as web_main

    path = tmp_path / "web_secret.key"
    path.write_bytes(b"")
    path.chmod(0o600)
    monkeypatch.delenv("SHOPDESK_WEB_SECRET", raising=False)
    monkeypatch.setattr(
        web_main, "load_session_secret", lambda environ: load_session_secret(environ, path)
    )
    assert web_main.main(["serve"]) == 2
    error = capsys.readouterr().err
    assert f"web: the session key file {path} holds 0 characters" in error
    assert "Traceback" not in error


def test_sign_in_is_refused_after_repeated_failures_until_one_succeeds() -> None:
    throttle = LoginThrottle()
    for _ in range(LOGIN_FAILURES_ALLOWED):
        assert not throttle.blocked("anna|127.0.0.1")
        throttle.failed("anna|127.0.0.1")
    assert throttle.blocked("anna|127.0.0.1")
    assert not throttle.blocked("ben|127.0.0.1")
    throttle.succeeded("anna|127.0.0.1")
    assert not throttle.blocked("anna|127.0.0.1")


# ------------------------------------------------------------------ the channel's limits


def test_a_refused_event_counts_in_no_window_and_says_how_long_to_wait() -> None:
    now = [1000.0]
    limits = EventLimits({"a": Rule(2, 60.0), "b": Rule(5, 60.0)}, clock=lambda: now[0])
    assert limits.check([("a", "x"), ("b", "x")]) is None
    assert limits.check([("a", "x"), ("b", "x")]) is None
    now[0] += 15
    assert limits.check([("a", "x"), ("b", "x")]) == 45  # the first of the two leaves at 60 s
    assert limits.check([("b", "x")]) is None  # the refused one was not counted in "b"
    assert limits.check([("a", "y")]) is None  # another key has its own window
    now[0] += 46
    assert limits.check([("a", "x")]) is None
    limits.forget("x")
    assert limits.check([("a", "x")]) is None


def test_the_channel_settings_come_from_the_environment_and_refuse_nonsense() -> None:
    assert ShopperChannelSettings.from_env({}) == ShopperChannelSettings()
    assert ShopperChannelSettings().idle_s == 30 * 60
    tuned = ShopperChannelSettings.from_env(
        {CONNECTS_ENV: "5000", MESSAGES_ENV: " 900 ", IDLE_ENV: "5"}
    )
    assert (tuned.connects_per_minute, tuned.messages_per_minute, tuned.idle_s) == (5000, 900, 300)
    for bad in ("0", "-3", "ten", "1.5"):
        with pytest.raises(SettingsError, match=CONNECTS_ENV):
            ShopperChannelSettings.from_env({CONNECTS_ENV: bad})


def _request(kind: str, path: str, query: bytes, method: str = "GET") -> dict[str, Any]:
    return {"type": kind, "method": method, "path": path, "query_string": query}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        (_request("http", "/socket.io/", b"EIO=4&transport=polling"), True),
        (_request("http", "/socket.io", b"EIO=4"), True),
        (_request("websocket", "/socket.io/", b"EIO=4&transport=websocket"), True),
        (_request("http", "/socket.io/", b"EIO=4&sid=abc"), False),
        (_request("websocket", "/socket.io/", b"EIO=4&sid=abc"), False),
        (_request("http", "/socket.io/", b"EIO=4", method="POST"), False),
        (_request("http", "/static/widget.js", b""), False),
    ],
)
def test_only_a_new_engine_io_session_is_a_handshake(scope: dict[str, Any], expected: bool) -> None:
    assert is_handshake(scope) is expected


def test_the_gate_refuses_a_handshake_flood_and_heads_every_response() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-app", b"1")]})
        await send({"type": "http.response.body", "body": b"{}"})

    client = TestClient(Gate(app, {"X-Frame-Check": "yes", "X-App": "no"}, 3))
    answers = [client.get("/socket.io/?EIO=4&transport=polling") for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Too many" in refused.json()["error"]
    # a socket already open goes on polling; other pages are not counted
    assert client.get("/socket.io/?EIO=4&transport=polling&sid=abc").status_code == 200
    assert client.get("/static/console.html").status_code == 200
    for answer in answers:
        assert answer.headers["x-frame-check"] == "yes"
    assert answers[0].headers["x-app"] == "1"  # the app's own header wins


# ------------------------------------------------------------------ the channel, served


class Served:
    """The real web app (create_app) under uvicorn on a free port, with Rasa's tracker store
    written by the test and no Rasa: what the shopper channel does on its own."""

    def __init__(self, tmp_path: Path, channel: ShopperChannelSettings) -> None:
        self.port = free_port()
        self.tracker_url = f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
        db_url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
        migrate(db_url)
        app = create_app(
            WebSettings(rasa_urls=("http://127.0.0.1:9",), rasa_token="unused"),
            db_url,
            SECRET,
            channel,
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started, "the web server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(15)

    def events(self, conversation_id: str) -> int:
        engine = create_engine(self.tracker_url)
        try:
            with engine.connect() as connection:
                query = text("SELECT count(*) FROM events WHERE sender_id = :s")
                return int(connection.scalar(query, {"s": conversation_id}) or 0)
        finally:
            engine.dispose()


def said(conversation_id: str, at: float) -> list[dict[str, Any]]:
    return [
        {"event": "user", "text": "where is my order?", "timestamp": at, "parse_data": {}},
        {"event": "bot", "text": "Which order number?", "timestamp": at + 1},
    ]


def widget(served: Served) -> socketio.SimpleClient:
    client = socketio.SimpleClient()
    client.connect(served.url, auth={"client": "shopdesk-widget"}, transports=["websocket"])
    return client


def next_event(client: socketio.SimpleClient, name: str) -> list[Any]:
    """The next event called `name` (others that come first are skipped)."""
    while True:
        event = client.receive(timeout=10)
        if event[0] == name:
            return list(event)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("SHOPDESK_TRACKER_DB_URL", f"sqlite:///{tmp_path / 'tracker.sqlite3'}")
    channel = ShopperChannelSettings(connects_per_minute=40, idle_minutes=30)
    with Served(tmp_path, channel) as running:
        yield running


def test_an_idle_conversation_is_not_resumed_and_a_recent_one_is(served: Served) -> None:
    recent, stale = new_session_id(SECRET), new_session_id(SECRET)
    now = time.time()
    write_events(
        served.tracker_url, {recent: said(recent, now - 60), stale: said(stale, now - 7200)}
    )
    client = widget(served)
    try:
        client.emit("session_request", {"session_id": recent})
        _, confirm = next_event(client, "session_confirm")
        assert confirm["session_id"] == recent and "reason" not in confirm
        assert confirm["idle_s"] == 30 * 60
        client.emit("history", {"session_id": recent, "after_seq": -1})
        _, history = next_event(client, "history")
        assert [m["text"] for m in history["messages"]] == [
            "where is my order?",
            "Which order number?",
        ]

        client.emit("session_request", {"session_id": stale})
        _, confirm = next_event(client, "session_confirm")
        assert confirm["session_id"] not in (stale, recent)
        assert confirm["reason"] == "idle"
        assert session_id_from(confirm, SECRET) == confirm["session_id"]
        client.emit("history", {"session_id": stale, "after_seq": -1})
        _, history = next_event(client, "history")
        assert history["messages"] == []  # the new conversation's, not the idle one's
    finally:
        client.disconnect()


def test_clearing_the_chat_deletes_its_events_and_moves_every_tab_to_a_new_one(
    served: Served,
) -> None:
    chat, other = new_session_id(SECRET), new_session_id(SECRET)
    now = time.time()
    write_events(served.tracker_url, {chat: said(chat, now), other: said(other, now)})
    tab, second_tab = widget(served), widget(served)
    try:
        for client in (tab, second_tab):
            client.emit("session_request", {"session_id": chat})
            next_event(client, "session_confirm")
        tab.emit("clear_chat", {"session_id": chat})
        for client in (tab, second_tab):
            _, confirm = next_event(client, "session_confirm")
            assert confirm["reason"] == "cleared" and confirm["session_id"] != chat
            _, cleared = next_event(client, "chat_cleared")
            assert cleared == {"cleared": True, "session_id": confirm["session_id"]}
        assert served.events(chat) == 0
        assert served.events(other) == 2  # nobody else's chat
        tab.emit("session_request", {"session_id": chat})
        _, confirm = next_event(tab, "session_confirm")
        tab.emit("history", {"session_id": chat, "after_seq": -1})
        assert next_event(tab, "history")[1] == {"messages": []}
    finally:
        tab.disconnect()
        second_tab.disconnect()


def test_a_socket_asking_too_fast_is_told_to_wait(served: Served) -> None:
    client = widget(served)
    try:
        client.emit("session_request", {})
        next_event(client, "session_confirm")
        for _ in range(HISTORY_PER_SOCKET + 3):
            client.emit("history", {"after_seq": -1})
        _, refusal = next_event(client, "rate_limited")
        assert refusal["event"] == "history"
        assert refusal["text"] == TOO_FAST_TEXT
        assert 1 <= refusal["retry_after"] <= 60
    finally:
        client.disconnect()


def test_new_connections_beyond_the_limit_get_http_429(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as client:
        answers = [client.get("/socket.io/?EIO=4&transport=polling") for _ in range(45)]
    codes = [a.status_code for a in answers]
    assert codes[:40] == [200] * 40 and set(codes[40:]) == {429}
    assert int(answers[-1].headers["retry-after"]) >= 1
    # a WebSocket opened straight away is a new connection too
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(
            f"ws://127.0.0.1:{served.port}/socket.io/?EIO=4&transport=websocket", timeout=10
        )
    assert refused.value.status_code == 429


def test_the_server_says_what_its_socket_clients_render_whatever_they_send() -> None:
    """Every socket.io client (the widget, rasa-webchat) draws cards and quick replies, so
    product answers come as a sentence and cards (actions/product_cards.py)."""
    sent = {"message": "hi", "message_id": "m-1", "display_text": " Yes ", "capabilities": []}
    assert message_metadata(sent) == {
        "capabilities": ["cards", "buttons"],
        "message_id": "m-1",
        "display_text": "Yes",
    }
    assert message_metadata({"message_id": "<bad id>"}) == {"capabilities": ["cards", "buttons"]}
