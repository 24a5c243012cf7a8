"""`python -m catalog.cli`: migrate the catalog database and import products into it.

Each import runs in one transaction together with the search index and ranking statistics it
invalidates, so shoppers see either the old catalog or the new one, never half of each.
Embeddings are refreshed after the commit: they are slow, and a failure there must not undo
a good import.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from catalog.db import migrate, session_scope
from catalog.embeddings import refresh_embeddings
from catalog.importing import CatalogImportError, ImportReport, PricePolicy
from catalog.luma import import_luma
from catalog.merchant_feed import detect_format, import_merchant_feed
from catalog.search_index import refresh_search
from catalog.settings import LUMA_DATA_DIR, CatalogSettings

SHOWN_REJECTIONS = 10
EXIT_OK, EXIT_NOTHING_IMPORTED, EXIT_BAD_ARGUMENTS, EXIT_NO_EMBEDDINGS = 0, 1, 2, 3
FORMATS = ("auto", "merchant-tsv", "merchant-xml", "magento-dir")

EPILOG = """\
formats:
  magento-dir    a folder of Magento product CSVs, like the Luma demo shop
  merchant-tsv   a Google Merchant Center feed, tab-separated with a header row
  merchant-xml   a Google Merchant Center feed, RSS 2.0 with g: fields
  auto           a folder is magento-dir; .xml is XML, .tsv/.txt is TSV; else sniffed

An import upserts by SKU: running it again changes nothing. Rows that cannot be used are
reported as file:line: field: reason and skipped; the rest is imported. A file that cannot be
read at all imports nothing. Prices must be in the shop's currency (--currency, USD by
default) unless --rate gives an exchange rate.

exit status: 0 imported; 1 nothing imported (unreadable file, or every row rejected);
2 bad arguments; 3 imported, but the embeddings could not be refreshed.

The database is SHOPDESK_DATABASE_URL, or the SQLite file SHOPDESK_DB_PATH
(default var/shopdesk.sqlite3).
"""


class _NothingAccepted(Exception):
    """Every row was rejected: roll back and say so."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.summary())
        self.report = report


def _rate(text: str) -> tuple[str, Decimal]:
    code, _, value = text.partition("=")
    try:
        rate = Decimal(value)
    except InvalidOperation:
        rate = Decimal(0)
    if len(code) != 3 or not code.isalpha() or not rate.is_finite() or rate <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not CODE=RATE, e.g. EUR=1.08")
    return code.upper(), rate


def _currency(text: str) -> str:
    if len(text) != 3 or not text.isalpha():
        raise argparse.ArgumentTypeError(f"{text!r} is not a three-letter currency code")
    return text.upper()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m catalog.cli",
        description="ShopDesk catalog: migrate the database and import products.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--report", type=Path, help="write the full report as JSON here")
    common.add_argument(
        "--no-embeddings", action="store_true", help="do not refresh product embeddings"
    )
    common.add_argument(
        "--currency", type=_currency, default="USD", help="the shop's currency (default USD)"
    )
    common.add_argument(
        "--rate",
        type=_rate,
        action="append",
        default=[],
        metavar="CODE=RATE",
        help="convert prices in CODE at RATE shop-currency units each (repeatable)",
    )
    load = sub.add_parser(
        "load",
        parents=[common],
        help="migrate, then import the Luma demo shop",
        description="Import the Magento Luma demo shop (products, reviews, links, orders).",
    )
    load.add_argument("--data-dir", type=Path, default=LUMA_DATA_DIR, help="folder of Luma CSVs")
    imp = sub.add_parser(
        "import",
        parents=[common],
        help="migrate, then import a product file or folder",
        description="Import a Google Merchant Center feed or a folder of Magento CSVs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="feed file or Magento folder")
    imp.add_argument("--format", choices=FORMATS, default="auto", help="default: auto")
    sub.add_parser("migrate", help="bring the schema to the newest revision")
    return parser


def _importer(args: argparse.Namespace) -> Callable[[Session], ImportReport]:
    prices = PricePolicy(currency=args.currency, rates=dict(args.rate))
    if args.command == "load":
        return lambda session: import_luma(session, args.data_dir, prices)
    path: Path = args.file
    kind = args.format
    if kind == "auto":
        kind = "magento-dir" if path.is_dir() else None
    if kind == "magento-dir":
        return lambda session: import_luma(session, path, prices)
    if not path.is_file():
        raise CatalogImportError(f"{path}: file not found")
    feed = kind or detect_format(path)
    return lambda session: import_merchant_feed(session, path, feed, prices)


def _print_report(report: ImportReport) -> None:
    print(f"catalog: {report.summary()}")
    for rejection in report.rejected[:SHOWN_REJECTIONS]:
        print(f"  rejected {rejection}")
    more = len(report.rejected) - SHOWN_REJECTIONS
    if more > 0:
        print(f"  ... and {more} more rejected rows (--report FILE lists them all)")


def _write_json(path: Path | None, data: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def _import(args: argparse.Namespace, url: str) -> int:
    started = time.monotonic()
    try:
        run = _importer(args)
        with session_scope(url) as session:
            report = run(session)
            _print_report(report)
            if report.products == 0:
                raise _NothingAccepted(report)
            print("catalog: refreshing ratings and sales, rebuilding the search index")
            indexed = refresh_search(session)
    except CatalogImportError as error:
        print(f"catalog: nothing imported: {error}", file=sys.stderr)
        _write_json(args.report, {"error": str(error)})
        return EXIT_NOTHING_IMPORTED
    except _NothingAccepted as nothing:
        print("catalog: nothing imported: no product was accepted", file=sys.stderr)
        _write_json(args.report, nothing.report.to_dict())
        return EXIT_NOTHING_IMPORTED
    _write_json(args.report, report.to_dict())
    print(f"catalog: committed; {indexed} products indexed in {time.monotonic() - started:.1f}s")
    if args.no_embeddings:
        return EXIT_OK
    try:
        with session_scope(url) as session:
            embedded = refresh_embeddings(session, progress=True)
    except Exception as error:  # the import stands; say why "more like this" is stale
        print(
            f"catalog: imported, but embeddings were not refreshed: {error!r}; "
            "run the import again (it is idempotent) to retry",
            file=sys.stderr,
        )
        return EXIT_NO_EMBEDDINGS
    print(f"catalog: {embedded} product embeddings refreshed")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "report", None) is not None and not args.report.parent.is_dir():
        print(f"catalog: no such folder for --report: {args.report.parent}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = CatalogSettings.from_env()
    migrate(settings.database_url)
    if args.command == "migrate":
        print("catalog: schema is up to date")
        return EXIT_OK
    return _import(args, settings.database_url)


if __name__ == "__main__":
    sys.exit(main())
