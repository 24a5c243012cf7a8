"""The hub's memory of conversations stays bounded on a long-running server, and the agents'
live feed (web/agent_feed.py) sends a conversation only to its holder, and nothing to a socket
whose session ended."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import select

from catalog import handoffs
from catalog.db import migrate, session_scope
from catalog.models import Agent, AgentSession
from core.clock import utc_now
from tests.async_run import run as run_async
from tracker.events import TrackerEvents
from web import auth
from web.agent_feed import AGENT_NAMESPACE
from web.hub import Hub, Recent
from web.rasa_client import RasaClient

PASSWORD = "correct horse battery"
TTL_S, MAX_AGE_S = 3600.0, 4 * 3600.0
HELD, WAITING = "held-conversation", "waiting-conversation"


def test_recent_forgets_the_least_recently_written() -> None:
    seen: Recent[int] = Recent(limit=2)
    seen["a"], seen["b"] = 1, 2
    seen["a"] = 3  # written again: now the newest
    seen["c"] = 4
    assert dict(seen) == {"a": 3, "c": 4}


@dataclass
class Sockets:
    """What the socket.io server was asked to do: (event, data, to, room) sent, sids dropped."""

    sent: list[tuple[str, Any, str | None, str | None]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    async def emit(
        self, event: str, data: Any, to: str | None = None, room: str | None = None,
        namespace: str | None = None,
    ) -> None:  # fmt: skip
        if namespace == AGENT_NAMESPACE:
            self.sent.append((event, data, to, room))

    async def disconnect(self, sid: str, namespace: str | None = None) -> None:
        self.dropped.append(sid)

    def to(self, sid: str, event: str) -> list[Any]:
        return [data for name, data, to, _ in self.sent if name == event and to == sid]


class Transcripts:
    """Rasa's tracker store: one shopper message in each conversation."""

    def events(self, conversation_id: str) -> list[dict[str, Any]]:
        return [{"event": "user", "text": f"a secret of {conversation_id}", "timestamp": 1.0}]


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    migrate(url)
    return url


def make_hub(db_url: str) -> tuple[Hub, Sockets]:
    sockets = Sockets()
    rasa = RasaClient(("http://127.0.0.1:9",), "unused")  # not called by what is tested
    transcripts = cast(TrackerEvents, Transcripts())
    hub = Hub(cast(Any, sockets), rasa, db_url, transcripts, TTL_S, MAX_AGE_S)
    return hub, sockets


def sign_in(db_url: str, username: str, seen_ago_s: float = 0.0) -> tuple[int, str]:
    """The agent (made on first use) signed in again: (agent id, session id)."""
    with session_scope(db_url) as session:
        agent = session.scalar(select(Agent).where(Agent.username == username))
        if agent is None:
            agent = auth.create_agent(session, username, username.title(), PASSWORD)
        _, row = auth.start_session(session, agent, now=utc_now() - timedelta(seconds=seen_ago_s))
        return agent.id, row.id


def test_a_conversations_messages_go_only_to_the_agent_who_holds_it(db_url: str) -> None:
    hub, sockets = make_hub(db_url)
    hub.feed.join("anna-tab", *sign_in(db_url, "anna"))
    hub.feed.join("ben-tab", *sign_in(db_url, "ben"))
    with session_scope(db_url) as session:
        handoffs.request(session, HELD, "asked for a person")
        handoffs.request(session, WAITING, "asked for a person")
        anna = session.scalars(select(Agent).where(Agent.username == "anna")).one()
        handoffs.take(session, HELD, anna)

    run_async(hub.sync(HELD))
    run_async(hub.sync(WAITING))

    [pushed] = sockets.to("anna-tab", "message")
    assert pushed["conversation_id"] == HELD
    assert pushed["message"]["text"] == f"a secret of {HELD}"
    assert sockets.to("ben-tab", "message") == []  # neither the held nor the waiting one
    assert all(room is None for *_, room in sockets.sent)  # never a room of every agent
    assert sockets.dropped == []


def test_a_socket_whose_session_ended_is_dropped_and_sent_nothing(db_url: str) -> None:
    hub, sockets = make_hub(db_url)
    live = sign_in(db_url, "anna")
    signed_out = sign_in(db_url, "anna")
    expired = sign_in(db_url, "anna", seen_ago_s=TTL_S + 1)
    too_old = sign_in(db_url, "anna", seen_ago_s=MAX_AGE_S + 1)
    disabled = sign_in(db_url, "ben")
    for sid, who in (
        ("live", live), ("out", signed_out), ("idle", expired), ("aged", too_old),
        ("off", disabled),
    ):  # fmt: skip
        hub.feed.join(sid, *who)
    with session_scope(db_url) as session:
        session.delete(session.get(AgentSession, signed_out[1]))  # as auth.end_session does
        # busy all along (polling), but begun longer ago than the absolute lifetime
        aged = session.get(AgentSession, too_old[1])
        assert aged is not None
        aged.last_seen_at = utc_now()
        auth.disable_agent(session, "ben")  # as `python -m web agents disable` does

    run_async(hub.queue_changed({"conversations": []}))

    assert [to for _, _, to, _ in sockets.sent] == ["live"]
    assert sorted(sockets.dropped) == ["aged", "idle", "off", "out"]
    assert set(hub.feed.sockets) == {"live"}


def test_the_sweep_drops_a_disabled_agents_socket_with_nothing_to_send(db_url: str) -> None:
    hub, sockets = make_hub(db_url)
    hub.feed.join("anna-tab", *sign_in(db_url, "anna"))
    hub.feed.join("ben-tab", *sign_in(db_url, "ben"))
    run_async(hub.feed.recheck())
    assert sockets.dropped == []

    with session_scope(db_url) as session:
        auth.disable_agent(session, "ben")
    run_async(hub.feed.recheck())

    assert sockets.dropped == ["ben-tab"] and sockets.sent == []


def test_signing_out_drops_that_sessions_sockets_and_no_other(db_url: str) -> None:
    hub, sockets = make_hub(db_url)
    office, home = sign_in(db_url, "anna"), sign_in(db_url, "anna")
    hub.feed.join("office-1", *office)
    hub.feed.join("office-2", *office)
    hub.feed.join("home", *home)

    run_async(hub.feed.end_session(office[1]))

    assert sorted(sockets.dropped) == ["office-1", "office-2"]
    assert set(hub.feed.sockets) == {"home"}
