"""Where Rasa's tracker store is and how ShopDesk connects to it.

The tracker store is Rasa's database, not the shop's: ShopDesk's own connection settings
(foreign keys on, WAL journal, a private file made when missing: `catalog.db.engine_for`)
must never be applied to it. Opening it with those would create an empty database where Rasa
keeps its conversations and switch Rasa's file to another journal mode behind its back. So
this module has its own two ways in:

- `read_only_engine`: for the web server's transcripts, the analytics page and the learning
  loop. A write through it fails (SQLite `query_only`, PostgreSQL
  `default_transaction_read_only`), so a reader can never change a conversation.
- `writing_engine`: for the jobs a shopper's rights demand (erasure, retention, masking).
  Not pooled (one-off jobs, beside Rasa using the same file), waits for Rasa's writes, and
  on SQLite overwrites what it deletes with zeros (`secure_delete`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from core.paths import VAR_DIR
from core.settings import Section, Text, var

URL_ENV: Final = "SHOPDESK_TRACKER_DB_URL"
FILE_ENV: Final = "SHOPDESK_TRACKER_DB"
DEFAULT_TRACKER_DB: Final = VAR_DIR / "rasa_tracker.sqlite3"
SQLITE_BUSY_S: Final = 30.0  # how long a connection waits for Rasa to finish a write
_PLAIN_POSTGRES: Final = ("postgresql://", "postgres://")
_PSYCOPG: Final = "postgresql+psycopg://"
_PG_READ_ONLY: Final = "-c default_transaction_read_only=on"


class TrackerSettings(Section):
    """Where Rasa's tracker store is: a URL (the scaled setup's PostgreSQL), else the SQLite
    file the launcher gives Rasa."""

    url: Text = var(URL_ENV, "")
    file: Text = var(FILE_ENV, "")

    def tracker_url(self) -> str:
        if self.url:
            return self.url
        file = Path(self.file).expanduser().resolve() if self.file else DEFAULT_TRACKER_DB
        return f"sqlite:///{file}"


def tracker_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Rasa's tracker store: `SHOPDESK_TRACKER_DB_URL`, else the SQLite file that the launcher
    gives Rasa (`SHOPDESK_TRACKER_DB`, default var/rasa_tracker.sqlite3)."""
    return TrackerSettings.from_env(environ).tracker_url()


def driver_url(url: str) -> str:
    """The URL with this venv's PostgreSQL driver (psycopg 3): Rasa's side (psycopg2) takes a
    plain `postgresql://` URL, so one URL serves both."""
    for plain in _PLAIN_POSTGRES:
        if url.startswith(plain):
            return _PSYCOPG + url[len(plain) :]
    return url


def sqlite_file(url: str) -> Path | None:
    """The SQLite file behind `url`; None for another database or an in-memory one."""
    parsed = make_url(driver_url(url))
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


def is_missing(url: str) -> bool:
    """Whether there is certainly nothing to read: a SQLite URL whose file does not exist
    (Rasa has not run yet), or an in-memory SQLite database. Connecting would create it."""
    parsed = make_url(driver_url(url))
    if parsed.get_backend_name() != "sqlite":
        return False
    file = sqlite_file(url)
    return file is None or not file.is_file()


def read_only_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine that can only read Rasa's tables. `pooled` for a long-running reader (the
    web server); a one-off job passes False, so no connection outlives it."""
    url = driver_url(url)
    options: dict[str, Any] = {"poolclass": NullPool} if not pooled else {"pool_pre_ping": True}
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # libpq's `options`, added to any the URL gives (a schema's search_path, say)
        given = parsed.query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        read_only = f"{given} {_PG_READ_ONLY}".strip()
        return create_engine(parsed.update_query_dict({"options": read_only}), **options)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_S}, **options)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_query_only)
    return engine


def writing_engine(url: str) -> Engine:
    """An engine for the privacy jobs that change Rasa's rows: not pooled, and on SQLite it
    waits for Rasa's writes and zeroes what it deletes."""
    url = driver_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, poolclass=NullPool)
    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_S})
    event.listen(engine, "connect", _sqlite_secure_delete)
    return engine


def _sqlite_query_only(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def _sqlite_secure_delete(dbapi_connection: Any, _record: object) -> None:
    # Without it a deleted row stays in the file's free space until the page is reused: an
    # erased shopper's words could be read back from the file or a backup of it. It is a
    # setting of each connection, not of the file, so every connection turns it on.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
