"""The analytics benchmark's tracker store: temporary SQLite, a given SQLite file, or a fresh
PostgreSQL schema, and what the report says about it (server version, table size, events read).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, func, select, text
from sqlalchemy.engine import make_url

from tracker.writer import declare_events_table


def backend_of(url: str) -> str:
    from catalog.db import sqlalchemy_url

    return make_url(sqlalchemy_url(url)).get_backend_name()


@contextmanager
def tracker_store(url: str | None, folder: Path) -> Iterator[str]:
    """A URL whose `events` table the run may create, fill and drop."""
    if url is None:
        yield f"sqlite:///{folder / 'tracker.sqlite3'}"
        return
    from catalog.db import sqlalchemy_url

    parsed = make_url(sqlalchemy_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or path.exists():
            raise ValueError(f"--url: the SQLite file must not exist yet: {parsed.database!r}")
        try:
            yield url
        finally:
            path.unlink(missing_ok=True)
        return
    if backend != "postgresql":
        raise ValueError(f"--url: SQLite or PostgreSQL, not {backend}")
    schema = f"shopdesk_analytics_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(url))
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        joiner = "&" if "?" in url else "?"
        try:
            yield f"{url}{joiner}options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def server_version(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar())
    return f"PostgreSQL {version.split()[0]}"


def table_mib(engine: Engine) -> float | None:
    """The events table's size with its indexes (SQLite: the whole file)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database:
        return round(Path(database).stat().st_size / 2**20, 1)
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            size = connection.execute(text("SELECT pg_total_relation_size('events')")).scalar()
        return round(int(size or 0) / 2**20, 1)
    return None


def events_read(engine: Engine, since: datetime, until: datetime) -> int:
    """How many events read_conversations reads for the range: all of each sender who wrote."""
    table = declare_events_table(MetaData())
    writers = (
        select(table.c.sender_id)
        .where(
            table.c.type_name == "user",
            table.c.timestamp >= since.timestamp(),
            table.c.timestamp < until.timestamp(),
        )
        .distinct()
    )
    query = select(func.count()).select_from(table).where(table.c.sender_id.in_(writers))
    with engine.connect() as connection:
        return int(connection.execute(query).scalar() or 0)
