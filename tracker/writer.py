"""Rasa 3.6's SQL tracker store table, written without Rasa, for the tests and benchmarks that
read Rasa's rows (the web server's transcripts, analytics, learning, the privacy jobs).

The table and the rows are as Rasa's SQLTrackerStore declares and fills them
(rasa/core/tracker_store.py: SQLEvent, and `save`); tests/bot/test_markers.py checks that
Rasa's own store writes these same rows. ShopDesk itself never creates this table: only
tests and benchmarks use this module (tracker/events.py reflects the table Rasa made).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, Text, create_engine
from sqlalchemy.pool import NullPool

from tracker.events import EVENTS_TABLE
from tracker.store import driver_url

Event = dict[str, Any]


def declare_events_table(metadata: MetaData) -> Table:
    """Rasa 3.6's `events` table (SQLEvent), declared: to create it where Rasa has not run."""
    return Table(
        EVENTS_TABLE,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("sender_id", String(255), nullable=False, index=True),
        Column("type_name", String(255), nullable=False),
        Column("timestamp", Float),
        Column("intent_name", String(255)),
        Column("action_name", String(255)),
        Column("data", Text),
    )


def event_row(sender_id: str, event: Event, data: str | None = None) -> dict[str, Any]:
    """The row Rasa's `save` writes for one event (`data`: the event's JSON, if made already).
    Rasa fills `action_name` from any event's `name`, a slot's too."""
    return {
        "sender_id": sender_id,
        "type_name": event["event"],
        "timestamp": event.get("timestamp"),
        "intent_name": ((event.get("parse_data") or {}).get("intent") or {}).get("name"),
        "action_name": event.get("name"),
        "data": data if data is not None else json.dumps(event),
    }


def fill_engine(url: str) -> Engine:
    """A plain engine that may create and fill the table, as Rasa's own would."""
    return create_engine(driver_url(url))


def write_events(url: str, senders: Mapping[str, Sequence[Event]], by_time: bool = True) -> None:
    """Create the table if it is missing and append the senders' events; `by_time` interleaves
    the senders by timestamp, as Rasa writes them (each sender's own order is kept)."""
    table = declare_events_table(MetaData())
    rows = [
        event_row(sender_id, event) for sender_id, events in senders.items() for event in events
    ]
    if by_time:
        rows.sort(key=lambda row: float(row["timestamp"] or 0.0))
    engine = create_engine(url, poolclass=NullPool)
    try:
        table.create(engine, checkfirst=True)
        if rows:
            with engine.begin() as connection:
                connection.execute(table.insert(), rows)
    finally:
        engine.dispose()
