"""A conversation's events, read straight from Rasa's tracker store (its `events` table).

The web server reads a conversation back after every message to number and push what is new
(hub.py). Asking Rasa's HTTP API for the tracker made Rasa deserialise and serialise the whole
conversation on its one event loop: about 8 ms of Rasa's CPU per message, a third of all it
did (docs/performance.md). The rows are the same events, in Rasa's own order (by id), and
Rasa has committed them before it answers a message or an API call. Read-only.

`events_table` is the one way this project reflects that table: the shop's analytics
(analytics/conversations.py) read the same rows for many conversations at once.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, MetaData, Table, create_engine, select
from sqlalchemy.exc import NoSuchTableError

from catalog.db import sqlalchemy_url

EVENTS_TABLE = "events"  # Rasa 3.6's SQLTrackerStore: id, sender_id, type_name, timestamp, ...


def events_table(engine: Engine) -> Table | None:
    """Rasa's `events` table as Rasa made it; None before Rasa's first start.

    Reflected, never declared or created here: the table is Rasa's, and only Rasa writes it.
    """
    try:
        return Table(EVENTS_TABLE, MetaData(), autoload_with=engine)
    except NoSuchTableError:
        return None


class TrackerEvents:
    """Rasa's SQL tracker store: `url` as `catalog.privacy.tracker_url_from_env()` gives it."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True)
        self._table: Table | None = None

    def table(self) -> Table | None:
        """Rasa's table once Rasa has made it; None before its first start."""
        if self._table is None:
            self._table = events_table(self.engine)
        return self._table

    def events(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every event of the conversation, across sessions, as Rasa's tracker API lists them."""
        table = self.table()
        if table is None:
            return []
        query = (
            select(table.c.data).where(table.c.sender_id == conversation_id).order_by(table.c.id)
        )
        with self.engine.connect() as connection:
            return [json.loads(data) for (data,) in connection.execute(query)]

    def close(self) -> None:
        self.engine.dispose()
