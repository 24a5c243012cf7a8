"""Attacks by a curious agent, a shared computer and a lying widget on the console's live feed,
replayed against the running stack (python-socketio clients, signed in with the console's
cookie, as the console's page is):

- every agent's socket used to receive every message of every conversation, the browser
  filtering; now only the agent who holds a conversation is sent its messages;
- the cookie was checked only at connect: a signed-out tab, or an agent disabled with
  `python -m web agents disable`, kept the feed; now their sockets are dropped;
- reading a transcript in the console and exporting the analytics CSV left no trace; now each
  leaves an audit row;
- the widget's `display_text` was shown in place of what was sent, so "/deny" could read
  "I love it"; now the console and the shopper's history show what was really sent.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from catalog.models import Agent, AuditEntry
from launcher.stack import Stack
from tests.security.conftest import (
    ADMIN,
    AGENT,
    OTHER_AGENT,
    ROOT,
    console_login,
    rest,
    shop_db_url,
    tracker,
)
from web.agent_feed import AGENT_NAMESPACE
from web.console.deps import COOKIE

WIDGET_CLIENT = "shopdesk-widget"  # web/static/widget/connection.js's socket.io `auth.client`
ASK_FOR_A_PERSON = "I want to talk to a human"
REPLY_WAIT_S = 60.0  # a bot reply on a loaded two-core machine
FEED_WAIT_S = 15.0  # the web server's sweep checks sessions every second
LIE = "I love it, best shop ever"
CONVERSATION = "/agent/api/conversations/{}"


def wait_until(done: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what}")
        time.sleep(0.1)


class Console:
    """An agent's console: its REST client (console_login) and its live socket on `/agent`,
    which records every event it is sent."""

    def __init__(self, stack: Stack, who: tuple[str, str, str]) -> None:
        self.http = console_login(stack, who)
        self.events: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self.dropped = threading.Event()
        self.socket = socketio.Client(reconnection=False)
        self.socket.on("*", self._record, namespace=AGENT_NAMESPACE)
        self.socket.on("disconnect", self._dropped, namespace=AGENT_NAMESPACE)
        self.socket.connect(
            stack.config.web_url,
            namespaces=[AGENT_NAMESPACE],
            headers={"Cookie": f"{COOKIE}={self.http.cookies.get(COOKIE)}"},
            transports=["websocket"],
            wait_timeout=10,
        )

    def _record(self, event: str, data: Any = None) -> None:
        with self._lock:
            self.events.append((event, data))

    def _dropped(self, *reason: Any) -> None:
        self.dropped.set()

    def received(self, event: str) -> list[Any]:
        with self._lock:
            return [data for name, data in self.events if name == event]

    def messages_of(self, conversation_id: str) -> list[dict[str, Any]]:
        return [
            d["message"]
            for d in self.received("message")
            if d.get("conversation_id") == conversation_id
        ]

    def queued(self, conversation_id: str, preview: str = "") -> bool:
        """Whether a queue event listed the conversation (with this preview, if given)."""
        return any(
            e.get("conversation_id") == conversation_id and preview in str(e.get("preview"))
            for queue in self.received("queue")
            for e in queue.get("conversations") or []
        )

    def close(self) -> None:
        if self.socket.connected:
            self.socket.disconnect()
        self.http.close()


class Shopper:
    """The chat widget's socket: one conversation, every event kept in `seen`."""

    def __init__(self, stack: Stack) -> None:
        self.client = socketio.SimpleClient()
        self.client.connect(
            stack.config.web_url, auth={"client": WIDGET_CLIENT}, transports=["websocket"]
        )
        self.seen: list[tuple[str, Any]] = []
        self.client.emit("session_request", {})
        self.conversation_id = str(self.next_event("session_confirm")["session_id"])

    def next_event(self, name: str, timeout_s: float = REPLY_WAIT_S) -> Any:
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            event = self.client.receive(timeout=left)
            data = event[1] if len(event) > 1 else None
            self.seen.append((event[0], data))
            if event[0] == name:
                return data
        raise AssertionError(f"no {name!r} event within {timeout_s:g} s")

    def say(self, text: str, **extra: Any) -> None:
        """Send as the widget does, and wait until the server has handled it (typing off)."""
        self.client.emit("user_uttered", {"message": text, **extra})
        self.next_event("typing")  # on
        while self.next_event("typing")["on"]:
            pass

    def buttons(self) -> list[dict[str, str]]:
        """The buttons of the next message that offers some."""
        while True:
            offered = self.next_event("bot_uttered").get("quick_replies")
            if offered:
                return list(offered)

    def history(self) -> list[dict[str, Any]]:
        self.client.emit("history", {"session_id": self.conversation_id, "after_seq": -1})
        return list(self.next_event("history")["messages"])

    def close(self) -> None:
        self.client.disconnect()


@pytest.fixture
def opened() -> Iterator[list[Console | Shopper]]:
    """Consoles and shoppers a test opens, closed after it."""
    made: list[Console | Shopper] = []
    yield made
    for each in made:
        each.close()


def handed_over(stack: Stack, opened: list[Console | Shopper]) -> Shopper:
    """A shopper whose conversation waits for a person."""
    shopper = Shopper(stack)
    opened.append(shopper)
    shopper.say(ASK_FOR_A_PERSON)
    return shopper


def console(stack: Stack, who: tuple[str, str, str], opened: list[Console | Shopper]) -> Console:
    made = Console(stack, who)
    opened.append(made)
    wait_until(lambda: bool(made.received("queue")), FEED_WAIT_S, "the queue on connecting")
    return made


def audit_rows(stack: Stack, action: str, conversation_id: str | None = None) -> list[str]:
    """The usernames (or "-") of the audit rows of `action` (for this conversation)."""
    engine = create_engine(shop_db_url(stack))
    try:
        with Session(engine) as session:
            query = (
                select(AuditEntry, Agent.username)
                .outerjoin(Agent, Agent.id == AuditEntry.agent_id)
                .where(AuditEntry.action == action)
            )
            if conversation_id is not None:
                query = query.where(AuditEntry.conversation_id == conversation_id)
            return [username or "-" for _, username in session.execute(query)]
    finally:
        engine.dispose()


# ------------------------------------------------------------------- who is sent what


def test_an_agent_who_does_not_hold_a_conversation_is_not_sent_its_messages(
    live: Stack, opened: list[Console | Shopper]
) -> None:
    holder, other = console(live, AGENT, opened), console(live, OTHER_AGENT, opened)
    shopper = handed_over(live, opened)
    chat = shopper.conversation_id
    wait_until(lambda: other.queued(chat), FEED_WAIT_S, "the waiting chat in the queue")
    assert holder.messages_of(chat) == [] and other.messages_of(chat) == []  # nobody holds it

    holder.http.post(CONVERSATION.format(chat) + "/take").raise_for_status()
    secret = f"the parcel for flat {uuid.uuid4().hex[:8]} never came"
    shopper.say(secret)

    wait_until(
        lambda: any(secret == m.get("text") for m in holder.messages_of(chat)),
        FEED_WAIT_S,
        "the holder's live message",
    )
    # The queue's preview reaches everyone after the message would have: the other socket is
    # live and up to date, and was sent none of the conversation's messages.
    wait_until(lambda: other.queued(chat, secret[:40]), FEED_WAIT_S, "the new preview")
    assert other.messages_of(chat) == []
    assert all(data.get("conversation_id") == chat for data in holder.received("message"))


def test_a_signed_out_agents_socket_is_dropped_and_sent_nothing_more(
    live: Stack, opened: list[Console | Shopper]
) -> None:
    tab = console(live, AGENT, opened)
    witness = console(live, OTHER_AGENT, opened)

    tab.http.post("/agent/api/logout").raise_for_status()
    assert tab.dropped.wait(FEED_WAIT_S), "the signed-out socket is still connected"
    after = len(tab.events)
    chat = handed_over(live, opened).conversation_id
    wait_until(lambda: witness.queued(chat), FEED_WAIT_S, "the new chat in the queue")
    assert len(tab.events) == after


def test_an_agent_disabled_from_the_command_line_loses_the_live_feed(
    live: Stack, opened: list[Console | Shopper]
) -> None:
    """`python -m web agents disable` runs in another process and only changes the database;
    the web server's sweep notices within seconds and drops the agent's socket."""
    name = f"leaver{uuid.uuid4().hex[:6]}"
    leaver = (name, "Lee Leaver", "a leaver's long passphrase, soon disabled")
    env = {**live.config.env(), "AGENT_PASSWORD": leaver[2]}

    def agents(*args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "web", "agents", *args], cwd=ROOT, env=env, check=True,
            capture_output=True, timeout=120,
        )  # fmt: skip

    agents("add", "--username", name, "--name", leaver[1], "--password-env", "AGENT_PASSWORD")
    tab = console(live, leaver, opened)
    agents("disable", "--username", name)

    assert tab.dropped.wait(FEED_WAIT_S), "the disabled agent's socket is still connected"
    again = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        again.connect(
            live.config.web_url,
            namespaces=[AGENT_NAMESPACE],
            headers={"Cookie": f"{COOKIE}={tab.http.cookies.get(COOKIE)}"},
            transports=["websocket"],
            wait_timeout=10,
        )


# ------------------------------------------------------------------- reads leave a trace


def test_reading_a_transcript_and_exporting_csv_leave_audit_rows(live: Stack) -> None:
    chat = f"red-read-{uuid.uuid4().hex[:10]}"
    rest(live, chat, "hello, where is my order?")
    reader, admin = console_login(live, OTHER_AGENT), console_login(live, ADMIN)
    try:
        for _ in range(2):  # an open console reads again and again: one row says it
            reader.get(CONVERSATION.format(chat)).raise_for_status()
        exported = admin.get("/agent/api/analytics.csv", params={"table": "ratings"})
        exported.raise_for_status()
    finally:
        reader.close()
        admin.close()

    assert audit_rows(live, "read_transcript", chat) == [OTHER_AGENT[0]]
    assert ADMIN[0] in audit_rows(live, "export_csv")


# ------------------------------------------------------------------- display_text


def test_a_button_press_with_a_lying_display_text_shows_what_was_sent(
    live: Stack, opened: list[Console | Shopper]
) -> None:
    """A payload the bot offered (the rating buttons when an agent closes the chat), and one
    it did not, each sent with a made-up title: both show the text actually sent."""
    shopper = handed_over(live, opened)
    chat = shopper.conversation_id
    agent = console_login(live, AGENT)
    try:
        agent.post(CONVERSATION.format(chat) + "/take").raise_for_status()
        agent.post(CONVERSATION.format(chat) + "/close").raise_for_status()
        worst = shopper.buttons()[0]  # the closing notice's rating buttons
        assert worst["title"] != LIE
        shopper.say(worst["payload"], display_text=LIE)
        shopper.say("/deny", display_text=LIE)

        claimed = [
            e for e in tracker(live, chat)["events"]
            if e.get("event") == "user" and (e.get("metadata") or {}).get("display_text") == LIE
        ]  # fmt: skip
        assert len(claimed) == 2, "the lies were not recorded with their display_text"
        sent = [str(e["text"]) for e in claimed]
        in_console = agent.get(CONVERSATION.format(chat))
        in_console.raise_for_status()
    finally:
        agent.close()

    console_texts = [m["text"] for m in in_console.json()["messages"] if m["sender"] == "user"]
    history_texts = [m["text"] for m in shopper.history() if m["sender"] == "user"]
    for shown in (console_texts, history_texts):
        assert LIE not in shown
        assert shown[-2:] == sent
