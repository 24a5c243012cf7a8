"""One catalog sync from start to end, as `python -m catalog.cli sync` and the web server's
schedule run it: read the source, sync it in one transaction (catalog/sync.py), then refresh
the embeddings of what changed.

Sources: the Luma demo folder (`luma`), a Google Merchant feed (`merchant-feed FILE`), a
Shopify or WooCommerce product CSV (`shopify-csv FILE`, `woocommerce-csv FILE`) and the
connected shop (`connector`: the connector `SHOPDESK_ORDERS` chooses, through
`catalog.order_system.product_source`). A source that cannot be read raises
`CatalogImportError` before anything is written; so does a shop that cannot be reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import BeforeValidator

from catalog.db import session_scope
from catalog.importing import CatalogImportError, ImportReport, PricePolicy
from catalog.settings import LUMA_DATA_DIR
from catalog.sync import (
    DEFAULT_MAX_DISCONTINUE_SHARE,
    Progress,
    SourceBatch,
    SyncReport,
    no_progress,
    sync_products,
)
from core.settings import Section, choice, number, var


class SourceKind(StrEnum):
    """Where a sync reads the shop's products."""

    LUMA = "luma"
    MERCHANT_FEED = "merchant-feed"
    CONNECTOR = "connector"
    SHOPIFY_CSV = "shopify-csv"
    WOOCOMMERCE_CSV = "woocommerce-csv"


FILE_KINDS = frozenset(
    {SourceKind.MERCHANT_FEED, SourceKind.SHOPIFY_CSV, SourceKind.WOOCOMMERCE_CSV}
)
"""The sources read from a file the command line must name."""


@dataclass(frozen=True)
class SyncSource:
    """A source as chosen on the command line or in the settings."""

    kind: SourceKind
    path: Path | None = None  # the luma folder or the feed file

    def describe(self) -> str:
        return f"{self.kind} {self.path}" if self.path else str(self.kind)


def read_luma(folder: Path, prices: PricePolicy) -> SourceBatch:
    from catalog.luma import SOURCE, read_products

    report = ImportReport(source=SOURCE)
    records = read_products(folder, report, prices)
    return SourceBatch(SOURCE, SOURCE, records, report.rejected)


def read_merchant_feed(path: Path, prices: PricePolicy) -> SourceBatch:
    """The feed's products; the ids of items it rejected still count as listed."""
    from catalog.merchant_feed import SOURCE, detect_format, feed_records, read_tsv, read_xml

    report = ImportReport(source=f"{SOURCE}:{path.name}")
    if not path.is_file():
        raise CatalogImportError(f"{path}: file not found")
    items = read_xml(path) if detect_format(path) == "merchant-xml" else read_tsv(path, report)
    records = feed_records(items, path.name, report, prices)
    listed = frozenset(
        sku for item in items for sku in (item.get("id"), item.get("item_group_id")) if sku
    )
    return SourceBatch(SOURCE, report.source, records, report.rejected, listed)


def read_shop_csv(kind: SourceKind, path: Path, prices: PricePolicy | None) -> SourceBatch:
    """A Shopify or WooCommerce product CSV's products, in `prices`' currency (else the
    shop's: the file names none); products it lists as drafts or hidden count as gone."""
    from catalog import shopify_csv, woocommerce_csv
    from catalog.settings import catalog_settings
    from catalog.shop_csv import shop_prices

    prices = prices or shop_prices()
    if kind is SourceKind.SHOPIFY_CSV:
        read = shopify_csv.read_shopify_csv(path, prices, catalog_settings().shop_url)
        source = shopify_csv.SOURCE
    else:
        read = woocommerce_csv.read_woocommerce_csv(path, prices)
        source = woocommerce_csv.SOURCE
    return SourceBatch(source, read.report.source, read.records, read.report.rejected, read.listed)


def read_connector() -> SourceBatch:
    """Every product of the connected shop; CatalogImportError for the built-in order book
    (its products come from the importers) or a shop that cannot be read."""
    from catalog.order_system import product_source
    from connectors.errors import ShopError, ShopUnavailable
    from connectors.settings import ConnectorSettings
    from core.settings import settings

    chosen = settings().section(ConnectorSettings).orders
    source = product_source()
    if source is None:
        raise CatalogImportError(
            f"the connector {chosen!r} (SHOPDESK_ORDERS) has no products to sync: use "
            "--source luma or --source merchant-feed FILE"
        )
    try:
        records = list(source.products())
    except (ShopUnavailable, ShopError) as error:
        raise CatalogImportError(
            f"{source.name}: the shop's products could not be read: {error}"
        ) from error
    return SourceBatch(chosen, source.name, records)


def read_source(chosen: SyncSource, prices: PricePolicy | None = None) -> SourceBatch:
    if chosen.kind in {SourceKind.SHOPIFY_CSV, SourceKind.WOOCOMMERCE_CSV}:
        if chosen.path is None:
            raise CatalogImportError(f"--source {chosen.kind} needs the CSV FILE")
        return read_shop_csv(chosen.kind, chosen.path, prices)
    prices = prices or PricePolicy()
    if chosen.kind is SourceKind.LUMA:
        return read_luma(chosen.path or LUMA_DATA_DIR, prices)
    if chosen.kind is SourceKind.MERCHANT_FEED:
        if chosen.path is None:
            raise CatalogImportError("--source merchant-feed needs the feed's FILE")
        return read_merchant_feed(chosen.path, prices)
    return read_connector()


def _minutes(value: object) -> float:
    minutes = number(0)(value)
    if 0 < minutes < 1:
        raise ValueError("must be 0 (off) or at least 1")
    return minutes


class CatalogSyncSettings(Section):
    """The running stack's scheduled sync (web/catalog_sync.py): every
    `SHOPDESK_CATALOG_SYNC_MINUTES` (0, the default, is off: the demo's catalog is the Luma
    data) from `SHOPDESK_CATALOG_SYNC_SOURCE` (connector, merchant-feed, shopify-csv,
    woocommerce-csv or luma), the feed or CSV file or Luma folder being
    `SHOPDESK_CATALOG_SYNC_PATH`; SettingsError, with a sentence, for a bad one."""

    minutes: Annotated[float, BeforeValidator(_minutes)] = var("SHOPDESK_CATALOG_SYNC_MINUTES", 0)
    kind: Annotated[str, BeforeValidator(choice(*SourceKind))] = var(
        "SHOPDESK_CATALOG_SYNC_SOURCE", SourceKind.CONNECTOR.value
    )
    path: Path | None = var("SHOPDESK_CATALOG_SYNC_PATH", None)

    @property
    def source(self) -> SyncSource:
        return SyncSource(SourceKind(self.kind), self.path)


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    embeddings: bool = True
    max_discontinue_share: float = DEFAULT_MAX_DISCONTINUE_SHARE
    allow_mass_discontinue: bool = False


def run_sync(
    database_url: str,
    batch: SourceBatch,
    options: SyncOptions = SyncOptions(),
    progress: Progress = no_progress,
    embed: Callable[[str, list[int]], int] | None = None,
) -> SyncReport:
    """Sync `batch` and commit (a dry run rolls back), then embed the products it touched.

    Raises SyncRefused (nothing written) from the safety valve. A failure while embedding
    leaves the sync committed and is told in `report.embedding_error` (its type and message:
    a model's error quotes no shopper data); the next sync embeds products still without a
    vector. `embed` replaces `embed_touched` (tests).
    """
    started = time.monotonic()
    with session_scope(database_url) as session:
        report = sync_products(
            session,
            batch,
            max_discontinue_share=options.max_discontinue_share,
            allow_mass_discontinue=options.allow_mass_discontinue,
            progress=progress,
        )
        if options.dry_run:
            report.dry_run = True
            session.rollback()
    report.sync_seconds = report.seconds = round(time.monotonic() - started, 2)
    if not options.dry_run and options.embeddings:
        try:
            report.embedded = (embed or embed_touched)(database_url, report.touched_ids)
        except Exception as error:  # the sync is committed; search still finds by text
            report.embedding_error = f"{type(error).__name__}: {error}"
        report.seconds = round(time.monotonic() - started, 2)
    return report


def embed_touched(database_url: str, product_ids: list[int]) -> int:
    """Embed the touched products and any listed product still without a vector (a sync
    whose embedding failed before); products whose text did not change cost a hash."""
    from sqlalchemy import exists, select

    from catalog.embeddings import refresh_embeddings
    from catalog.listing import listed
    from catalog.models import Product, ProductEmbedding

    with session_scope(database_url) as session:
        # NOT EXISTS, an anti-join: PostgreSQL runs a NOT IN (subquery) too big for work_mem
        # row by row (minutes at 100,000 products).
        vector = exists().where(ProductEmbedding.product_id == Product.id)
        missing = session.scalars(select(Product.id).where(listed(), ~vector))
        wanted = set(product_ids) | set(missing)
        return refresh_embeddings(session, progress=False, product_ids=sorted(wanted))
