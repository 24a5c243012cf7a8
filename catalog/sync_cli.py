"""`python -m catalog.cli sync`: the sync subcommand (catalog/cli.py adds it), apart so that
the catalog's command line stays one screenful per concern."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Final

from tqdm import tqdm

from catalog.importing import CatalogImportError, PricePolicy
from catalog.sync import DEFAULT_MAX_DISCONTINUE_SHARE, SyncRefused
from catalog.sync_run import (
    FILE_KINDS,
    SourceKind,
    SyncOptions,
    SyncSource,
    read_source,
    run_sync,
)

EXIT_OK, EXIT_NOTHING_SYNCED, EXIT_BAD_ARGUMENTS, EXIT_NO_EMBEDDINGS = 0, 1, 2, 3
EXIT_REFUSED: Final = 4
PERCENT: Final = 100

SYNC_EPILOG = f"""\
sources:
  luma [FOLDER]          the Magento Luma demo folder (default: the packaged one)
  merchant-feed FILE     a Google Merchant Center feed (TSV or RSS XML)
  shopify-csv FILE       a Shopify product CSV (Products > Export), prices in --currency
  woocommerce-csv FILE   a WooCommerce product CSV (Products > Export), prices in --currency
  connector              the connected shop (SHOPDESK_ORDERS: oscar, shopify, magento)

A sync upserts the source's new and changed products by SKU and marks the products of that
source it no longer lists as discontinued: they leave search and recommendations, but are
never deleted (orders refer to them) and come back if the source lists them again. Products
of other sources are not touched. Everything is one transaction, with the search index;
embeddings of the changed products are refreshed after the commit.

Safety valve: a sync that would discontinue more than --max-discontinue percent (default
{DEFAULT_MAX_DISCONTINUE_SHARE * PERCENT:.0f}) of the source's listed products writes
nothing, because an empty or cut-off feed looks the same; --allow-mass-discontinue overrides.

exit status: 0 synced (or dry run); 1 nothing synced (unreadable source); 2 bad arguments;
3 synced, but the embeddings could not be refreshed; 4 refused by the safety valve.
"""


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= PERCENT:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value / PERCENT


def _currency(text: str) -> str:
    if len(text) != 3 or not text.isalpha():
        raise argparse.ArgumentTypeError(f"{text!r} is not a three-letter currency code")
    return text.upper()


def add_sync_parser(sub: Any) -> None:
    """The `sync` subparser, on catalog/cli.py's subparsers."""
    sync = sub.add_parser(
        "sync",
        help="migrate, then sync products from a source (discontinuing those gone)",
        description="Bring a source's products in incrementally: new and changed ones "
        "upserted, those it no longer lists marked discontinued.",
        epilog=SYNC_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sync.add_argument(
        "--source",
        nargs="+",
        required=True,
        metavar=("KIND", "PATH"),
        help="luma [FOLDER] | merchant-feed FILE | shopify-csv FILE | woocommerce-csv FILE "
        "| connector",
    )
    sync.add_argument(
        "--currency",
        type=_currency,
        default=None,
        help="the currency of prices that name none; a CSV's default to the shop's "
        "(shop.yml `currency`)",
    )
    sync.add_argument(
        "--dry-run", action="store_true", help="report what would change; write nothing"
    )
    sync.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    sync.add_argument(
        "--progress", action="store_true", help="draw the progress bar even when not on a terminal"
    )
    sync.add_argument(
        "--no-embeddings",
        action="store_true",
        help="do not refresh the changed products' embeddings",
    )
    sync.add_argument(
        "--max-discontinue",
        type=_percent,
        default=DEFAULT_MAX_DISCONTINUE_SHARE,
        metavar="PERCENT",
        help="refuse to discontinue more than this share of the source's products (default 50)",
    )
    sync.add_argument(
        "--allow-mass-discontinue",
        action="store_true",
        help="discontinue however many products the source no longer lists",
    )


def _source(values: list[str]) -> SyncSource:
    """The --source values as a SyncSource; ValueError with a sentence for bad ones."""
    kinds = ", ".join(kind.value for kind in SourceKind)
    try:
        kind = SourceKind(values[0])
    except ValueError:
        raise ValueError(f"--source {values[0]!r} is not one of: {kinds}") from None
    rest = values[1:]
    if len(rest) > 1 or (kind is SourceKind.CONNECTOR and rest):
        raise ValueError(
            f"--source {kind} takes {'no' if kind is SourceKind.CONNECTOR else 'one'} path"
        )
    if kind in FILE_KINDS and not rest:
        raise ValueError(f"--source {kind} needs the feed's FILE")
    return SyncSource(kind, Path(rest[0]) if rest else None)


class _Bar:
    """One tqdm bar on stderr, restarted for each stage of the sync."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm[Any] | None = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None or stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit="product", file=sys.stderr)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _say(args: argparse.Namespace, data: dict[str, Any], lines: list[str], error: bool) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        return
    for line in lines:
        print(f"catalog: {line}", file=sys.stderr if error else sys.stdout)


def run_sync_command(args: argparse.Namespace, database_url: str) -> int:
    """Run `sync` as its arguments say; the exit status of SYNC_EPILOG."""
    try:
        chosen = _source(args.source)
    except ValueError as error:
        print(f"catalog: {error}", file=sys.stderr)
        return EXIT_BAD_ARGUMENTS
    options = SyncOptions(
        dry_run=args.dry_run,
        embeddings=not args.no_embeddings,
        max_discontinue_share=args.max_discontinue,
        allow_mass_discontinue=args.allow_mass_discontinue,
    )
    bar = _Bar(args.progress or sys.stderr.isatty())
    try:
        batch = read_source(chosen, PricePolicy(currency=args.currency) if args.currency else None)
        report = run_sync(database_url, batch, options, progress=bar)
    except CatalogImportError as error:
        message = f"nothing synced: {error}"
        _say(args, {"status": "error", "message": message}, [message], error=True)
        return EXIT_NOTHING_SYNCED
    except SyncRefused as refused:
        message = f"sync refused: {refused}"
        _say(args, {"status": "refused", "message": message}, [message], error=True)
        return EXIT_REFUSED
    finally:
        bar.close()
    lines = report.lines()
    if not report.dry_run and (
        report.added or report.changed or report.discontinued or report.relisted
    ):
        # The entity vocabulary is the classifier's (a layer above the catalog); the web
        # server's scheduled sync rebuilds it itself (web/catalog_sync.py).
        lines.append(
            "product names changed: `python -m nlu_models ensure` refreshes the vocabulary"
        )
    _say(args, {"status": "ok", **report.to_dict()}, lines, error=False)
    if report.embedding_error is not None:
        return EXIT_NO_EMBEDDINGS
    return EXIT_OK
