"""catalog.db: SQLite files are private to their owner, and what our connections delete does
not stay readable in the file (PRAGMA secure_delete)."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, text
from sqlalchemy.pool import Pool

from catalog.db import engine_for, flush_deleted, migrate, session_scope
from catalog.models import Complaint
from catalog.support import record_complaint
from core.clock import utc_now
from privacy.retention import apply_retention
from tracker.writer import write_events

# Sure not to appear in a SQLite file by chance.
PLANTED = "erase-me-7f3c2a91-shopper@example.com-221B-Baker-Street"
OLD = datetime(2020, 1, 1).timestamp()


def file_bytes(database: Path) -> bytes:
    """The database and whatever SQLite keeps beside it (write-ahead log, journal)."""
    parts = [database, *(database.with_name(database.name + s) for s in ("-wal", "-journal"))]
    return b"".join(part.read_bytes() for part in parts if part.exists())


@pytest.fixture
def wide_umask() -> Iterator[None]:
    """A umask that would make files world-readable, as on many systems by default."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def secure_delete_off_by_default() -> Iterator[None]:
    """Every new SQLite connection starts with secure_delete off, as in SQLite's own default
    build (Debian's is compiled with it on): our code must turn it on itself."""

    def off(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.execute("PRAGMA secure_delete=OFF")  # type: ignore[attr-defined]

    # A listener on the Pool class runs before the ones each engine adds for itself.
    event.listen(Pool, "connect", off)
    try:
        yield
    finally:
        event.remove(Pool, "connect", off)


def test_a_new_sqlite_database_and_its_folders_are_private(
    tmp_path: Path, wide_umask: None
) -> None:
    database = tmp_path / "made" / "here" / "shop.sqlite3"
    url = f"sqlite:///{database}"
    migrate(url)
    with engine_for(url).begin() as connection:  # written: the WAL files exist now
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        connection.exec_driver_sql("INSERT INTO notes (text) VALUES ('hello')")
    for folder in (tmp_path / "made", tmp_path / "made" / "here"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for path in database.parent.iterdir():  # the file, its -wal and -shm
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_an_existing_sqlite_file_is_used_as_it_is(tmp_path: Path) -> None:
    database = tmp_path / "given.sqlite3"
    url = f"sqlite:///{database}"
    with engine_for(url).begin() as connection:
        connection.exec_driver_sql("CREATE TABLE kept (value TEXT)")
        connection.exec_driver_sql("INSERT INTO kept VALUES ('still here')")
    engine_for.cache_clear()
    with engine_for(url).connect() as connection:
        assert connection.exec_driver_sql("SELECT value FROM kept").scalar() == "still here"


def test_a_row_deleted_through_our_engine_is_gone_from_the_file(
    tmp_path: Path, secure_delete_off_by_default: None
) -> None:
    database = tmp_path / "shop.sqlite3"
    url = f"sqlite:///{database}"
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        for n in range(20):  # the planted row shares its page with rows that stay
            connection.exec_driver_sql(f"INSERT INTO notes (text) VALUES ('kept row {n}')")
        connection.exec_driver_sql(f"INSERT INTO notes (text) VALUES ('{PLANTED}')")
    flush_deleted(url)
    assert PLANTED.encode() in file_bytes(database)  # the check can see it

    with engine.begin() as connection:
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        connection.exec_driver_sql(f"DELETE FROM notes WHERE text = '{PLANTED}'")
    flush_deleted(url)
    assert PLANTED.encode() not in file_bytes(database)
    assert b"kept row 7" in file_bytes(database)
    engine.dispose()
    assert PLANTED.encode() not in file_bytes(database)


def test_without_secure_delete_the_deleted_row_would_stay_in_the_file(tmp_path: Path) -> None:
    """The control: what the test above guards against is real."""
    database = tmp_path / "plain.sqlite3"
    url = f"sqlite:///{database}"
    engine = engine_for(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA secure_delete=OFF")
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        connection.exec_driver_sql("INSERT INTO notes (text) VALUES ('kept row')")
        connection.exec_driver_sql(f"INSERT INTO notes (text) VALUES ('{PLANTED}')")
        connection.exec_driver_sql(f"DELETE FROM notes WHERE text = '{PLANTED}'")
    flush_deleted(url)
    assert PLANTED.encode() in file_bytes(database)
    engine.dispose()


def test_retention_leaves_no_trace_of_the_deleted_events_in_rasas_file(
    tmp_path: Path, secure_delete_off_by_default: None
) -> None:
    """privacy's connection to Rasa's tracker store (tracker.store.writing_engine) zeroes what
    it deletes."""
    shop_url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    tracker = tmp_path / "rasa_tracker.sqlite3"
    tracker_url = f"sqlite:///{tracker}"
    migrate(shop_url)
    said = {"event": "user", "text": f"ship it to {PLANTED}", "timestamp": OLD}
    write_events(tracker_url, {"old-chat": [said], "other-chat": [{**said, "text": "hi"}]})
    write_events(tracker_url, {"other-chat": [{"event": "user", "text": "still here"}]})
    assert PLANTED.encode() in file_bytes(tracker)
    with session_scope(shop_url) as session:
        result = apply_retention(
            session, tracker_url, older_than_days=30, forgetter=lambda *_: 0
        )  # no training data here to forget
    assert result.conversations == 1
    assert PLANTED.encode() not in file_bytes(tracker)
    assert b"still here" in file_bytes(tracker)


@pytest.fixture
def new_york_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server's local zone is New York (UTC-5/-4), as TZ=America/New_York sets it."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_stored_time_comes_back_aware_in_utc(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(url)
    in_paris = datetime(2025, 6, 18, 12, 30, tzinfo=ZoneInfo("Europe/Paris"))
    with session_scope(url) as session:
        complaint = record_complaint(session, "chat-1", "late parcel", now=in_paris)
        complaint_id = complaint.id
    with session_scope(url) as session:
        stored = session.get(Complaint, complaint_id)
        assert stored is not None
        assert stored.created_at == datetime(2025, 6, 18, 10, 30, tzinfo=UTC)
        assert stored.created_at.tzinfo is UTC
        raw = session.execute(text("SELECT created_at FROM complaints")).scalar_one()
    assert str(raw).startswith("2025-06-18 10:30:00")  # the column holds naive UTC


@pytest.mark.usefixtures("new_york_time")
def test_a_time_written_now_is_utc_whatever_the_servers_zone(tmp_path: Path) -> None:
    assert datetime.now().astimezone().utcoffset() != timedelta(0)  # really not UTC here
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        complaint_id = record_complaint(session, "chat-1", "late parcel").id
    with session_scope(url) as session:
        stored = session.get(Complaint, complaint_id)
        assert stored is not None
    assert abs(stored.created_at - utc_now()) < timedelta(seconds=5)
