"""catalog.backup and `python -m catalog.cli backup|restore`: a restore drill.

Data is written, backed up while a writer keeps committing, restored into a new place, and
every row committed before the backup began is there. A restore over a database that another
process holds open is refused unless forced.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog import cli
from catalog.backup import (
    BackupError,
    InUseError,
    backup_sqlite,
    processes_using,
    restore_sqlite,
)
from catalog.backup_cli import EXIT_BAD_ARGUMENTS, EXIT_IN_USE, EXIT_OK
from catalog.db import engine_for, migrate

PRIVATE = 0o600
READY = "ready"


def rows(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        count: int = connection.execute("SELECT count(*) FROM notes").fetchone()[0]
    return count


def make_database(path: Path, count: int) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        connection.executemany(
            "INSERT INTO notes (body) VALUES (?)", [(f"note {i}",) for i in range(count)]
        )
        connection.commit()


class Writer:
    """A thread that commits a row at a time into `path` until stopped, as the stack does."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.committed = 0
        self.started = threading.Event()
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self._write, daemon=True)

    def _write(self) -> None:
        with contextlib.closing(sqlite3.connect(self.path, timeout=30)) as connection:
            while not self.halt.is_set():
                connection.execute("INSERT INTO notes (body) VALUES ('written meanwhile')")
                connection.commit()
                self.committed += 1
                if self.committed >= 50:
                    self.started.set()

    def __enter__(self) -> Writer:
        self.thread.start()
        assert self.started.wait(60), "the writer did not get going"
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        self.thread.join()


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[Path]:
    """Another process holding a database open, as a running stack does."""
    path = tmp_path / "live.sqlite3"
    make_database(path, 3)
    child = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT 1 FROM notes').fetchall(); print('ready', flush=True); "
         "time.sleep(600)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None and child.stdout.readline().strip() == READY
    try:
        yield path
    finally:
        child.kill()
        child.wait()


def test_a_backup_taken_while_writing_restores_every_earlier_row(tmp_path: Path) -> None:
    source = tmp_path / "shop.sqlite3"
    make_database(source, 1000)
    with Writer(source) as writer:
        before = 1000 + writer.committed
        copied = backup_sqlite(source, tmp_path / "backup.sqlite3")
        assert writer.committed > 0
    assert copied.path.stat().st_mode & 0o777 == PRIVATE
    assert not Path(f"{copied.path}-wal").exists()  # one self-contained file
    (tmp_path / "new").mkdir()
    target = tmp_path / "new" / "shop.sqlite3"
    result = restore_sqlite(copied.path, target)
    assert result.tables == 1
    assert target.stat().st_mode & 0o777 == PRIVATE
    assert before <= rows(target) <= rows(source)
    with contextlib.closing(sqlite3.connect(target)) as connection:
        assert connection.execute("SELECT body FROM notes WHERE id = 1").fetchone() == ("note 0",)


def test_no_backup_overwrites_an_earlier_one_unless_forced(tmp_path: Path) -> None:
    source = tmp_path / "shop.sqlite3"
    make_database(source, 2)
    dest = tmp_path / "backup.sqlite3"
    backup_sqlite(source, dest)
    with pytest.raises(BackupError, match="exists"):
        backup_sqlite(source, dest)
    backup_sqlite(source, dest, overwrite=True)
    with pytest.raises(BackupError, match="no database"):
        backup_sqlite(tmp_path / "missing.sqlite3", tmp_path / "other.sqlite3")
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello, this is no database at all " * 10)
    with pytest.raises(BackupError, match="not a readable SQLite database"):
        backup_sqlite(not_sqlite, tmp_path / "third.sqlite3")
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


def test_restore_refuses_a_database_in_use_unless_forced(holder: Path, tmp_path: Path) -> None:
    users = processes_using(holder)
    assert users is not None and users  # the holder is seen (Linux's /proc)
    backup = tmp_path / "backup.sqlite3"
    make_database(backup, 7)
    with pytest.raises(InUseError, match="is ShopDesk running"):
        restore_sqlite(backup, holder)
    assert rows(holder) == 3
    restore_sqlite(backup, holder, force=True)
    assert rows(holder) == 7


def test_the_catalog_cli_backs_up_and_restores_the_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "shop.sqlite3"
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", "")
    monkeypatch.setenv("SHOPDESK_DB_PATH", str(database))
    migrate(f"sqlite:///{database}")
    engine_for(f"sqlite:///{database}").dispose()  # this process holds it no more
    backups = tmp_path / "backups"
    backups.mkdir()

    assert cli.main(["backup", str(backups)]) == EXIT_OK
    [made] = backups.iterdir()
    assert made.name.startswith("shopdesk-") and made.stat().st_mode & 0o777 == PRIVATE
    assert "catalog: backed up to" in capsys.readouterr().out

    database.unlink()
    assert cli.main(["restore", str(made)]) == EXIT_OK
    with contextlib.closing(sqlite3.connect(database)) as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
    assert {"products", "alembic_version"} <= tables

    assert cli.main(["restore", str(tmp_path / "missing.sqlite3")]) == 1
    assert "no database at" in capsys.readouterr().err


def test_the_catalog_cli_sends_a_server_database_to_its_own_tools(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", "postgresql://shop@127.0.0.1/shop")
    assert cli.main(["backup", str(tmp_path)]) == EXIT_BAD_ARGUMENTS
    assert "pg_dump" in capsys.readouterr().err


def test_the_catalog_cli_refuses_a_restore_in_use(
    holder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", "")
    monkeypatch.setenv("SHOPDESK_DB_PATH", str(holder))
    backup = tmp_path / "backup.sqlite3"
    make_database(backup, 5)
    assert cli.main(["restore", str(backup)]) == EXIT_IN_USE
    assert cli.main(["restore", str(backup), "--force"]) == EXIT_OK
    assert rows(holder) == 5
