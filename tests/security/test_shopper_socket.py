"""Attacks on the shopper's side of the web server: its socket.io channel and its pages.

- A flood of socket.io connections, session requests, history reads and messages from one
  address is refused (HTTP 429 for a handshake, `rate_limited` on an open socket), where
  everything used to be answered: socket.io is answered before FastAPI's rate limit.
- Every page, the static ones included, carries a CSP that forbids framing (clickjacking of
  the agent console) and nosniff; a browser refuses to frame the console.
- "Clear this chat" deletes the conversation from Rasa's tracker store, so the next person at
  a shared computer cannot read it back with the old session id.
- A conversation left idle is not resumed with its old session id (the history and the
  verified order stay out of reach), and Rasa drops its slots after the same idle time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio
from sqlalchemy import create_engine, text

from launcher.stack import Stack
from tests.security.conftest import new_sender, rest, tracker
from web.limits import ShopperChannelSettings
from web.shopper import BURST, HISTORY_PER_SOCKET, SESSION_REQUESTS_PER_SOCKET, TOO_FAST_TEXT

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
FLOOD = 320  # the attack as it was seen: every one of these used to answer 200
ATTACKER = "127.0.0.2"  # the flood's own loopback address, so the other tests' budget is intact
IDLE_MINUTES = ShopperChannelSettings().idle_minutes
REPLY_TIMEOUT_S = 60


def widget(stack: Stack) -> socketio.SimpleClient:
    """A socket as the chat widget opens it."""
    client = socketio.SimpleClient()
    client.connect(
        stack.config.web_url, auth={"client": "shopdesk-widget"}, transports=["websocket"]
    )
    return client


@pytest.fixture
def shopper(live: Stack) -> Iterator[socketio.SimpleClient]:
    client = widget(live)
    try:
        yield client
    finally:
        client.disconnect()


def next_event(client: socketio.SimpleClient, name: str, timeout: float = 15) -> Any:
    """The data of the next event called `name`; others that come first are skipped."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        event = client.receive(timeout=left)
        if event[0] == name:
            return event[1] if len(event) > 1 else None
    raise AssertionError(f"no {name!r} event within {timeout:g} s")


def refusal_of(client: socketio.SimpleClient, event: str, timeout: float = 15) -> Any:
    """The next `rate_limited` answer to `event` (refusals of other events are skipped)."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        refusal = next_event(client, "rate_limited", left)
        if refusal["event"] == event:
            return refusal
    raise AssertionError(f"{event!r} was never refused within {timeout:g} s")


def start_chat(client: socketio.SimpleClient, session_id: str | None = None) -> dict[str, Any]:
    client.emit("session_request", {"session_id": session_id})
    return dict(next_event(client, "session_confirm"))


def say_and_wait(client: socketio.SimpleClient, message: str) -> None:
    """Send a message and wait until the bot has answered it (typing off)."""
    client.emit("user_uttered", {"message": message})
    next_event(client, "typing", REPLY_TIMEOUT_S)  # on
    while next_event(client, "typing", REPLY_TIMEOUT_S)["on"]:
        pass


def history(client: socketio.SimpleClient, session_id: str) -> list[dict[str, Any]]:
    client.emit("history", {"session_id": session_id, "after_seq": -1})
    return list(next_event(client, "history")["messages"])


def stored_events(stack: Stack, conversation_id: str) -> int:
    """The conversation's rows in Rasa's tracker store, read directly (Rasa's API would start a
    new session for an unknown sender and so write some)."""
    engine = create_engine(f"sqlite:///{stack.config.tracker_db}")
    try:
        with engine.connect() as connection:
            query = text("SELECT count(*) FROM events WHERE sender_id = :sender")
            return int(connection.scalar(query, {"sender": conversation_id}) or 0)
    finally:
        engine.dispose()


def age_conversation(stack: Stack, conversation_id: str, seconds: float) -> None:
    """Move every event of the conversation `seconds` into the past, in the column and in the
    event's own JSON (Rasa reads the latter), as if the shopper had walked away."""
    engine = create_engine(f"sqlite:///{stack.config.tracker_db}")
    try:
        with engine.begin() as connection:
            rows = connection.execute(
                text("SELECT id, timestamp, data FROM events WHERE sender_id = :sender"),
                {"sender": conversation_id},
            ).all()
            for row_id, timestamp, data in rows:
                event = json.loads(data)
                event["timestamp"] = float(event.get("timestamp") or timestamp) - seconds
                connection.execute(
                    text("UPDATE events SET timestamp = :at, data = :data WHERE id = :id"),
                    {"at": float(timestamp) - seconds, "data": json.dumps(event), "id": row_id},
                )
    finally:
        engine.dispose()


# ---------------------------------------------------------------------------- floods


def test_socketio_connect_flood_is_refused(live: Stack) -> None:
    transport = httpx.HTTPTransport(local_address=ATTACKER)
    with httpx.Client(base_url=live.config.web_url, transport=transport, timeout=10) as attacker:
        answers = [attacker.get("/socket.io/?EIO=4&transport=polling") for _ in range(FLOOD)]
    codes = [answer.status_code for answer in answers]
    assert set(codes) == {200, 429}, sorted(set(codes))
    assert codes.count(200) <= ShopperChannelSettings().connects_per_minute
    refused = answers[codes.index(429)]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["content-type"] == "application/json"
    assert "Too many" in refused.json()["error"]
    # the limit is the attacker's address's: a shopper elsewhere still gets in
    client = widget(live)
    try:
        assert start_chat(client)["session_id"]
    finally:
        client.disconnect()


def test_socketio_event_flood_is_refused_politely(shopper: socketio.SimpleClient) -> None:
    for _ in range(SESSION_REQUESTS_PER_SOCKET + 3):
        shopper.emit("session_request", {})
    refusal = refusal_of(shopper, "session_request")
    assert refusal["text"] == TOO_FAST_TEXT
    assert refusal["retry_after"] >= 1

    for _ in range(HISTORY_PER_SOCKET + 3):
        shopper.emit("history", {"after_seq": -1})
    assert refusal_of(shopper, "history")["text"] == TOO_FAST_TEXT


def test_a_message_flood_is_refused_with_a_notice_in_the_chat(
    shopper: socketio.SimpleClient,
) -> None:
    start_chat(shopper)
    for number in range(BURST + 4):
        shopper.emit("user_uttered", {"message": f"hi {number}"})
    refused, noticed = False, False
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    while not (refused and noticed) and time.monotonic() < deadline:
        name, *data = shopper.receive(timeout=REPLY_TIMEOUT_S)
        if name == "rate_limited":
            refused = data[0]["event"] == "user_uttered"
        elif name == "bot_uttered" and data[0].get("transient"):
            noticed = noticed or data[0]["text"] == TOO_FAST_TEXT
    assert refused, "no rate_limited event for the flood of messages"
    assert noticed, "no notice in the chat that the messages came too fast"


# ---------------------------------------------------------------------------- pages


def pages() -> list[str]:
    return ["/", "/agent/", *(f"/static/{page.name}" for page in sorted(STATIC.glob("*.html")))]


@pytest.mark.parametrize("path", pages())
def test_static_pages_cannot_be_framed_or_sniffed(live: Stack, path: str) -> None:
    answer = httpx.get(f"{live.config.web_url}{path}", timeout=10)
    assert answer.status_code == 200
    policy = answer.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy
    assert answer.headers.get("X-Content-Type-Options") == "nosniff"
    assert answer.headers.get("Referrer-Policy")


def test_the_console_cannot_be_framed_for_clickjacking(live: Stack, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    try:
        console_url = f"{live.config.web_url}/static/console.html"
        answer = page.goto(console_url)
        assert answer is not None
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        page.goto("about:blank")  # another page, as an attacker's would be
        page.set_content(f'<iframe src="{console_url}" width="800" height="600"></iframe>')
        page.wait_for_load_state("load")
        (framed,) = page.frames[1:]
        assert framed.url.startswith("chrome-error://"), framed.url  # refused, not shown
        assert page.frame_locator("iframe").locator("[data-testid=console-username]").count() == 0
    finally:
        context.close()


# ---------------------------------------------------------------------------- shared computer


def test_a_cleared_chat_cannot_be_read_back_with_its_old_session_id(live: Stack) -> None:
    first = widget(live)
    try:
        old = start_chat(first)["session_id"]
        say_and_wait(first, "do you have a black hoodie?")
        assert stored_events(live, old) > 0
        first.emit("clear_chat", {"session_id": old})
        confirm = next_event(first, "session_confirm")
        assert confirm["session_id"] != old and confirm["reason"] == "cleared"
        assert next_event(first, "chat_cleared") == {
            "cleared": True,
            "session_id": confirm["session_id"],
        }
    finally:
        first.disconnect()
    assert stored_events(live, old) == 0

    next_person = widget(live)
    try:
        start_chat(next_person, old)
        assert history(next_person, old) == []
    finally:
        next_person.disconnect()
    assert stored_events(live, old) == 0


def test_an_idle_chat_is_not_resumed_on_a_shared_computer(live: Stack) -> None:
    first = widget(live)
    try:
        old = start_chat(first)["session_id"]
        say_and_wait(first, "where is my order?")
    finally:
        first.disconnect()
    age_conversation(live, old, (IDLE_MINUTES + 5) * 60)

    next_person = widget(live)
    try:
        confirm = start_chat(next_person, old)
        assert confirm["session_id"] != old
        assert confirm["reason"] == "idle"
        assert history(next_person, confirm["session_id"]) == []
        assert history(next_person, old) == []  # the socket is in the new chat, not the old
    finally:
        next_person.disconnect()


def test_rasa_drops_a_verified_order_after_the_idle_time(live: Stack) -> None:
    """Over Rasa's REST channel too: a session idle longer than the idle time starts anew and
    without the old slots (bot/domain.yml session_config)."""
    sender = new_sender()
    rest(live, sender, "hello")
    config = live.config
    events_url = f"{config.rasa_url}/conversations/{sender}/tracker/events"
    slot = {"event": "slot", "name": "verified_order_number", "value": "000000101"}
    answer = httpx.post(events_url, params={"token": config.rasa_token}, json=[slot], timeout=30)
    answer.raise_for_status()
    assert tracker(live, sender)["slots"]["verified_order_number"] == "000000101"

    age_conversation(live, sender, (IDLE_MINUTES + 1) * 60)
    rest(live, sender, "hello again")
    assert tracker(live, sender)["slots"]["verified_order_number"] is None
