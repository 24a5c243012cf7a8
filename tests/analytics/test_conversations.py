"""analytics.conversations: Rasa sessions become conversations, user events become turns, and
each conversation-level definition (docs/analytics.md) holds on the known conversations.

The per-conversation numbers are the fixture's `expected`, written by hand from its events;
tests/bot/test_markers.py checks Rasa's markers against the same numbers."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from analytics.conversations import Conversation, conversations_from_events, read_conversations
from tests.analytics.conftest import KNOWN, make_tracker
from tests.catalog import test_postgres

postgres_url = test_postgres.postgres_url  # the same fresh-schema fixture, for this module


def of(known: list[Conversation], sender_id: str) -> list[Conversation]:
    return [c for c in known if c.conversation_id == sender_id]


def summary(conversation: Conversation) -> dict[str, Any]:
    """The fields the fixture's `expected` writes for each conversation."""
    return {
        "sender_id": conversation.conversation_id,
        "local": datetime.fromtimestamp(conversation.started_at).isoformat(),
        "shopper_messages": conversation.shopper_messages,
        "handed_off": conversation.handed_off,
        "handoff_reason": conversation.handoff_reason,
        "fallbacks": conversation.fallbacks,
        "rating": conversation.rating,
        "searches": conversation.searches,
        "zero_result_searches": len(conversation.zero_result_turns),
        "went_well": conversation.went_well,
        "handoff_timeouts": sum(
            t.from_server and t.intent == "handoff_timeout" for t in conversation.turns
        ),
    }


def by_start(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: (row["local"], row["sender_id"]))


def test_every_known_conversation_counts_as_written_by_hand(known: list[Conversation]) -> None:
    assert by_start([summary(c) for c in known]) == by_start(KNOWN["expected"])
    assert all(c.contained is not c.handed_off for c in known)


def test_one_conversation_per_rasa_session_with_a_shopper_message(
    known: list[Conversation],
) -> None:
    first, second = of(known, "shopper-ann")  # one sender, two sessions, two days
    assert [t.text for t in first.turns] == [
        "hello",
        "do you have a black hoodie?",
        "show me cheaper ones",
        "bye",
        "5 ★",
    ]
    assert [t.text for t in second.turns] == [
        "do you have yoga pants in size XS?",
        "any in blue?",
        "bye",
        "2 ★",
    ]
    assert (first.rating, second.rating) == (5, 2)  # each session keeps its own
    assert of(known, "shopper-gus") == []  # opened the chat, never wrote
    assert len(known) == 9


def test_a_conversation_is_dated_by_the_local_time_of_its_first_message(
    known: list[Conversation],
) -> None:
    (cat,) = of(known, "shopper-cat")
    assert datetime.fromtimestamp(cat.started_at) == datetime(2026, 11, 2, 22, 30)
    assert cat.started_at == cat.turns[0].at
    assert datetime.fromtimestamp(cat.started_at, UTC).day == 3  # UTC would say the 3rd
    (ivy,) = of(known, "shopper-ivy")  # began before midnight, went on after it
    assert datetime.fromtimestamp(ivy.started_at) == datetime(2026, 10, 31, 23, 59, 30)
    assert len(ivy.turns) == 2


def test_a_turn_is_a_shopper_message_and_what_followed_it(known: list[Conversation]) -> None:
    search, refine = of(known, "shopper-ann")[0].turns[1:3]
    assert search.intent == "search_product" and search.confidence == 0.97
    assert [e["value"] for e in search.entities] == ["Black", "Hoodies & Sweatshirts"]
    assert search.actions == ["action_search_products"]  # action_listen left out
    assert search.bot_texts == [
        "Here is what I found for “black hoodie”:\n1. Teton Pullover Hoodie — $70.00"
    ]  # the product cards' payload has no text
    assert search.reply_seconds == 0.5
    assert search.slots["search_hits"] == 5.0 and search.slots["focused_product"] is None
    assert search.events[0]["event"] == "user" and search.events[-1]["name"] == "action_listen"
    assert (refine.search_hits, refine.actions) == (3.0, ["action_refine_search"])
    assert not search.by_agent and not search.fallback and not search.internal

    rating = of(known, "shopper-ann")[0].turns[4]
    assert rating.text == "5 ★"  # the button's title, not /rate_conversation{...}
    assert rating.events[0]["text"] == '/rate_conversation{"conversation_rating": 5}'
    assert rating.intent == "rate_conversation" and rating.internal
    assert rating.slots == {"conversation_rating": 5.0}


def test_waiting_for_a_person_the_bot_is_silent_and_agents_are_not_the_bot(
    known: list[Conversation],
) -> None:
    (cat,) = of(known, "shopper-cat")
    assert [t.fallback for t in cat.turns] == [True, True, False, False, False]
    offer = cat.turns[1]
    assert offer.actions == ["action_fallback", "action_offer_human"]
    assert offer.reply_seconds == 0.375  # the last bot message of the turn
    handoff, waiting, answered = cat.turns[2:]
    assert handoff.text == "Yes, please" and handoff.slots["handoff_status"] == "waiting"
    assert (waiting.reply_seconds, waiting.by_agent, waiting.bot_texts) == (None, True, [])
    assert (answered.reply_seconds, answered.by_agent) == (None, True)
    assert answered.slots == {"handoff_status": None}  # handed back...
    assert cat.handed_off and cat.handoff_reason == "the bot did not understand"  # ...still


def test_the_servers_handoff_timeout_is_a_turn_but_not_a_shopper_message(
    known: list[Conversation],
) -> None:
    (dan,) = of(known, "shopper-dan")
    trigger = dan.turns[1]
    assert trigger.text == "EXTERNAL: handoff_timeout"  # Rasa's trigger_intent (web/hub.py)
    assert trigger.from_server and trigger.internal
    assert (trigger.intent, trigger.confidence) == ("handoff_timeout", 0.0)
    assert trigger.actions == ["action_handoff_timeout"] and trigger.reply_seconds == 0.25
    assert len(dan.turns) == 4 and dan.shopper_messages == 3
    assert dan.shopper_turns == [dan.turns[0], *dan.turns[2:]]


def event(kind: str, at: float, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "timestamp": at, "metadata": {}, **fields}


def said(at: float, text: str, intent: str, **metadata: Any) -> dict[str, Any]:
    return event(
        "user",
        at,
        text=text,
        metadata=metadata,
        parse_data={"intent": {"name": intent, "confidence": 0.5}, "entities": []},
    )


def test_what_a_shopper_types_is_theirs_even_when_it_looks_internal() -> None:
    """Rasa reads a typed "/handoff_timeout" as the intent; without Rasa's is_external flag it
    is the shopper's message, though not one in their own words."""
    events = [
        event("action", 1.0, name="action_session_start"),
        event("session_started", 1.0),
        said(2.0, "/handoff_timeout", "handoff_timeout"),
        said(3.0, "hello", "greet"),
    ]
    (conversation,) = conversations_from_events("s", events)
    assert conversation.shopper_messages == 2
    assert not conversation.went_well  # one message in the shopper's own words


def test_only_an_external_message_is_no_conversation() -> None:
    events = [
        event("action", 1.0, name="action_session_start"),
        event("session_started", 1.0),
        said(2.0, "EXTERNAL: handoff_timeout", "handoff_timeout", is_external=True),
    ]
    assert conversations_from_events("s", events) == []


def test_nlu_fallback_counts_even_when_no_action_ran() -> None:
    """Paused for a person, Rasa records the message but runs nothing."""
    events = [
        event("action", 1.0, name="action_session_start"),
        event("session_started", 1.0),
        said(2.0, "zzz", "nlu_fallback"),
        said(3.0, "hello", "greet"),
    ]
    (conversation,) = conversations_from_events("s", events)
    assert conversation.fallbacks == 1
    assert conversation.turns[0].reply_seconds is None


def test_a_reply_is_timed_from_when_the_channel_received_the_message() -> None:
    """Rasa stamps the user event after the classifier read it; the shopper channel's
    `received_at` is earlier. A value that cannot be the arrival time is ignored."""
    events = [
        event("action", 1.0, name="action_session_start"),
        event("session_started", 1.0),
        said(10.0, "hi", "greet", received_at=9.96),
        event("bot", 10.02, text="Hi!"),
        said(20.0, "bye", "goodbye", received_at=25.0),  # after Rasa's own stamp: not ours
        event("bot", 20.01, text="Goodbye!"),
        said(30.0, "and?", "greet", received_at="soon"),
        event("bot", 30.5, text="Hi again!"),
    ]
    (conversation,) = conversations_from_events("s", events)
    assert [round(t.reply_seconds or 0, 3) for t in conversation.turns] == [0.06, 0.01, 0.5]


def test_sessions_split_as_rasa_splits_them() -> None:
    """At each action_session_start; a session_started that none announced starts one too
    (never seen from Rasa 3.6, which always announces it)."""
    events = [
        said(1.0, "before any session", "greet"),
        event("action", 2.0, name="action_session_start"),
        event("session_started", 2.0),
        said(3.0, "first", "greet"),
        event("session_started", 4.0),
        said(5.0, "second", "greet"),
    ]
    assert [[t.text for t in c.turns] for c in conversations_from_events("s", events)] == [
        ["before any session"],
        ["first"],
        ["second"],
    ]


def test_an_unreadable_slot_value_is_no_number() -> None:
    events = [
        said(1.0, "hi", "greet"),
        event("slot", 1.5, name="search_hits", value="many"),
        event("slot", 1.5, name="conversation_rating", value=9.0),  # not a 1-5 rating
        said(2.0, "bye", "goodbye"),
        event("slot", 2.5, name="conversation_rating", value=True),
        event("slot", 2.5, name="conversation_rating", value="nan"),
    ]
    (conversation,) = conversations_from_events("s", events)
    assert (conversation.searches, conversation.rating) == (0, None)


# --- read straight from Rasa's tracker store --------------------------------------------------


def check_reading(url: str, known: list[Conversation]) -> None:
    engine = create_engine(url, poolclass=NullPool)
    in_range = read_conversations(engine, datetime(2026, 11, 1), datetime(2026, 11, 5))
    assert [(c.conversation_id, datetime.fromtimestamp(c.started_at)) for c in in_range] == [
        ("shopper-ann", datetime(2026, 11, 2, 10, 0)),
        ("shopper-ben", datetime(2026, 11, 2, 14, 0)),
        ("shopper-cat", datetime(2026, 11, 2, 22, 30)),
        ("shopper-dan", datetime(2026, 11, 3, 9, 0)),
        ("shopper-ann", datetime(2026, 11, 3, 11, 0)),
        ("shopper-eve", datetime(2026, 11, 3, 16, 0)),
        ("shopper-fay", datetime(2026, 11, 4, 10, 0)),
    ]  # not ivy (began on 10-31, went on into 11-01), not hal (at 11-05 00:00: end excluded)
    assert all(c in known for c in in_range)  # the same events, the same conversations

    (hal,) = read_conversations(engine, datetime(2026, 11, 5), datetime(2026, 11, 6))
    assert hal.conversation_id == "shopper-hal"
    (ivy,) = read_conversations(engine, datetime(2026, 10, 31), datetime(2026, 11, 1))
    assert ivy == of(known, "shopper-ivy")[0]  # whole, its after-midnight turn included
    assert read_conversations(engine, datetime(2026, 11, 6), datetime(2026, 12, 1)) == []
    engine.dispose()


def test_read_conversations_from_rasas_sqlite_tracker_store(
    tmp_path: Path, known: list[Conversation]
) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    make_tracker(url)
    check_reading(url, known)


def test_before_rasa_made_its_table_there_are_no_conversations(tmp_path: Path) -> None:
    path = tmp_path / "tracker.sqlite3"
    sqlite3.connect(path).close()
    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    assert read_conversations(engine, datetime(2026, 11, 1), datetime(2026, 11, 5)) == []


@pytest.mark.postgres
def test_read_conversations_from_rasas_postgresql_tracker_store(
    postgres_url: str, known: list[Conversation]
) -> None:
    make_tracker(postgres_url)
    check_reading(postgres_url, known)
