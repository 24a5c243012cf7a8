"""The handoff queue: one agent per conversation, finishing rules, timeouts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from catalog import handoffs
from catalog.db import migrate, session_scope
from catalog.models import Agent
from web import handoff
from web.auth import create_agent

T0 = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        create_agent(session, "anna", "Anna", PASSWORD)
        create_agent(session, "ben", "Ben", PASSWORD)
        create_agent(session, "root", "Admin", PASSWORD, role="admin")
        handoffs.request(session, "c1", "asked for a person", now=T0)
    return url


@pytest.fixture
def session(db: str) -> Iterator[Session]:
    with session_scope(db) as unit:
        yield unit


def agent(session: Session, username: str) -> Agent:
    return session.query(Agent).filter_by(username=username).one()


def test_one_agent_takes_a_conversation_and_a_second_is_told_who_has_it(session: Session) -> None:
    taken = handoffs.take(session, "c1", agent(session, "anna"))
    assert taken.status == "taken"
    assert handoffs.owner_of(session, "c1") == agent(session, "anna")
    with pytest.raises(handoffs.HandoffError, match="Anna already has it"):
        handoffs.take(session, "c1", agent(session, "ben"))
    assert handoffs.take(session, "c1", agent(session, "anna")).id == taken.id  # again: same


def test_only_the_owner_replies_and_finishes(session: Session) -> None:
    handoffs.take(session, "c1", agent(session, "anna"))
    with pytest.raises(handoffs.HandoffError) as refused:
        handoffs.require_owner(session, "c1", agent(session, "ben"))
    assert refused.value.status == 403
    with pytest.raises(handoffs.HandoffError):
        handoffs.finish(session, "c1", agent(session, "ben"), "closed")
    done = handoffs.finish(session, "c1", agent(session, "anna"), "handed_back")
    assert done.status == "handed_back"
    assert done.closed_at is not None
    assert handoffs.owner_of(session, "c1") is None
    with pytest.raises(handoffs.HandoffError, match="not with a person"):
        handoffs.finish(session, "c1", agent(session, "anna"), "closed")


def test_an_admin_may_close_another_agents_conversation(session: Session) -> None:
    handoffs.take(session, "c1", agent(session, "anna"))
    assert handoffs.finish(session, "c1", agent(session, "root"), "closed").status == "closed"


def test_a_new_request_after_a_finished_one_waits_again(session: Session) -> None:
    handoffs.take(session, "c1", agent(session, "anna"))
    handoffs.finish(session, "c1", agent(session, "anna"), "handed_back")
    handoffs.request(session, "c1", "asked for a person", now=T0 + timedelta(minutes=5))
    assert handoffs.current(session, "c1").status == "waiting"  # type: ignore[union-attr]
    assert [h.conversation_id for h in handoffs.open_handoffs(session)] == ["c1"]


def test_waiting_handoffs_time_out_but_taken_ones_do_not(session: Session) -> None:
    handoffs.request(session, "c2", "complaint", now=T0)
    handoffs.take(session, "c2", agent(session, "ben"))
    assert handoffs.expire_waiting(session, 180, now=T0 + timedelta(seconds=179)) == []
    assert handoffs.expire_waiting(session, 180, now=T0 + timedelta(seconds=180)) == ["c1"]
    assert handoffs.current(session, "c1").status == "timed_out"  # type: ignore[union-attr]
    assert handoffs.current(session, "c2").status == "taken"  # type: ignore[union-attr]
    with pytest.raises(handoffs.HandoffError, match="not waiting"):
        handoffs.take(session, "c1", agent(session, "anna"))


def test_queue_entries_say_who_has_it_and_how_long_it_waited(session: Session) -> None:
    handoffs.take(session, "c1", agent(session, "anna"))
    [entry] = [
        handoff.as_json(session, h, now=T0 + timedelta(seconds=75))
        for h in handoffs.open_handoffs(session)
    ]
    assert entry["agent"] == "Anna"
    assert entry["waiting_s"] == 75
    assert entry["reason"] == "asked for a person"


def test_closing_a_chat_offers_the_bots_own_rating_buttons(tmp_path: Path) -> None:
    from web.handoff import rating_buttons

    buttons = rating_buttons()  # bot/domain.yml's utter_goodbye
    assert [b["title"] for b in buttons] == ["5 ★", "4 ★", "3 ★", "2 ★", "1 ★"]
    assert buttons[1]["payload"] == '/rate_conversation{"conversation_rating": 4}'
    assert rating_buttons(tmp_path / "missing.yml") == []
