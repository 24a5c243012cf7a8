"""Compaction: what an erasure deleted cannot be read back from a SQLite file.

A deleted row's bytes can linger in free pages, or in pages another connection (Rasa's,
without `secure_delete`) moved around, and in the write-ahead log. `compact_sqlite` rewrites
the file without its free space and empties the log.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from tracker.store import SQLITE_BUSY_S, driver_url

log = logging.getLogger(__name__)
VACUUM: Final = "VACUUM"
CHECKPOINT: Final = "PRAGMA wal_checkpoint(TRUNCATE)"


def compact_sqlite(url: str) -> bool:
    """Rewrite a SQLite database file without its free space, and empty its write-ahead log:
    a deleted row's bytes can linger in pages that another connection (Rasa's, without
    `secure_delete`) moved around. Nothing to do on another database (PostgreSQL's own
    VACUUM reclaims dead rows) or a missing file. False, logged, if the file was busy:
    run `privacy compact` again later."""
    parsed = make_url(driver_url(url))
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return True
    if not Path(database).is_file():
        return True
    engine = create_engine(parsed, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_S})
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(VACUUM)
            busy = connection.exec_driver_sql(CHECKPOINT).first()
        if busy is not None and busy[0]:
            raise OperationalError(CHECKPOINT, None, TimeoutError("busy"))
        return True
    except SQLAlchemyError as error:
        log.warning(
            "%s could not be compacted (%s); deleted data may linger in its free space until "
            "`python -m launcher.privacy compact` succeeds",
            Path(database).name,
            type(getattr(error, "orig", None) or error).__name__,
        )
        return False
    finally:
        engine.dispose()
