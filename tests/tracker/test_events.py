"""tracker.events: a conversation's events straight from Rasa's tracker table, in Rasa's
order; nothing before Rasa has made its table. (The live web tests read Rasa's real table.)"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine

from tracker.events import TrackerEvents, events_table
from tracker.writer import write_events


def rasa_like_table(path: Path) -> None:
    """The columns of Rasa 3.6's SQLTrackerStore `events` table."""
    write_events(f"sqlite:///{path}", {})  # the table, empty
    with sqlite3.connect(path) as database:
        rows = [
            (1, "a", "user", 5.0, json.dumps({"event": "user", "text": "hi"})),
            (2, "b", "user", 1.0, json.dumps({"event": "user", "text": "other chat"})),
            (3, "a", "bot", 4.0, json.dumps({"event": "bot", "text": "Hello!"})),
        ]
        database.executemany(
            "INSERT INTO events (id, sender_id, type_name, timestamp, data) VALUES (?,?,?,?,?)",
            rows,
        )


def test_a_conversations_events_come_in_rasas_order(tmp_path: Path) -> None:
    path = tmp_path / "tracker.sqlite3"
    rasa_like_table(path)
    store = TrackerEvents(f"sqlite:///{path}")
    assert [e["text"] for e in store.events("a")] == ["hi", "Hello!"]  # by id, as Rasa reads
    assert store.events("nobody") == []
    store.close()


def test_before_rasa_made_its_table_there_are_no_events(tmp_path: Path) -> None:
    path = tmp_path / "tracker.sqlite3"
    sqlite3.connect(path).close()
    store = TrackerEvents(f"sqlite:///{path}")
    assert store.events("a") == []
    rasa_like_table(path)  # Rasa starts later: found then
    assert [e["text"] for e in store.events("a")] == ["hi", "Hello!"]
    store.close()


def test_one_reflection_of_rasas_table_for_every_reader(tmp_path: Path) -> None:
    """events_table is what TrackerEvents and the analytics (analytics/conversations.py) read."""
    path = tmp_path / "tracker.sqlite3"
    sqlite3.connect(path).close()
    engine = create_engine(f"sqlite:///{path}")
    assert events_table(engine) is None
    rasa_like_table(path)
    table = events_table(engine)
    assert table is not None and {"id", "sender_id", "type_name", "timestamp", "data"} <= set(
        table.c.keys()
    )
    engine.dispose()
