"""What the Shopify and WooCommerce product CSV importers share (catalog/shopify_csv.py,
catalog/woocommerce_csv.py): column names matched whatever their case and spacing, yes/no
cells, option names that mean size or colour, the shop's currency, and the result a sync needs.

Both platforms export prices without a currency (the shop's is a store setting, not a column),
so the importer is told it: `--currency`, or the shop's own (`currency` in shop.yml), never a
guess from the numbers.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from catalog.importing import ImportReport, PricePolicy, RowError, parse_quantity
from connectors.products import SHOP_CURRENCY, ProductRecord

log = logging.getLogger(__name__)

IN_STOCK_QTY: Final = 100  # "in stock" with no count: enough to sell, as merchant feeds do
LINK_ATTRIBUTE: Final = "link"  # the product page's address, as catalog/merchant_feed.py keeps it
TAG_ATTRIBUTE: Final = "tag"
SIZE_NAMES: Final = frozenset({"size", "sizes", "talla", "größe", "taille"})
COLOR_NAMES: Final = frozenset({"color", "colour", "colors", "colours", "farbe", "couleur"})
TRUE_WORDS: Final = frozenset({"1", "true", "yes", "y"})
FALSE_WORDS: Final = frozenset({"0", "false", "no", "n"})
_SPACES = re.compile(r"\s+")


class NotForSale(RowError):
    """The file lists the product but the shop does not sell it now (a draft, archived,
    hidden or private product): it is left out, reported, and gone as far as a sync knows."""


def header_key(name: str) -> str:
    """A column name as both formats' aliases are written: lower case, single spaces
    ("Variant  SKU " → "variant sku")."""
    return _SPACES.sub(" ", name.strip().lower())


def canonical_header(aliases: Mapping[str, str]) -> Callable[[str], str]:
    """A header function for `read_table` mapping each known alias to its canonical name and
    leaving other columns as `header_key` writes them."""

    def header(name: str) -> str:
        key = header_key(name)
        return aliases.get(key, key)

    return header


def flag(value: str, column: str, *, blank: bool) -> bool:
    """A yes/no cell ("TRUE", "1", "yes", ...); `blank` is what an empty cell means."""
    text = value.strip().lower()
    if not text:
        return blank
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise RowError(column, f"{value!r} is not TRUE or FALSE (1 or 0)")


def price(value: str, column: str, prices: PricePolicy) -> int:
    try:
        cents = prices.parse(value)[0]
    except ValueError as error:
        raise RowError(column, str(error)) from error
    return cents


def quantity(value: str, column: str) -> int:
    try:
        return parse_quantity(value)
    except ValueError as error:
        raise RowError(column, str(error)) from error


def option_role(name: str) -> str | None:
    """ "size" or "color" for an option or attribute name meaning one of them, else None."""
    key = header_key(name).removeprefix("pa_")
    if key in SIZE_NAMES:
        return "size"
    if key in COLOR_NAMES:
        return "color"
    return None


def attribute_name(name: str) -> str:
    """An option or attribute name as the catalog keeps attribute names ("Fabric Type" →
    "fabric_type")."""
    return _SPACES.sub("_", header_key(name).removeprefix("pa_"))


def shop_currency() -> str:
    """The currency in the shop's settings (shop.yml); the catalog's default when those
    cannot be read, since an import must not depend on the shop's wording being valid."""
    from catalog.policies import ShopSettingsError, policies

    try:
        return policies().currency
    except ShopSettingsError as error:
        log.warning("shop settings unreadable, prices read as %s: %s", SHOP_CURRENCY, error)
        return SHOP_CURRENCY


def shop_prices(currency: str | None = None) -> PricePolicy:
    """Prices in `currency`, else in the shop's."""
    return PricePolicy(currency=currency or shop_currency())


@dataclass(frozen=True)
class CsvProducts:
    """A product CSV read and checked: its products, the report with every rejected row, and
    the SKUs of products it still lists although their rows were rejected (a bad price is not
    a product gone, so a sync must not discontinue it). A product the file lists as a draft,
    archived or unpublished counts as gone: shoppers must not be offered it."""

    records: list[ProductRecord]
    report: ImportReport
    listed: frozenset[str]


CsvFormat = Literal["shopify-csv", "woocommerce-csv"]
SHOPIFY_CSV: Final[CsvFormat] = "shopify-csv"
WOOCOMMERCE_CSV: Final[CsvFormat] = "woocommerce-csv"
CSV_SUFFIX: Final = ".csv"
_SHOPIFY_KEYS: Final = (frozenset({"handle", "title"}), frozenset({"url handle", "title"}))
_WOOCOMMERCE_KEYS: Final = (frozenset({"name", "regular price"}), frozenset({"name", "parent"}))


def detect_csv(path: Path) -> CsvFormat | None:
    """Which platform's product CSV the file's header row is, if either: Shopify's names its
    Handle and Title, WooCommerce's its Name and Regular price (or Parent)."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        first = next(csv.reader(handle), [])
    names = {header_key(name) for name in first}
    if any(keys <= names for keys in _SHOPIFY_KEYS):
        return SHOPIFY_CSV
    if any(keys <= names for keys in _WOOCOMMERCE_KEYS):
        return WOOCOMMERCE_CSV
    return None
