"""Engine, per-unit-of-work sessions and schema migrations (Alembic)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Dialect, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from core.clock import as_utc

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def sqlalchemy_url(url: str) -> str:
    """The URL with this venv's PostgreSQL driver (psycopg 3): a plain `postgresql://` URL, as
    Rasa's side (psycopg2) and libpq tools take it, works here too, so one URL serves both."""
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


class UTCDateTime(TypeDecorator[datetime]):
    """A moment stored as naive UTC (the column stays a plain DATETIME / TIMESTAMP WITHOUT
    TIME ZONE, so no migration) and handed back aware, in UTC.

    Why: the shop database once held naive local times (support tables) beside naive UTC
    (order flows), so ages and cut-offs disagreed by the server's offset. Every timestamp
    column uses this type: an aware value of any zone is stored as UTC, a naive one is taken
    to be UTC already (core.clock.as_utc), and what comes back compares with
    core.clock.utc_now().
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


# The database file and the folders the code makes for it: readable by their owner only, as
# they hold shoppers' names, addresses and orders.
SQLITE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


@cache
def engine_for(url: str) -> Engine:
    """One engine (and connection pool) per database URL per process."""
    url = sqlalchemy_url(url)
    parsed = make_url(url)
    engine = create_engine(url, pool_pre_ping=True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            create_private_file(Path(parsed.database))
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_private_file(path: Path) -> None:
    """Make an empty SQLite file (a valid empty database) readable by its owner only, and its
    missing folders private, before SQLite would make it with the process's umask (often
    world-readable). An existing file is left as it is."""
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR_MODE, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SQLITE_FILE_MODE))


def secure_sqlite(engine: Engine) -> Engine:
    """On SQLite, make every connection of `engine` overwrite what it deletes with zeros, for
    engines made elsewhere than `engine_for` (Rasa's tracker store has its own:
    tracker/store.py)."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _secure_delete)
    return engine


def _secure_delete(dbapi_connection: object, _record: object) -> None:
    # Without it a deleted row stays in the file's free space until the page is reused: an
    # erased shopper's e-mail or address could be read back from the file or a backup of it.
    # It is a setting of each connection, not of the file, so every connection turns it on.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def _sqlite_pragmas(dbapi_connection: object, record: object) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers work during an import.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()
    _secure_delete(dbapi_connection, record)


def flush_deleted(url: str) -> None:
    """Write the zeroed pages of a SQLite file's write-ahead log into the file and empty the
    log (`PRAGMA wal_checkpoint(TRUNCATE)`), so rows deleted (with secure_delete) are gone
    from both files now rather than at the next automatic checkpoint. Nothing on other
    databases. For erasure: call it after the deleting transaction committed."""
    engine = engine_for(url)
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A session for one unit of work: commit on success, roll back on any error."""
    session = sessionmaker(engine_for(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def migrate(url: str) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
