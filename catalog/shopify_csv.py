"""Imports a Shopify product CSV, the file Shopify's admin exports (Products → Export).

The format is Shopify's "Using CSV files to import and export products"
(https://help.shopify.com/en/manual/products/import-export/using-csv). Both generations of its
column names are read: the classic ones (Handle, Body (HTML), Variant SKU, Variant Price,
Variant Compare At Price, Variant Inventory Qty, Image Src, ...) and those of the newer
export (URL handle, Description, SKU, Price, Compare-at price, Inventory quantity, Product
image URL, ...). Names are matched whatever their case.

How the file maps onto the catalog:

- One product is spread over the rows sharing a Handle: the first carries the product's
  fields (Title, Body, Vendor, Type, Tags, Status, option names), each row with a price or an
  option value is a variant, and rows with only an image add images (Image Position orders
  them). The product's SKU is its handle: Shopify keeps SKUs on variants only, and the handle
  is the store's own unique, stable key for a product (a SKU taken from a variant would change
  the day a second variant is added, orphaning the first).
- Options named Size or Color/Colour are the variant's size and colour; other options
  (Material, ...) are attributes. "Title: Default Title" is Shopify's "no options". A variant
  without a SKU gets `<handle>-<its option values>`, stable across exports.
- Price: the cheapest variant's. A Compare-at price above the price means a sale (Shopify's
  way of showing one): the compare-at price is the regular price and the price the special
  price, with no end date (the file has none).
- Categories: the Product Category ("Apparel & Accessories > Clothing > Shirts") as the path
  "Apparel & Accessories/Clothing/Shirts", and the shop's own Type as a category of its own,
  as the Shopify connector does. Tags are attributes ("tag"), Vendor is the brand, the
  barcode is "gtin", and Google Shopping / Gender the gender.
- Stock: Variant Inventory Qty; a variant whose inventory Shopify does not track (no Variant
  Inventory Tracker) and which gives no count is sold as in stock.
- Products with Status draft or archived, or Published FALSE, are not for sale: each is
  reported as rejected, not imported, and a sync discontinues it.
- The product page is `<shop URL>/products/<handle>`, Shopify's documented address, when the
  shop's URL is given.

Prices carry no currency in this format: they are read in the currency the caller says
(catalog/shop_csv.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    read_table,
    split_values,
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
    flag,
    option_role,
    price,
    quantity,
)
from catalog.text import slugify
from connectors.products import ProductRecord, VariantRecord

log = logging.getLogger(__name__)

SOURCE: Final = "shopify-csv"
OPTIONS: Final = 3  # Option1..Option3
NO_OPTIONS: Final = frozenset({"default title"})  # Shopify's value for "this has no options"
GID_PREFIX: Final = "gid://"  # an older export's taxonomy id instead of the category's name
PRODUCT_PATH: Final = "/products/"


class Column(StrEnum):
    """The columns read, by their classic names as `header_key` writes them."""

    HANDLE = "handle"
    TITLE = "title"
    BODY = "body (html)"
    VENDOR = "vendor"
    CATEGORY = "product category"
    TYPE = "type"
    TAGS = "tags"
    PUBLISHED = "published"
    STATUS = "status"
    SKU = "variant sku"
    QTY = "variant inventory qty"
    TRACKER = "variant inventory tracker"
    PRICE = "variant price"
    COMPARE_AT = "variant compare at price"
    BARCODE = "variant barcode"
    IMAGE = "image src"
    IMAGE_POSITION = "image position"
    VARIANT_IMAGE = "variant image"
    GENDER = "google shopping / gender"
    MPN = "google shopping / mpn"


# The newer export's names (and a few spellings of the classic ones) for the same columns.
ALIASES: Final[dict[str, str]] = {
    "url handle": Column.HANDLE,
    "description": Column.BODY,
    "published on online store": Column.PUBLISHED,
    "sku": Column.SKU,
    "inventory quantity": Column.QTY,
    "inventory tracker": Column.TRACKER,
    "price": Column.PRICE,
    "compare-at price": Column.COMPARE_AT,
    "compare at price": Column.COMPARE_AT,
    "barcode": Column.BARCODE,
    "product image url": Column.IMAGE,
    "variant image url": Column.VARIANT_IMAGE,
    "google: gender (product.metafields.mm-google-shopping.gender)": Column.GENDER,
    "google: mpn (product.metafields.mm-google-shopping.mpn)": Column.MPN,
}
REQUIRED: Final = frozenset({Column.HANDLE.value, Column.TITLE.value})


class Status(StrEnum):
    ACTIVE = "active"
    DRAFT = "draft"
    ARCHIVED = "archived"


def option_name(number: int) -> str:
    return f"option{number} name"


def option_value(number: int) -> str:
    return f"option{number} value"


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "").strip()

    @property
    def is_variant(self) -> bool:
        """A row with a price, a SKU or an option value; the others only add an image."""
        return any(self.get(c) for c in (Column.PRICE, Column.SKU, option_value(1)))


@dataclass
class _Variant:
    record: VariantRecord
    price: int
    compare_at: int | None
    options: list[tuple[str, str]]  # (name, value) other than size and colour


@dataclass
class _Product:
    """The rows of one handle as they are checked."""

    handle: str
    rows: list[_Row]
    variants: list[_Variant] = field(default_factory=list)
    images: list[tuple[int, int, str]] = field(default_factory=list)  # (position, order, url)
    variant_images: list[str] = field(default_factory=list)  # after the product's own


def _status(first: _Row) -> Status:
    text = first.get(Column.STATUS).lower() or Status.ACTIVE
    try:
        return Status(text)
    except ValueError:
        choices = ", ".join(s.value for s in Status)
        raise RowError("Status", f"{text!r} is not one of {choices}") from None


def _refuse_unsold(first: _Row) -> None:
    """RowError for a product the shop does not sell now (draft, archived, unpublished)."""
    status = _status(first)
    if status is not Status.ACTIVE:
        raise NotForSale("Status", f"{status}: not for sale, so not imported")
    if not flag(first.get(Column.PUBLISHED), "Published", blank=True):
        raise NotForSale("Published", "FALSE: hidden from the online store, so not imported")


def _variant(product: _Product, row: _Row, names: Sequence[str], prices: PricePolicy) -> _Variant:
    values = [row.get(option_value(n)) for n in range(1, OPTIONS + 1)]
    chosen = [(name, value) for name, value in zip(names, values, strict=True) if name and value]
    chosen = [(n, v) for n, v in chosen if v.lower() not in NO_OPTIONS]
    if not row.get(Column.PRICE):
        raise RowError("Variant Price", "empty: every variant needs a price")
    paid = price(row.get(Column.PRICE), "Variant Price", prices)
    compare = row.get(Column.COMPARE_AT)
    compare_at = price(compare, "Variant Compare At Price", prices) if compare else None
    counted = row.get(Column.QTY)
    if counted:
        qty = quantity(counted, "Variant Inventory Qty")
    else:
        qty = 0 if row.get(Column.TRACKER) else IN_STOCK_QTY
    suffix = slugify("-".join(v for _, v in chosen))
    sku = row.get(Column.SKU) or (f"{product.handle}-{suffix}" if suffix else product.handle)
    roles = {option_role(name): clean_text(value) for name, value in chosen}
    others = [(attribute_name(n), clean_text(v)) for n, v in chosen if option_role(n) is None]
    record = VariantRecord(
        sku=sku, size=roles.get("size"), color=roles.get("color"), qty=qty, line=row.line
    )
    return _Variant(record, paid, compare_at, others)


def _image(product: _Product, row: _Row, order: int) -> None:
    url = row.get(Column.IMAGE)
    if url:
        position = row.get(Column.IMAGE_POSITION)
        if position and not position.isdigit():
            raise RowError("Image Position", f"{position!r} is not a whole number")
        product.images.append((int(position) if position else order, order, url))
    variant_image = row.get(Column.VARIANT_IMAGE)
    if variant_image:
        product.variant_images.append(variant_image)


def _categories(first: _Row) -> list[str]:
    paths = []
    for column in (Column.CATEGORY, Column.TYPE):
        value = first.get(column)
        if value and not value.startswith(GID_PREFIX):
            paths.append(category_path(value.split(">")))
    return [p for p in paths if p]


def _record(
    product: _Product, file: str, prices: PricePolicy, shop_url: str | None
) -> ProductRecord:
    first = product.rows[0]
    cheapest = min(product.variants, key=lambda v: v.price)
    on_sale = cheapest.compare_at is not None and cheapest.compare_at > cheapest.price
    attributes = [(TAG_ATTRIBUTE, tag) for tag in split_values(first.get(Column.TAGS), ",")]
    for variant in product.variants:
        attributes += variant.options
    for row in product.rows:
        attributes += [("gtin", v) for v in split_values(row.get(Column.BARCODE), ",")]
        attributes += [("mpn", v) for v in split_values(row.get(Column.MPN), ",")]
    if shop_url:
        attributes.append((LINK_ATTRIBUTE, f"{shop_url.rstrip('/')}{PRODUCT_PATH}{product.handle}"))
    images = [url for _, _, url in sorted(product.images)] + product.variant_images
    images = list(dict.fromkeys(images))
    return ProductRecord(
        sku=product.handle,
        name=clean_text(first.get(Column.TITLE)),
        description=clean_text(first.get(Column.BODY)),
        price_cents=cheapest.compare_at if on_sale and cheapest.compare_at else cheapest.price,
        special_price_cents=cheapest.price if on_sale else None,
        currency=prices.currency,
        url_key=slugify(product.handle),
        image=images[0] if images else None,
        images=images,
        categories=_categories(first),
        gender=normalise_gender(row.get(Column.GENDER) for row in product.rows),
        brand=clean_text(first.get(Column.VENDOR)) or None,
        attributes=list(dict.fromkeys(attributes)),
        variants=[v.record for v in product.variants],
        file=file,
        line=first.line,
    )


def _product(
    product: _Product, file: str, report: ImportReport, prices: PricePolicy, shop_url: str | None
) -> ProductRecord | None:
    """The handle's product, or None with the reasons in `report`."""
    first = product.rows[0]
    if not clean_text(first.get(Column.TITLE)):
        raise RowError("Title", f"empty on the first row of {product.handle!r}")
    _refuse_unsold(first)
    names = [first.get(option_name(n)) for n in range(1, OPTIONS + 1)]
    for order, row in enumerate(product.rows):
        try:
            if row.is_variant:
                product.variants.append(_variant(product, row, names, prices))
            _image(product, row, order)
        except RowError as error:
            report.reject(file, row.line, error.field, error.reason)
    if not product.variants:
        if not any(row.is_variant for row in product.rows):
            raise RowError("Variant Price", f"{product.handle!r} has no row with a price")
        return None  # its variant rows were rejected, each with its reason
    return _record(product, file, prices, shop_url)


def _rows(path: Path, report: ImportReport) -> dict[str, _Product]:
    """The file's rows grouped by handle, in the order the handles first appear."""
    header = canonical_header(ALIASES)
    products: dict[str, _Product] = {}
    for line, cells in read_table(path, set(REQUIRED), report, header=header):
        row = _Row(line, cells)
        handle = row.get(Column.HANDLE)
        if not handle:
            report.reject(path.name, line, "Handle", "empty: every row names its product")
            continue
        products.setdefault(handle, _Product(handle, [])).rows.append(row)
    return products


def read_shopify_csv(path: Path, prices: PricePolicy, shop_url: str | None = None) -> CsvProducts:
    """Read and check the whole file; CatalogImportError, before anything is written, for a
    file that cannot be read (missing, not UTF-8 CSV, no Handle or Title column)."""
    report = ImportReport(source=f"{SOURCE}:{path.name}")
    records: list[ProductRecord] = []
    listed: set[str] = set()
    products = _rows(path, report)
    if not products and not report.rejected:
        raise CatalogImportError(f"{path.name}: no product rows after the header")
    for product in products.values():
        try:
            record = _product(product, path.name, report, prices, shop_url)
        except NotForSale as error:
            report.reject(path.name, product.rows[0].line, error.field, error.reason)
            continue  # gone, as far as a sync is concerned
        except RowError as error:
            report.reject(path.name, product.rows[0].line, error.field, error.reason)
            record = None
        if record is None:
            listed.add(product.handle)
        else:
            records.append(record)
    report.rejected.sort(key=lambda rejection: rejection.line)  # in the file's order
    log.info("%s: %d products read", report.source, len(records))
    return CsvProducts(records, report, frozenset(listed))


def import_shopify_csv(
    session: Session, path: Path, prices: PricePolicy, shop_url: str | None = None
) -> ImportReport:
    """Upsert the file's products within the caller's transaction (no commit)."""
    read = read_shopify_csv(path, prices, shop_url)
    upsert_products(session, read.records, read.report, SOURCE)
    return read.report
