"""`python -m catalog.cli backup DEST` and `restore BACKUP`: the catalog's SQLite database,
copied online (catalog/backup.py). catalog/cli.py adds them and runs them before any migration:
a backup is of the database as it is, and a restore must not upgrade the file it replaces.
`python -m launcher backup` does the same for the catalog and Rasa's tracker together."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Final

from sqlalchemy.engine import make_url

from catalog.backup import (
    BackupError,
    Copied,
    InUseError,
    backup_sqlite,
    restore_sqlite,
    timestamped,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_ARGUMENTS = 0, 1, 2
EXIT_IN_USE: Final = 4
BACKUP_STEM: Final = "shopdesk"
COMMANDS: Final = ("backup", "restore")

BACKUP_EPILOG = """\
DEST is a folder (the backup is named shopdesk-YYYYMMDD-HHMMSS.sqlite3 in it, UTC) or a new
file. The copy is taken while ShopDesk runs, with SQLite's backup API: one consistent
snapshot, checked, mode 0600. On PostgreSQL (SHOPDESK_DATABASE_URL) use pg_dump instead.

exit status: 0 done; 1 failed; 2 bad arguments or not a SQLite catalog.
"""
RESTORE_EPILOG = """\
Replaces the catalog database (SHOPDESK_DB_PATH, default var/shopdesk.sqlite3) with the
backup's data. Refused while running processes have the database open (stop ShopDesk first)
unless --force.

exit status: 0 done; 1 failed; 2 bad arguments; 4 refused: the database is in use.
"""


def add_backup_parsers(sub: Any) -> None:
    """The `backup` and `restore` subparsers, on catalog/cli.py's subparsers."""
    backup = sub.add_parser(
        "backup",
        help="copy the catalog's SQLite database while it is in use (no migration)",
        description="An online backup of the catalog's SQLite database.",
        epilog=BACKUP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backup.add_argument("dest", type=Path, metavar="DEST", help="a folder or a new file")
    backup.add_argument("--force", action="store_true", help="overwrite DEST if it exists")
    restore = sub.add_parser(
        "restore",
        help="put a backup's data back into the catalog's SQLite database",
        description="Restore the catalog's SQLite database from a backup.",
        epilog=RESTORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    restore.add_argument("backup", type=Path, metavar="BACKUP", help="a file `backup` wrote")
    restore.add_argument(
        "--force", action="store_true", help="even while running processes have it open"
    )


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL; None for a server database (or an in-memory one)."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser().resolve()


def backup_destination(dest: Path, stem: str) -> Path:
    """A folder gets a timestamped file in it; anything else is the file itself."""
    return timestamped(dest, stem) if dest.is_dir() else dest


def say(copied: Copied, verb: str) -> None:
    print(f"{verb} {copied.path} ({copied.size_bytes / 1_000_000:.1f} MB, {copied.tables} tables)")


def run_backup_command(args: argparse.Namespace, database_url: str) -> int:
    """`backup` or `restore` on the catalog at `database_url`: a sentence, never a traceback."""
    database = sqlite_path(database_url)
    if database is None:
        print(
            "catalog: the catalog is not a SQLite file (SHOPDESK_DATABASE_URL): use the "
            "database's own tools (pg_dump, pg_restore)",
            file=sys.stderr,
        )
        return EXIT_BAD_ARGUMENTS
    try:
        if args.command == "backup":
            copied = backup_sqlite(
                database, backup_destination(args.dest, BACKUP_STEM), overwrite=args.force
            )
            say(copied, "catalog: backed up to")
        else:
            copied = restore_sqlite(args.backup, database, force=args.force)
            say(copied, "catalog: restored")
    except InUseError as error:
        print(f"catalog: {error}", file=sys.stderr)
        return EXIT_IN_USE
    except (BackupError, OSError) as error:
        print(f"catalog: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
