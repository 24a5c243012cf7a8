"""`python -m launcher backup|restore`: the catalog and Rasa's tracker together, online; a
restore refused while a process has them open; the scaled setup sent to pg_dump."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.backup import BackupError
from launcher.__main__ import main
from launcher.backup import CATALOG_FILE, EXIT_IN_USE, TRACKER_FILE, restore
from launcher.fresh import fresh_config


def make(path: Path, table: str, rows: int) -> None:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"CREATE TABLE {table} (n INTEGER)")
        connection.executemany(f"INSERT INTO {table} VALUES (?)", [(i,) for i in range(rows)])
        connection.commit()


def count(path: Path, table: str) -> int:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        found: int = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return found


@pytest.fixture
def stack_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """The two databases where a stack's settings put them, with some rows."""
    catalog, tracker = tmp_path / "shop.sqlite3", tmp_path / "tracker.sqlite3"
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", "")
    monkeypatch.setenv("SHOPDESK_DB_PATH", str(catalog))
    monkeypatch.setenv("SHOPDESK_TRACKER_DB", str(tracker))
    monkeypatch.delenv("SHOPDESK_DEPLOYMENT", raising=False)
    make(catalog, "orders", 5)
    make(tracker, "events", 9)
    return catalog, tracker


def test_both_databases_are_backed_up_and_restored(
    stack_env: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog, tracker = stack_env
    dest = tmp_path / "backups" / "monday"
    assert main(["backup", str(dest)]) == 0
    assert dest.stat().st_mode & 0o777 == 0o700
    for name in (CATALOG_FILE, TRACKER_FILE):
        assert (dest / name).stat().st_mode & 0o777 == 0o600
    assert "backed up to" in capsys.readouterr().out
    assert main(["backup", str(dest)]) == 1  # an earlier backup stays unless --force
    assert "exists" in capsys.readouterr().err

    catalog.unlink()
    tracker.unlink()
    assert main(["restore", str(dest)]) == 0
    assert count(catalog, "orders") == 5 and count(tracker, "events") == 9


def test_a_restore_is_refused_while_the_stack_has_a_database_open(
    stack_env: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, tracker = stack_env
    dest = tmp_path / "backup"
    assert main(["backup", str(dest)]) == 0
    with contextlib.closing(sqlite3.connect(tracker)) as connection:
        connection.execute("INSERT INTO events VALUES (100)")
        connection.commit()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1]); "
         "c.execute('SELECT 1').fetchall(); print('ready', flush=True); time.sleep(600)",
         str(tracker)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        assert main(["restore", str(dest)]) == EXIT_IN_USE
        assert "is ShopDesk running" in capsys.readouterr().err
        assert count(tracker, "events") == 10  # neither database was touched
        assert main(["restore", str(dest), "--force"]) == 0
        assert count(tracker, "events") == 9
    finally:
        holder.kill()
        holder.wait()


def test_an_incomplete_backup_folder_restores_nothing(
    stack_env: tuple[Path, Path], tmp_path: Path
) -> None:
    (tmp_path / "half").mkdir()
    make(tmp_path / "half" / CATALOG_FILE, "orders", 1)
    config = fresh_config(tmp_path, tmp_path / "logs")
    with pytest.raises(BackupError, match="not a ShopDesk backup"):
        restore(config, tmp_path / "half")
    assert count(stack_env[0], "orders") == 5


def test_the_scaled_setup_is_sent_to_its_database_tools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", "postgresql://shop@127.0.0.1/shop")
    assert main(["backup", str(tmp_path / "b")]) == 1
    assert "pg_dump" in capsys.readouterr().err
