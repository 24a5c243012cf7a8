"""Imports a WooCommerce product CSV, the file of WooCommerce's built-in product exporter
(Products → Export) and the input of its importer.

The format is WooCommerce's "Product CSV Import Schema"
(https://github.com/woocommerce/woocommerce/wiki/Product-CSV-Import-Schema): one row per
product or variation, with ID, Type, SKU, Name, Published, Visibility in catalog, Short
description, Description, Date sale price starts/ends, In stock?, Stock, Sale price, Regular
price, Categories, Tags, Images, Parent, External URL and "Attribute N name" / "Attribute N
value(s)" columns. Multiple values are comma-separated (a comma inside a value is written
"\\,"), category levels are joined by ">", booleans are 1 or 0.

How the file maps onto the catalog:

- A `variable` product and its `variation` rows (Parent "id:123" names the parent's ID, else
  its SKU) become one product whose variants are the variations. Its price is the cheapest
  variation's (regular and sale, with that variation's sale dates). `simple`, `external`,
  `virtual` and `downloadable` products are a product with one variant of the same SKU.
  `grouped` products are sets of other products, which are imported on their own, so the
  set itself is left out.
- Attributes named Size or Color/Colour give a variation its size and colour, and a simple
  product too when they hold one value; other attributes (and a simple product's several
  sizes or colours) are attributes. "Brands" (WooCommerce 9.6+), else a Brand attribute, is
  the brand; a Gender attribute the gender. Tags are attributes ("tag").
- Categories "Clothing > Hoodies, Sale" are the paths "Clothing/Hoodies" and "Sale".
- Stock: the Stock count ("parent" on a variation: its parent's); without one, In stock? 1 is
  in stock and 0 or "backorder" is none that can ship now.
- Products not published (Published 0 private, -1 draft) or hidden from the catalog are not
  sold to shoppers: reported as rejected, not imported, and a sync discontinues them.
- A product without a SKU is keyed "wc-<ID>" (WooCommerce's SKUs are optional, its IDs are
  not); a variation without one "<parent SKU>-<its attribute values>".
- The export carries no product page address (WooCommerce builds it from a slug the file does
  not hold); an external product's External URL is its link.

Prices carry no currency in this format: they are read in the currency the caller says
(catalog/shop_csv.py).
"""

from __future__ import annotations

import logging
import re
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from catalog.importing import (
    CatalogImportError,
    ImportReport,
    PricePolicy,
    RowError,
    category_path,
    clean_text,
    normalise_gender,
    parse_date,
    read_table,
    upsert_products,
)
from catalog.shop_csv import (
    IN_STOCK_QTY,
    LINK_ATTRIBUTE,
    TAG_ATTRIBUTE,
    CsvProducts,
    NotForSale,
    attribute_name,
    canonical_header,
    option_role,
    price,
    quantity,
)
from catalog.text import slugify
from connectors.products import ProductRecord, VariantRecord

log = logging.getLogger(__name__)

SOURCE: Final = "woocommerce-csv"
ID_SKU_PREFIX: Final = "wc-"
PARENT_ID_PREFIX: Final = "id:"
STOCK_FROM_PARENT: Final = "parent"
BACKORDER: Final = "backorder"
BRAND_NAMES: Final = frozenset({"brand", "brands", "manufacturer"})
GENDER_NAMES: Final = frozenset({"gender"})
MAX_ATTRIBUTES: Final = 100  # "Attribute 1 name" .. ; far more than any export holds
_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


class Column(StrEnum):
    """The columns read, as `header_key` writes them."""

    ID = "id"
    TYPE = "type"
    SKU = "sku"
    NAME = "name"
    PUBLISHED = "published"
    VISIBILITY = "visibility in catalog"
    SHORT_DESCRIPTION = "short description"
    DESCRIPTION = "description"
    SALE_FROM = "date sale price starts"
    SALE_TO = "date sale price ends"
    IN_STOCK = "in stock?"
    STOCK = "stock"
    SALE_PRICE = "sale price"
    REGULAR_PRICE = "regular price"
    CATEGORIES = "categories"
    TAGS = "tags"
    IMAGES = "images"
    PARENT = "parent"
    EXTERNAL_URL = "external url"
    BRANDS = "brands"


ALIASES: Final[dict[str, str]] = {"in stock": Column.IN_STOCK, "brand": Column.BRANDS}
REQUIRED: Final = frozenset({Column.NAME.value})


class Kind(StrEnum):
    """Product types of the schema ("simple, virtual" names two; the first four decide)."""

    VARIATION = "variation"
    VARIABLE = "variable"
    GROUPED = "grouped"
    EXTERNAL = "external"
    SIMPLE = "simple"
    VIRTUAL = "virtual"
    DOWNLOADABLE = "downloadable"


class Published(StrEnum):
    PUBLISHED = "1"
    PRIVATE = "0"
    DRAFT = "-1"


HIDDEN: Final = "hidden"  # Visibility in catalog: neither in the shop's pages nor its search
VISIBILITIES: Final = frozenset({"visible", "catalog", "search", HIDDEN})
STOCK_STATUSES: Final = {"1": True, "0": False, BACKORDER: False, "instock": True}


def split_list(value: str) -> list[str]:
    """ "a, b\\, c" → ["a", "b, c"]: the schema's comma list with its escaped commas."""
    parts = (p.replace("\\,", ",").strip() for p in _UNESCAPED_COMMA.split(value))
    return [p for p in parts if p]


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    def attributes(self) -> list[tuple[str, list[str]]]:
        """(name, values) of its "Attribute N" columns with a name."""
        found = []
        for number in range(1, MAX_ATTRIBUTES + 1):
            name_column = f"attribute {number} name"
            if name_column not in self.cells:
                break
            name = self.get(name_column)
            values = split_list(self.get(f"attribute {number} value(s)"))
            if name and values:
                found.append((name, [clean_text(v) for v in values if clean_text(v)]))
        return found


@dataclass
class _Priced:
    """A sellable row (a simple product or a variation) checked."""

    row: _Row
    variant: VariantRecord
    regular: int
    sale: int | None
    sale_from: date | None
    sale_to: date | None
    attributes: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Parent:
    """A product row and the variations found for it."""

    row: _Row
    kind: Kind
    sku: str
    variations: list[_Priced] = field(default_factory=list)


def _kind(row: _Row) -> Kind:
    types = [t.lower() for t in split_list(row.get(Column.TYPE))] or [Kind.SIMPLE.value]
    kinds = []
    for name in types:
        try:
            kinds.append(Kind(name))
        except ValueError:
            choices = ", ".join(k.value for k in Kind)
            raise RowError("Type", f"{name!r} is not one of {choices}") from None
    return min(kinds, key=list(Kind).index)  # the order of Kind: variation wins, then variable


def _refuse_unsold(row: _Row, kind: Kind) -> None:
    published = row.get(Column.PUBLISHED) or Published.PUBLISHED
    if published not in {p.value for p in Published}:
        raise RowError("Published", f"{published!r} is not 1, 0 or -1")
    if published == Published.PRIVATE:
        raise NotForSale("Published", "0 (private): not for sale, so not imported")
    if published == Published.DRAFT:
        raise NotForSale("Published", "-1 (draft): not for sale, so not imported")
    visibility = row.get(Column.VISIBILITY).lower()
    if visibility and visibility not in VISIBILITIES:
        choices = ", ".join(sorted(VISIBILITIES))
        raise RowError("Visibility in catalog", f"{visibility!r} is not one of {choices}")
    if visibility == HIDDEN:
        raise NotForSale("Visibility in catalog", "hidden: not shown to shoppers, so not imported")
    if kind is Kind.GROUPED:
        raise NotForSale(
            "Type", "grouped: a set of other products, which are imported on their own"
        )


def _own_sku(row: _Row) -> str:
    sku = row.get(Column.SKU)
    if sku:
        return sku
    if row.get(Column.ID):
        return f"{ID_SKU_PREFIX}{row.get(Column.ID)}"
    raise RowError("SKU", "empty, and the row has no ID either")


def _stock(row: _Row, parent: _Row | None) -> int:
    stock = row.get(Column.STOCK)
    if stock.lower() == STOCK_FROM_PARENT and parent is not None:
        return _stock(parent, None)
    if stock:
        return quantity(stock, "Stock")
    status = row.get(Column.IN_STOCK).lower() or "1"
    if status not in STOCK_STATUSES:
        raise RowError("In stock?", f"{status!r} is not 1, 0 or backorder")
    return IN_STOCK_QTY if STOCK_STATUSES[status] else 0


def _priced(row: _Row, sku: str, parent: _Row | None, prices: PricePolicy) -> _Priced:
    if not row.get(Column.REGULAR_PRICE):
        raise RowError("Regular price", "empty: a product for sale needs a price")
    regular = price(row.get(Column.REGULAR_PRICE), "Regular price", prices)
    sale_text = row.get(Column.SALE_PRICE)
    sale = price(sale_text, "Sale price", prices) if sale_text else None
    if sale is not None and sale >= regular:
        below = f"is not below the regular price {row.get(Column.REGULAR_PRICE)}"
        raise RowError("Sale price", f"{sale_text} {below}")
    try:
        sale_from = parse_date(row.get(Column.SALE_FROM))
        sale_to = parse_date(row.get(Column.SALE_TO))
    except ValueError as error:
        raise RowError("Date sale price starts/ends", str(error)) from error
    if sale_from and sale_to and sale_to < sale_from:
        raise RowError("Date sale price ends", f"{sale_to}, before it starts {sale_from}")
    roles: dict[str, str] = {}
    others: list[tuple[str, str]] = []
    for name, values in row.attributes():
        role = option_role(name)
        if role is not None and len(values) == 1:
            roles[role] = values[0]
        else:
            others += [(attribute_name(name), v) for v in values]
    variant = VariantRecord(
        sku=sku,
        size=roles.get("size"),
        color=roles.get("color"),
        qty=_stock(row, parent),
        line=row.line,
    )
    return _Priced(row, variant, regular, sale, sale_from, sale_to, others)


def _variation_sku(row: _Row, parent: _Parent) -> str:
    if row.get(Column.SKU):
        return row.get(Column.SKU)
    values = [v for _, vs in row.attributes() for v in vs]
    if values:
        return f"{parent.sku}-{slugify('-'.join(values))}"
    return _own_sku(row)


def _variable_attributes(row: _Row) -> list[tuple[str, str]]:
    """A variable product's own attributes: its sizes and colours are its variations'."""
    found = []
    for name, values in row.attributes():
        if option_role(name) is None:
            found += [(attribute_name(name), v) for v in values]
    return found


def _record(parent: _Parent, sold: list[_Priced], file: str, prices: PricePolicy) -> ProductRecord:
    row = parent.row
    cheapest = min(sold, key=lambda p: p.sale if p.sale is not None else p.regular)
    images = split_list(row.get(Column.IMAGES))
    attributes = [(TAG_ATTRIBUTE, clean_text(t)) for t in split_list(row.get(Column.TAGS))]
    if parent.kind is Kind.VARIABLE:
        attributes += _variable_attributes(row)
    for priced in sold:
        attributes += priced.attributes
    if parent.kind is Kind.EXTERNAL and row.get(Column.EXTERNAL_URL):
        attributes.append((LINK_ATTRIBUTE, row.get(Column.EXTERNAL_URL)))
    brands = [clean_text(b) for b in split_list(row.get(Column.BRANDS))]
    brands += [v for n, v in attributes if n in BRAND_NAMES]
    name = clean_text(row.get(Column.NAME))
    return ProductRecord(
        sku=parent.sku,
        name=name,
        description=clean_text(row.get(Column.DESCRIPTION) or row.get(Column.SHORT_DESCRIPTION)),
        price_cents=cheapest.regular,
        special_price_cents=cheapest.sale,
        special_from=cheapest.sale_from if cheapest.sale is not None else None,
        special_to=cheapest.sale_to if cheapest.sale is not None else None,
        currency=prices.currency,
        url_key=slugify(name),
        image=images[0] if images else None,
        images=images,
        categories=[
            p for c in split_list(row.get(Column.CATEGORIES)) if (p := category_path(c.split(">")))
        ],
        gender=normalise_gender(v for n, v in attributes if n in GENDER_NAMES),
        brand=next((b for b in brands if b), None),
        attributes=list(dict.fromkeys(attributes)),
        variants=[p.variant for p in sold],
        file=file,
        line=row.line,
    )


class _Reader:
    """One file's rows made into products: parents first, then their variations."""

    def __init__(self, path: Path, prices: PricePolicy) -> None:
        self.file = path.name
        self.prices = prices
        self.report = ImportReport(source=f"{SOURCE}:{path.name}")
        self.listed: set[str] = set()
        header = canonical_header(ALIASES)
        table = read_table(path, set(REQUIRED), self.report, header=header)
        self.rows = [_Row(line, cells) for line, cells in table]
        if not self.rows and not self.report.rejected:
            raise CatalogImportError(f"{path.name}: no product rows after the header")
        if self.rows and not ({Column.SKU, Column.ID} & self.rows[0].cells.keys()):
            raise CatalogImportError(f"{path.name}: missing columns SKU and ID (one is needed)")
        self.parents: dict[str, _Parent] = {}  # by SKU, and by "id:<ID>"
        self.unsold: set[str] = set()  # the same keys, of products left out as not for sale

    def reject(self, row: _Row, error: RowError) -> None:
        self.report.reject(self.file, row.line, error.field, error.reason)

    def products(self) -> list[_Parent]:
        found = []
        for row in self.rows:
            try:
                kind = _kind(row)
                if kind is Kind.VARIATION:
                    continue
                if not clean_text(row.get(Column.NAME)):
                    raise RowError("Name", "empty: every product needs a name")
                sku = _own_sku(row)
                keys = [sku] + (
                    [PARENT_ID_PREFIX + row.get(Column.ID)] if row.get(Column.ID) else []
                )
                try:
                    _refuse_unsold(row, kind)
                except NotForSale:
                    self.unsold.update(keys)
                    raise
                parent = _Parent(row, kind, sku)
                for key in keys:
                    self.parents.setdefault(key, parent)
                found.append(parent)
            except NotForSale as error:
                self.reject(row, error)
            except RowError as error:
                self.reject(row, error)
                with suppress(RowError):  # a row without SKU or ID names nothing to keep
                    self.listed.add(_own_sku(row))
        return found

    def variations(self) -> None:
        for row in self.rows:
            try:
                if _kind(row) is not Kind.VARIATION:
                    continue
            except RowError:
                continue  # rejected with the products
            reference = row.get(Column.PARENT)
            try:
                if not reference:
                    raise RowError("Parent", "empty: a variation names its variable product")
                if reference in self.unsold:
                    continue  # its product is not for sale, and was reported
                parent = self.parents.get(reference)
                if parent is None or parent.kind is not Kind.VARIABLE:
                    raise RowError("Parent", f"no variable product {reference!r} in this file")
                sku = _variation_sku(row, parent)
                _refuse_unsold(row, Kind.VARIATION)
                parent.variations.append(_priced(row, sku, parent.row, self.prices))
            except RowError as error:
                self.reject(row, error)

    def record(self, parent: _Parent) -> ProductRecord | None:
        try:
            if parent.kind is Kind.VARIABLE:
                if not parent.variations:
                    raise RowError("Type", "variable, but none of its variations can be sold")
                sold = parent.variations
            else:
                sold = [_priced(parent.row, parent.sku, None, self.prices)]
        except RowError as error:
            self.reject(parent.row, error)
            self.listed.add(parent.sku)
            return None
        return _record(parent, sold, self.file, self.prices)


def read_woocommerce_csv(path: Path, prices: PricePolicy) -> CsvProducts:
    """Read and check the whole file; CatalogImportError, before anything is written, for a
    file that cannot be read (missing, not UTF-8 CSV, no Name column, neither SKU nor ID)."""
    reader = _Reader(path, prices)
    parents = reader.products()
    reader.variations()
    records = [r for parent in parents if (r := reader.record(parent)) is not None]
    reader.report.rejected.sort(key=lambda rejection: rejection.line)  # in the file's order
    log.info("%s: %d products read", reader.report.source, len(records))
    return CsvProducts(records, reader.report, frozenset(reader.listed))


def import_woocommerce_csv(session: Session, path: Path, prices: PricePolicy) -> ImportReport:
    """Upsert the file's products within the caller's transaction (no commit)."""
    read = read_woocommerce_csv(path, prices)
    upsert_products(session, read.records, read.report, SOURCE)
    return read.report
