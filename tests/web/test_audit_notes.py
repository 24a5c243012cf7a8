"""The audit log and agents' notes."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from catalog.models import Agent
from tests.web import test_auth
from web import audit
from web.auth import create_agent
from web.notes import add_note, note_json, notes_for

NOW = datetime(2025, 6, 18, 10, 30, tzinfo=UTC)
db_url, session = test_auth.db_url, test_auth.session  # a fresh migrated SQLite per test


@pytest.fixture
def anna(session: Session) -> Agent:
    return create_agent(session, "anna", "Anna", test_auth.PASSWORD, now=NOW)


def test_the_audit_log_lists_the_newest_first_with_names(session: Session, anna: Agent) -> None:
    audit.record(session, "login", agent=anna, now=NOW)
    audit.record(session, "take", anna, "chat-1", "waiting 40 s", now=NOW + timedelta(seconds=5))
    audit.record(session, "login_failed", detail="unknown username", now=NOW + timedelta(seconds=9))
    assert audit.recent(session) == [
        {"at": "2025-06-18T10:30:09+00:00", "agent": None, "action": "login_failed",
         "conversation_id": None, "detail": "unknown username"},
        {"at": "2025-06-18T10:30:05+00:00", "agent": "Anna", "action": "take",
         "conversation_id": "chat-1", "detail": "waiting 40 s"},
        {"at": "2025-06-18T10:30:00+00:00", "agent": "Anna", "action": "login",
         "conversation_id": None, "detail": ""},
    ]  # fmt: skip
    assert [entry["action"] for entry in audit.recent(session, limit=2)] == [
        "login_failed", "take"
    ]  # fmt: skip


def test_entries_made_in_the_same_second_keep_their_order(session: Session) -> None:
    for action in ("take", "reply", "close"):
        audit.record(session, action, conversation_id="chat-1", now=NOW)
    assert [entry["action"] for entry in audit.recent(session)] == ["close", "reply", "take"]


def test_an_audit_detail_is_one_short_line(session: Session) -> None:
    entry = audit.record(session, "hand_back", detail="line one\nline two  " + "x" * 600)
    assert entry.detail.startswith("line one line two x") and len(entry.detail) == 500


@pytest.mark.parametrize("action", ["", "Login", "drop table", "a" * 33])
def test_an_audit_action_is_a_short_name(session: Session, action: str) -> None:
    with pytest.raises(ValueError, match="audit action"):
        audit.record(session, action)


def test_notes_are_kept_trimmed_and_read_oldest_first(session: Session, anna: Agent) -> None:
    ben = create_agent(session, "ben", "Ben", test_auth.PASSWORD)
    first = add_note(session, "chat-1", anna, "  Wants a refund, not an exchange.\n", now=NOW)
    add_note(session, "chat-2", anna, "Another shopper.", now=NOW)
    add_note(session, "chat-1", ben, "<b>Called back</b>", now=NOW + timedelta(minutes=3))
    assert notes_for(session, "chat-1") == [
        {"id": first.id, "agent": "Anna", "text": "Wants a refund, not an exchange.",
         "at": "2025-06-18T10:30:00+00:00"},
        {"id": first.id + 2, "agent": "Ben", "text": "<b>Called back</b>",
         "at": "2025-06-18T10:33:00+00:00"},
    ]  # fmt: skip
    assert note_json(first) == notes_for(session, "chat-1")[0]
    assert notes_for(session, "chat-3") == []


@pytest.mark.parametrize(
    ("text", "complaint"),
    [("", "the note is empty"), (" \n\t ", "the note is empty"), ("x" * 2001, "at most 2000")],
)
def test_a_note_needs_some_text_and_not_too_much(
    session: Session, anna: Agent, text: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        add_note(session, "chat-1", anna, text)
    assert add_note(session, "chat-1", anna, " " + "x" * 2000 + " ").text == "x" * 2000


def test_a_note_belongs_to_a_conversation(session: Session, anna: Agent) -> None:
    for conversation_id in ("", "c" * 65):
        with pytest.raises(ValueError, match="not a conversation id"):
            add_note(session, conversation_id, anna, "A note.")
