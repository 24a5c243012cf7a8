"""`python -m catalog.cli load`: create or migrate the database and load the Luma shop."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from catalog.db import migrate, session_scope
from catalog.luma import CatalogImportError, import_luma
from catalog.settings import LUMA_DATA_DIR, CatalogSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m catalog.cli",
        description="ShopDesk catalog: migrate the database and import the Luma demo shop. "
        "The database is SHOPDESK_DATABASE_URL, or the SQLite file SHOPDESK_DB_PATH "
        "(default var/shopdesk.sqlite3).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    load = sub.add_parser("load", help="migrate, then upsert the Luma catalog and sample orders")
    load.add_argument("--data-dir", type=Path, default=LUMA_DATA_DIR, help="folder of Luma CSVs")
    sub.add_parser("migrate", help="bring the schema to the newest revision")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = CatalogSettings.from_env()
    started = time.monotonic()
    migrate(settings.database_url)
    if args.command == "load":
        if not args.data_dir.is_dir():
            print(f"catalog: no such folder {args.data_dir}", file=sys.stderr)
            return 2
        try:
            with session_scope(settings.database_url) as session:
                report = import_luma(session, args.data_dir)
        except CatalogImportError as error:
            print(f"catalog: nothing imported: {error}", file=sys.stderr)
            return 1
        print(f"catalog: {report.summary()} in {time.monotonic() - started:.1f}s")
    else:
        print("catalog: schema is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
