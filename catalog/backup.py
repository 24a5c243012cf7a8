"""Online backup and restore of a SQLite database (the catalog's, and Rasa's tracker through
`python -m launcher backup`), with SQLite's own backup API.

Why the backup API and not `cp`: a copy of the file taken while the stack writes (and of its
`-wal` file, which holds the newest rows until a checkpoint) can be torn or miss committed
rows. `sqlite3.Connection.backup` reads one consistent snapshot through SQLite's locks; in the
catalog's WAL mode writers carry on meanwhile. The whole database is copied in one step: in
steps, a busy writer would make SQLite start the copy over and over.

Backups hold shoppers' names, addresses and conversations: they are made 0600, written under a
temporary name and renamed, so a half-written backup never has the final name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

BACKUP_FILE_MODE: Final = 0o600
BACKUP_DIR_MODE: Final = 0o700
# the files SQLite keeps beside a database while it is open, each naming it
SIDE_FILES: Final = ("-wal", "-shm", "-journal")
STAMP_FORMAT: Final = "%Y%m%d-%H%M%S"
PROC: Final = Path("/proc")
HEALTHY: Final = "ok"


class BackupError(RuntimeError):
    """A backup or restore could not be made; the message says why, for the shop's owner."""


class InUseError(BackupError):
    """Restoring would overwrite a database that running processes have open."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore wrote: the file, its size and its row-holding tables."""

    path: Path
    size_bytes: int
    tables: int


def timestamped(folder: Path, stem: str, now: datetime | None = None) -> Path:
    """`folder/stem-YYYYMMDD-HHMMSS.sqlite3` (UTC): a new name per run, for nightly backups."""
    moment = now or datetime.now(UTC)
    return folder / f"{stem}-{moment.strftime(STAMP_FORMAT)}.sqlite3"


def _open_existing(path: Path, writable: bool = False) -> sqlite3.Connection:
    """A connection to an existing SQLite file (never creating one by mistake)."""
    if not path.is_file():
        raise BackupError(f"no database at {path}")
    mode = "rw" if writable else "ro"
    try:
        connection = sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}") from None
    return connection


def _check(connection: sqlite3.Connection, path: Path) -> int:
    """SQLite's quick check of a copy; its number of tables."""
    verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
    if verdict != HEALTHY:
        raise BackupError(f"{path} failed SQLite's check: {verdict}")
    count: int = connection.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    ).fetchone()[0]
    return count


def _private_new_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, BACKUP_FILE_MODE))


def backup_sqlite(source: Path, dest: Path, *, overwrite: bool = False) -> Copied:
    """Copy the database at `source` to `dest` while others may be writing to it: one
    consistent snapshot, checked, in a single self-contained file (no -wal beside it)."""
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} exists; choose a new name or a folder (or --force)")
    if not dest.parent.is_dir():
        raise BackupError(f"no such folder: {dest.parent}")
    partial = dest.with_name(f".{dest.name}.partial")
    _private_new_file(partial)
    try:
        with (
            contextlib.closing(_open_existing(source)) as origin,
            contextlib.closing(sqlite3.connect(partial)) as copy,
        ):
            origin.backup(copy)
            # the copy is one file whatever the source's mode: no -wal to forget
            copy.execute("PRAGMA journal_mode=DELETE")
            tables = _check(copy, dest)
        partial.replace(dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise
    return Copied(dest, dest.stat().st_size, tables)


def processes_using(path: Path) -> list[int] | None:
    """The ids of other processes that have `path` (or its -wal, -shm) open; None where the
    system does not say (no /proc), so the caller cannot know."""
    if not PROC.is_dir():
        return None
    wanted = {str(path.resolve())} | {f"{path.resolve()}{side}" for side in SIDE_FILES}
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or another user's
            for descriptor in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(descriptor) in wanted:
                        found.append(int(entry.name))
                        break
    return sorted(found)


def refuse_if_in_use(target: Path) -> None:
    """InUseError when a running stack (or anything else) has `target` open."""
    users = processes_using(target)
    if users is None:
        raise InUseError(
            f"cannot tell whether a running ShopDesk uses {target} on this system; stop it, "
            "then restore with --force"
        )
    if users:
        raise InUseError(
            f"{target} is open in running processes ({', '.join(map(str, users))}): is "
            "ShopDesk running? Stop it first, or restore with --force, which replaces the "
            "data under the running processes"
        )


def restore_sqlite(backup: Path, target: Path, *, force: bool = False) -> Copied:
    """Put the backup's data into the database at `target` (made 0600 when missing), through
    SQLite, so a -wal beside the target is dealt with too. Refuses (InUseError) while other
    processes have the target open, unless `force`."""
    if target.exists() and not force:
        refuse_if_in_use(target)
    if not target.parent.is_dir():
        raise BackupError(f"no such folder: {target.parent}")
    with contextlib.closing(_open_existing(backup)) as origin:
        _check(origin, backup)
        if not target.exists():
            _private_new_file(target)
        with contextlib.closing(sqlite3.connect(target)) as live:
            origin.backup(live)
            tables = _check(live, target)
    return Copied(target, target.stat().st_size, tables)
