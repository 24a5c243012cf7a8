"""Rasa's `events` table: reflected, read in chunks, and a conversation's events in order.

Rasa 3.6's SQLTrackerStore keeps every event in one table (id, sender_id, type_name,
timestamp, intent_name, action_name, data: the event as JSON). The table is Rasa's: it is
reflected here, never declared or created (tracker/writer.py declares it for tests and
benchmarks only), and the same SQLAlchemy Core reads it on SQLite and PostgreSQL.

The web server reads a conversation back after every message to number and push what is new
(web/hub.py). Asking Rasa's HTTP API for the tracker made Rasa deserialise and serialise the
whole conversation on its one event loop: about 8 ms of Rasa's CPU per message, a third of
all it did (docs/performance.md). The rows are the same events, in Rasa's own order (by id),
and Rasa has committed them before it answers a message or an API call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Executable,
    MetaData,
    Select,
    Table,
    inspect,
    select,
)
from sqlalchemy.exc import NoSuchTableError

from tracker.store import is_missing, read_only_engine, writing_engine

EVENTS_TABLE: Final = "events"  # Rasa 3.6's SQLTrackerStore
CHUNK: Final = 500  # values per IN (...): well under SQLite's limit on bound parameters

T = TypeVar("T")


def events_table(bind: Engine | Connection) -> Table | None:
    """Rasa's `events` table as Rasa made it; None before Rasa's first start."""
    try:
        return Table(EVENTS_TABLE, MetaData(), autoload_with=bind)
    except NoSuchTableError:
        return None


def parse_event(data: str | None) -> dict[str, Any]:
    """One row's `data` as an event; {} for anything that is not a JSON object."""
    try:
        event = json.loads(data or "{}")
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """`items` in slices of `CHUNK`: one IN (...) each."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def in_chunks(
    connection: Connection, values: Sequence[T], statement: Callable[[Sequence[T]], Executable]
) -> Iterator[Sequence[Any]]:
    """The rows of `statement(chunk)` for every chunk of `values`, in order: the one way a
    query over many conversations or event ids is split, since an IN (...) of thousands
    would pass SQLite's limit on bound parameters."""
    for chunk in chunks(values):
        yield from connection.execute(statement(chunk))


def select_in_chunks(
    connection: Connection, query: Select[Any], column: ColumnElement[Any], values: Sequence[T]
) -> Iterator[Sequence[Any]]:
    """The rows of `query` where `column` is one of `values`, a chunk of them at a time."""
    return in_chunks(connection, values, lambda chunk: query.where(column.in_(chunk)))


def rowcount_in_chunks(
    connection: Connection, values: Sequence[T], statement: Callable[[Sequence[T]], Executable]
) -> int:
    """How many rows `statement(chunk)` (an UPDATE or DELETE) changed, over every chunk."""
    return sum(int(getattr(connection.execute(statement(c)), "rowcount", 0) or 0)
               for c in chunks(values))  # fmt: skip


@dataclass(frozen=True)
class Events:
    """A connection in a transaction on Rasa's store, and its `events` table."""

    connection: Connection
    table: Table


@contextmanager
def open_events(url: str, *, write: bool = False) -> Iterator[Events | None]:
    """A transaction on Rasa's `events` table; None when there is no tracker store yet.

    A missing SQLite file is not created (Rasa has simply not run). Reading goes through
    `read_only_engine`, writing (`write`) through `writing_engine`; neither is pooled: these
    are one-off jobs, and Rasa itself keeps using the database.
    """
    if is_missing(url):
        yield None
        return
    engine = writing_engine(url) if write else read_only_engine(url, pooled=False)
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table(EVENTS_TABLE):
                yield None
                return
            yield Events(connection, Table(EVENTS_TABLE, MetaData(), autoload_with=connection))
    finally:
        engine.dispose()


class TrackerEvents:
    """The web server's reader of Rasa's store: `url` as `tracker_url_from_env()` gives it.
    Pooled and read-only; the table is reflected once Rasa has made it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = read_only_engine(url)
        self._table: Table | None = None

    def table(self) -> Table | None:
        """Rasa's table once Rasa has made it; None before its first start (nothing is
        created meanwhile: a missing SQLite file stays missing)."""
        if self._table is None and not is_missing(self.url):
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
