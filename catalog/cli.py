"""`python -m catalog.cli`: migrate the catalog database, import products into it, and make
the demo order book.

Each import runs in one transaction together with the search index and ranking statistics it
invalidates, so shoppers see either the old catalog or the new one, never half of each.
Embeddings are refreshed after the commit: they are slow, and a failure there must not undo
a good import. `load` also makes the demo order book when it is missing, in the same
transaction and before the ranking statistics, since its orders are sales. With the demo off
(`SHOPDESK_DEMO=off`, catalog/own_shop.py) `load` imports no Luma data and makes no demo
order: it syncs the shop's own product file if the settings name one.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.backup_cli import COMMANDS as BACKUP_COMMANDS
from catalog.backup_cli import add_backup_parsers, run_backup_command
from catalog.db import migrate, session_scope
from catalog.demo.order_book import OrderBookError, check_sizes, generate_order_book, showcase
from catalog.embeddings import refresh_embeddings
from catalog.importing import CatalogImportError, ImportReport, PricePolicy
from catalog.luma import import_luma
from catalog.merchant_feed import detect_format, import_merchant_feed
from catalog.models import Order
from catalog.own_shop import DEMO_VARIABLE, ShopSetupSettings, own_catalog_source
from catalog.search_index import refresh_search
from catalog.settings import LUMA_DATA_DIR, CatalogSettings
from catalog.shop_csv import CSV_SUFFIX, SHOPIFY_CSV, WOOCOMMERCE_CSV, detect_csv, shop_currency
from catalog.shopify_csv import import_shopify_csv
from catalog.sync import DEFAULT_MAX_DISCONTINUE_SHARE
from catalog.sync_cli import add_sync_parser, run_sync_command
from catalog.woocommerce_csv import import_woocommerce_csv
from connectors.products import SHOP_CURRENCY

SHOWN_REJECTIONS = 10
EXIT_OK, EXIT_NOTHING_IMPORTED, EXIT_BAD_ARGUMENTS, EXIT_NO_EMBEDDINGS = 0, 1, 2, 3
FORMATS = ("auto", "merchant-tsv", "merchant-xml", "magento-dir", SHOPIFY_CSV, WOOCOMMERCE_CSV)

EPILOG = """\
formats:
  magento-dir    a folder of Magento product CSVs, like the Luma demo shop
  merchant-tsv   a Google Merchant Center feed, tab-separated with a header row
  merchant-xml   a Google Merchant Center feed, RSS 2.0 with g: fields
  shopify-csv    a Shopify product CSV (Products > Export); prices in --currency
  woocommerce-csv  a WooCommerce product CSV (Products > Export); prices in --currency
  auto           a folder is magento-dir; .xml is XML, .tsv/.txt is TSV; .csv is Shopify's
                 or WooCommerce's by its header row; else sniffed

An import upserts by SKU: running it again changes nothing. Rows that cannot be used are
reported as file:line: field: reason and skipped; the rest is imported. A file that cannot be
read at all imports nothing. Prices must be in the shop's currency (--currency, USD by
default) unless --rate gives an exchange rate. Shopify and WooCommerce CSVs name no currency:
their prices are in --currency, by default the shop's (shop.yml `currency`). A Merchant
feed's product priced in another currency without a --rate keeps its own currency.

`load` with SHOPDESK_DEMO=off imports nothing of Luma and makes no demo orders: it syncs the
shop's own file (SHOPDESK_CATALOG_SYNC_SOURCE and SHOPDESK_CATALOG_SYNC_PATH), if named.

exit status: 0 imported; 1 nothing imported (unreadable file, or every row rejected);
2 bad arguments; 3 imported, but the embeddings could not be refreshed.

The database is SHOPDESK_DATABASE_URL, or the SQLite file SHOPDESK_DB_PATH
(default var/shopdesk.sqlite3).
"""

ORDERS_EPILOG = """\
The order book is made up, over the real catalog: customers with US addresses and
example.com/.net/.org e-mails, and orders in every state (pending, processing, shipped,
delivered, cancelled, returned, refunded) with their parcels, invoices, returns and refunds,
dated relative to --today. The same seed, day and catalog give the same rows.

Orders 000000100 to 000000108 are a fixed showcase for every seed (--list shows them). The
order book owns the orders from 000000100 up: while there are any, nothing is written, unless
--replace: that deletes them (with any changes made in the chat) and the customers who have
no other order, then generates anew. `load` makes the default order book when it is missing.

exit status: 0 done or already there; 1 the catalog has too few products (load it first);
2 bad arguments.
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


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number above 0")
    return int(text)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-06-18") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m catalog.cli",
        description="ShopDesk catalog: migrate the database, import products, make demo orders.",
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
        "--currency",
        type=_currency,
        default=None,
        help="the shop's currency (default USD; for a Shopify or WooCommerce CSV the shop's)",
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
        help="migrate, then import the Luma demo shop (SHOPDESK_DEMO=off: the shop's own file)",
        description="Import the Magento Luma demo shop (products, reviews, links, orders); "
        f"with {DEMO_VARIABLE}=off, sync the shop's own product file instead, if one is named.",
    )
    load.add_argument("--data-dir", type=Path, default=LUMA_DATA_DIR, help="folder of Luma CSVs")
    imp = sub.add_parser(
        "import",
        parents=[common],
        help="migrate, then import a product file or folder",
        description="Import a Google Merchant Center feed, a Shopify or WooCommerce product "
        "CSV, or a folder of Magento CSVs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", type=Path, metavar="FILE", help="feed file or Magento folder")
    imp.add_argument("--format", choices=FORMATS, default="auto", help="default: auto")
    orders = sub.add_parser(
        "orders",
        help="migrate, then make the demo order book (if missing)",
        description="Generate demo customers and orders over the catalog, deterministically.",
        epilog=ORDERS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    orders.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    orders.add_argument(
        "--customers", type=_positive, default=40, metavar="N", help="customers (default 40)"
    )
    orders.add_argument(
        "--orders", type=_positive, default=160, metavar="N", help="orders (default 160)"
    )
    orders.add_argument(
        "--today",
        type=_day,
        default=date.today(),
        metavar="YYYY-MM-DD",
        help="the day the dates are relative to (default: today)",
    )
    orders.add_argument(
        "--replace", action="store_true", help="delete the generated orders and make them anew"
    )
    orders.add_argument(
        "--list", action="store_true", help="only list the showcase orders; change nothing"
    )
    sub.add_parser("migrate", help="bring the schema to the newest revision")
    add_sync_parser(sub)
    add_backup_parsers(sub)
    return parser


def _importer(args: argparse.Namespace) -> Callable[[Session], ImportReport]:
    prices = PricePolicy(currency=args.currency or SHOP_CURRENCY, rates=dict(args.rate))
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
    if kind is None and path.suffix.lower() == CSV_SUFFIX:
        kind = detect_csv(path)
        if kind is None:
            raise CatalogImportError(
                f"{path.name}: not a Shopify or WooCommerce product CSV (its first line names "
                "neither Handle and Title nor Name and Regular price); say which with --format"
            )
    if kind in (SHOPIFY_CSV, WOOCOMMERCE_CSV):
        return _csv_importer(kind, path, args)
    feed = kind or detect_format(path)
    return lambda session: import_merchant_feed(session, path, feed, prices)


def _csv_importer(
    kind: str, path: Path, args: argparse.Namespace
) -> Callable[[Session], ImportReport]:
    """A Shopify or WooCommerce CSV's import: prices in --currency, else the shop's."""
    prices = PricePolicy(currency=args.currency or shop_currency(), rates=dict(args.rate))
    if kind == SHOPIFY_CSV:
        shop_url = CatalogSettings.from_env().shop_url
        return lambda session: import_shopify_csv(session, path, prices, shop_url)
    return lambda session: import_woocommerce_csv(session, path, prices)


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
            if args.command == "load":
                _load_order_book(session)
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
    _build_vector_index(url)
    return EXIT_OK


def _build_vector_index(url: str) -> None:
    """The vector index a large catalog's search uses, built now rather than in the background
    of the first searches (catalog/vector_index.py); a failure leaves search on the scan."""
    from catalog.vector_index import index_for

    try:
        with session_scope(url) as session:
            index = index_for(session, wait=True)
    except Exception as error:
        print(f"catalog: the vector index was not built ({error!r}); search scans", file=sys.stderr)
        return
    print(f"catalog: semantic search uses {index.kind if index else 'no vectors'}")


def _load_own_shop(args: argparse.Namespace, url: str) -> int:
    """`load` with the demo off: the shop's own product file synced, or nothing at all."""
    source = own_catalog_source()
    if source is None:
        print(
            f"catalog: the demo is off ({DEMO_VARIABLE}=off) and no product file is named "
            "(SHOPDESK_CATALOG_SYNC_SOURCE, SHOPDESK_CATALOG_SYNC_PATH): nothing imported"
        )
        return EXIT_OK
    print(f"catalog: the demo is off; syncing the shop's own {source.kind} {source.path}")
    sync = argparse.Namespace(
        source=[str(source.kind), str(source.path)],
        currency=args.currency or shop_currency(),
        dry_run=False,
        json=False,
        progress=False,
        no_embeddings=args.no_embeddings,
        max_discontinue=DEFAULT_MAX_DISCONTINUE_SHARE,
        allow_mass_discontinue=False,
    )
    return run_sync_command(sync, url)


def _load_order_book(session: Session) -> None:
    """The default order book, if missing; a shop too small for one is imported without it."""
    try:
        book = generate_order_book(session, today=date.today())
    except OrderBookError as error:
        print(f"catalog: no demo order book: {error}", file=sys.stderr)
        return
    print(f"catalog: {book.summary()}")


def _list_showcase(url: str) -> None:
    with session_scope(url) as session:
        numbers = [entry.number for entry in showcase()]
        query = select(Order.number, Order.status).where(Order.number.in_(numbers))
        current = dict(session.execute(query).all())
    print(f"{'order':<10} {'e-mail':<28} {'status':<16} what it shows")
    for entry in showcase():
        status = current.get(entry.number, "(not generated)")
        print(f"{entry.number:<10} {entry.email:<28} {status:<16} {entry.note}")


def _orders(args: argparse.Namespace, url: str) -> int:
    if args.list:
        _list_showcase(url)
        return EXIT_OK
    try:
        check_sizes(args.customers, args.orders)
    except ValueError as error:
        print(f"catalog: {error}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    started = time.monotonic()
    print(
        f"catalog: order book of seed {args.seed} for {args.today}: up to {args.orders} orders "
        f"of {args.customers} customers{' (replacing)' if args.replace else ''}"
    )
    try:
        with session_scope(url) as session:
            book = generate_order_book(
                session,
                seed=args.seed,
                customers=args.customers,
                orders=args.orders,
                today=args.today,
                replace=args.replace,
            )
            print(f"catalog: {book.summary()}")
            if not book.created:
                print("catalog: nothing changed (--replace generates it anew)")
                return EXIT_OK
            print("catalog: refreshing ratings and sales, rebuilding the search index")
            refresh_search(session)
    except OrderBookError as error:
        print(f"catalog: no order book: {error}", file=sys.stderr)
        return EXIT_NOTHING_IMPORTED
    print(f"catalog: committed in {time.monotonic() - started:.1f}s")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "report", None) is not None and not args.report.parent.is_dir():
        print(f"catalog: no such folder for --report: {args.report.parent}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = CatalogSettings.from_env()
    if args.command in BACKUP_COMMANDS:  # the database as it is: no migration first
        return run_backup_command(args, settings.database_url)
    migrate(settings.database_url)
    if args.command == "migrate":
        print("catalog: schema is up to date")
        return EXIT_OK
    if args.command == "orders":
        return _orders(args, settings.database_url)
    if args.command == "sync":
        return run_sync_command(args, settings.database_url)
    if args.command == "load" and not ShopSetupSettings.from_env().demo_on:
        return _load_own_shop(args, settings.database_url)
    return _import(args, settings.database_url)


if __name__ == "__main__":
    sys.exit(main())
