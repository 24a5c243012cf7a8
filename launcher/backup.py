"""`python -m launcher backup DEST` and `restore SOURCE`: both SQLite databases of the embedded
setup at once, the catalog (orders, agents, handoffs) and Rasa's tracker (conversations),
with SQLite's online backup API (catalog/backup.py) while the stack runs.

Why both together: a restored catalog with another day's conversations would show agents
handoffs whose transcripts are missing. The scaled setup keeps both in PostgreSQL, whose own
tools (pg_dump) back it up in one go.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from catalog.backup import (
    BACKUP_DIR_MODE,
    BackupError,
    Copied,
    InUseError,
    backup_sqlite,
    refuse_if_in_use,
    restore_sqlite,
)
from launcher.stack import StackConfig, in_root, shop_database_file

CATALOG_FILE: Final = "catalog.sqlite3"
TRACKER_FILE: Final = "tracker.sqlite3"
EXIT_OK, EXIT_FAILED = 0, 1
EXIT_IN_USE: Final = 4
DESCRIPTION = """\
backup DEST: copies the catalog (SHOPDESK_DB_PATH, default var/shopdesk.sqlite3) and Rasa's
tracker (SHOPDESK_TRACKER_DB, default var/rasa_tracker.sqlite3) into the folder DEST (made
0700) as catalog.sqlite3 and tracker.sqlite3 (0600), while ShopDesk runs.
restore SOURCE: puts such a folder's two databases back; refused while ShopDesk runs (any
process has them open) unless --force.
exit status: 0 done; 1 failed (or not the embedded SQLite setup); 4 refused: in use."""


@dataclass(frozen=True)
class Databases:
    """The embedded setup's two SQLite files, as the stack's processes find them."""

    catalog: Path
    tracker: Path

    @classmethod
    def of(cls, config: StackConfig) -> Databases:
        catalog = shop_database_file(config.env())
        if config.deployment != "embedded" or catalog is None:
            raise BackupError(
                "the databases are on a server (the scaled setup, or SHOPDESK_DATABASE_URL): "
                "back them up with its own tools (pg_dump, pg_restore)"
            )
        return cls(catalog, in_root(config.tracker_db))

    def pairs(self, folder: Path) -> list[tuple[Path, Path]]:
        """(the live file, its file in a backup folder)."""
        return [(self.catalog, folder / CATALOG_FILE), (self.tracker, folder / TRACKER_FILE)]


def add_arguments(backup: argparse.ArgumentParser, restore: argparse.ArgumentParser) -> None:
    backup.add_argument("dest", type=Path, metavar="DEST", help="a new or empty folder")
    backup.add_argument("--force", action="store_true", help="overwrite an earlier backup there")
    restore.add_argument("source", type=Path, metavar="SOURCE", help="a folder `backup` wrote")
    restore.add_argument(
        "--force", action="store_true", help="even while running processes have them open"
    )


def backup(config: StackConfig, dest: Path, force: bool = False) -> list[Copied]:
    """Both databases into `dest`; a database not made yet (no conversation so far) is
    left out rather than failing the other's backup."""
    databases = Databases.of(config)
    dest.mkdir(mode=BACKUP_DIR_MODE, parents=True, exist_ok=True)
    return [
        backup_sqlite(live, copy, overwrite=force)
        for live, copy in databases.pairs(dest)
        if live.exists()
    ]


def restore(config: StackConfig, source: Path, force: bool = False) -> list[Copied]:
    """Both databases from `source`, each checked first; none is touched if either is in use
    (unless `force`) or missing from the backup."""
    pairs = Databases.of(config).pairs(source)
    if missing := [copy for _, copy in pairs if not copy.is_file()]:
        raise BackupError(f"not a ShopDesk backup: missing {', '.join(map(str, missing))}")
    if not force:
        for live, _ in pairs:
            if live.exists():
                refuse_if_in_use(live)
    for live, _ in pairs:
        live.parent.mkdir(mode=BACKUP_DIR_MODE, parents=True, exist_ok=True)
    return [restore_sqlite(copy, live, force=True) for live, copy in pairs]


def run(args: argparse.Namespace, config: StackConfig) -> int:
    """The command line's `backup` or `restore`: lines saying what was written, or a
    sentence saying why not."""
    try:
        if args.command == "backup":
            for copied in backup(config, args.dest, args.force):
                print(f"backed up to {copied.path} ({copied.size_bytes / 1_000_000:.1f} MB)")
        else:
            for copied in restore(config, args.source, args.force):
                print(f"restored {copied.path} ({copied.tables} tables)")
    except InUseError as error:
        print(f"shopdesk: {error}", file=sys.stderr)
        return EXIT_IN_USE
    except (BackupError, OSError) as error:
        print(f"shopdesk: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
