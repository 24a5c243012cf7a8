"""The known conversations (fixtures/conversations.json), in the shop's local time.

The analytics count a conversation on the server's local date, so every test here runs with
the fixture's time zone (UTC-5 all year), whatever the machine's is: shopper-cat's chat at
22:30 local on 2 November is 03:30 UTC on the 3rd, and must count on the 2nd.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, create_engine
from sqlalchemy.pool import NullPool

from analytics.conversations import Conversation, conversations_from_events

FIXTURE = Path(__file__).parent / "fixtures" / "conversations.json"
KNOWN: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def shop_time_zone() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = KNOWN["timezone"]
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture
def known() -> list[Conversation]:
    """Every conversation of the fixture, sender by sender."""
    return [
        conversation
        for sender_id, events in KNOWN["senders"].items()
        for conversation in conversations_from_events(sender_id, events)
    ]


def make_tracker(url: str) -> None:
    """The `events` table as Rasa 3.6's SQLTrackerStore declares and fills it
    (rasa/core/tracker_store.py: SQLEvent, and `save`), with every fixture event in the order
    Rasa would have written them: by time, the senders' events interleaved.
    tests/bot/test_markers.py checks that Rasa's own store writes these same rows."""
    metadata = MetaData()
    table = Table(
        "events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255), nullable=False, index=True),
        Column("type_name", String(255), nullable=False),
        Column("timestamp", Float),
        Column("intent_name", String(255)),
        Column("action_name", String(255)),
        Column("data", Text),
    )
    rows = [
        {
            "sender_id": sender_id,
            "type_name": event["event"],
            "timestamp": event["timestamp"],
            "intent_name": ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
            "action_name": event.get("name"),
            "data": json.dumps(event),
        }
        for sender_id, events in KNOWN["senders"].items()
        for event in events
    ]
    rows.sort(key=lambda row: row["timestamp"])  # stable: each sender's order is kept
    engine = create_engine(url, poolclass=NullPool)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
    engine.dispose()
