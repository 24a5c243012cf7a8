"""What every catalog importer shares: typed records, cleaning, prices, the upsert by SKU and
the report of what was accepted and rejected.

An importer reads and checks its whole file first (a file that cannot be read at all raises
`CatalogImportError` before anything is written), turns good rows into `ProductRecord`s and
bad ones into `Rejection`s, then calls `upsert_products` inside the caller's transaction, so a
failure anywhere rolls the whole import back. Products are never deleted by an import: a SKU
missing from a file keeps its previous data.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Category, Product, ProductAttribute, ProductImage, Variant
from catalog.text import plain_text, slugify
from connectors.products import SHOP_CURRENCY, ProductRecord, VariantRecord

log = logging.getLogger(__name__)

CHUNK = 500  # SKUs per IN (...) query
PROGRESS_EVERY = 1000

# Longest values the columns hold (catalog/models.py); longer ones are rejected, not cut.
PRODUCT_LIMITS = {"sku": 64, "name": 255, "url_key": 255, "image": 255, "brand": 120}
VARIANT_LIMITS = {"sku": 64, "size": 40, "color": 40}
CATEGORY_LIMITS = (255, 120)  # path, name
ATTRIBUTE_LIMITS = (64, 255)  # name, value
IMAGE_URL_LIMIT = 500


class CatalogImportError(Exception):
    """A file cannot be imported at all; the message names the file and what is wrong."""


class RowError(ValueError):
    """One field of one row is unusable; the importer turns it into a `Rejection`."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Rejection:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


@dataclass
class ImportReport:
    """Counts of what an import wrote and every row it rejected, for people and for JSON."""

    source: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    variants: int = 0
    reviews: int = 0
    links: int = 0
    customers: int = 0
    orders: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def products(self) -> int:
        return self.created + self.updated + self.unchanged

    def reject(self, file: str, line: int, field: str, reason: str) -> None:
        self.rejected.append(Rejection(file, line, field, reason))

    def summary(self) -> str:
        parts = [
            f"{self.products} products ({self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged)",
            f"{self.variants} variants",
        ]
        parts += [
            f"{count} {name}"
            for name, count in (
                ("reviews", self.reviews),
                ("links", self.links),
                ("customers", self.customers),
                ("orders", self.orders),
            )
            if count
        ]
        return f"{self.source}: {', '.join(parts)}; {len(self.rejected)} rows rejected"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["products"] = self.products
        return data


# --- cleaning -------------------------------------------------------------------------------


def clean_text(value: str | None) -> str:
    """HTML to plain text with whitespace collapsed; feeds and exports mix both freely."""
    return plain_text(value or "")


def split_values(value: str | None, separators: str = "|\n") -> list[str]:
    """A multi-valued cell ("Nylon|Polyester" or one value per line), cleaned, deduplicated."""
    pattern = "|".join(re.escape(s) for s in separators)
    seen: dict[str, None] = {}
    for part in re.split(pattern, value or ""):
        cleaned = clean_text(part)
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


_GENDERS = {
    "men": "Men", "man": "Men", "male": "Men", "m": "Men", "boys": "Men", "boy": "Men",
    "women": "Women", "woman": "Women", "female": "Women", "f": "Women", "girls": "Women",
    "girl": "Women", "unisex": "Unisex",
}  # fmt: skip


def normalise_gender(values: Iterable[str]) -> str | None:
    """Men, Women or Unisex (both, or unisex named); None when nothing says."""
    found = {_GENDERS.get(v.strip().lower()) for v in values} - {None}
    if "Unisex" in found or {"Men", "Women"} <= found:
        return "Unisex"
    return found.pop() if found else None


def category_path(segments: Iterable[str]) -> str:
    """Segments joined by "/" (a "/" inside a segment becomes "-"), blanks dropped."""
    parts = [clean_text(s).replace("/", "-") for s in segments]
    return "/".join(p for p in parts if p)


# --- prices and dates -----------------------------------------------------------------------

_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP"}
_PRICE = re.compile(
    r"^(?P<pre>[A-Za-z]{3}|US\$|[$€£])?\s*(?P<number>[0-9][0-9.,]*)\s*(?P<post>[A-Za-z]{3}|[$€£])?$"
)
_THOUSANDS_COMMA = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
_THOUSANDS_DOT = re.compile(r"^\d{1,3}(\.\d{3}){2,}(,\d+)?$|^\d{1,3}\.\d{3},\d+$")


def _amount(number: str, original: str) -> Decimal:
    """The decimal amount of "1,299.50", "1.299,50", "12,50", "52" or "52.0000"."""
    if "," in number and "." in number:
        if _THOUSANDS_COMMA.match(number):
            number = number.replace(",", "")
        elif _THOUSANDS_DOT.match(number):
            number = number.replace(".", "").replace(",", ".")
        else:
            raise ValueError(f"not a price: {original!r}")
    elif "," in number:
        if _THOUSANDS_COMMA.match(number):
            number = number.replace(",", "")
        elif _DECIMAL_COMMA.match(number):
            number = number.replace(",", ".")
        else:
            raise ValueError(f"not a price: {original!r}")
    elif number.count(".") > 1:
        if not _THOUSANDS_DOT.match(number):
            raise ValueError(f"not a price: {original!r}")
        number = number.replace(".", "")
    try:
        return Decimal(number)
    except InvalidOperation as error:
        raise ValueError(f"not a price: {original!r}") from error


@dataclass(frozen=True)
class PricePolicy:
    """How prices are read: the shop's currency and any exchange rates to it.

    Accepted forms: "52", "52.00", "52.0000", "1,299.50", "1.299,50", "12,50" (a comma with one
    or two digits after it is a decimal comma), with an ISO code before or after ("29.99 USD",
    "USD 29.99") or a symbol ("$", "€", "£"; "$" is read as USD). A price in another currency
    than the shop's is rejected unless `rates` gives the shop-currency value of one unit of it,
    e.g. {"EUR": Decimal("1.08")}; then it is converted and stored in the shop's currency.
    Fractions of a cent (other than trailing zeros) are rejected rather than rounded away.
    """

    currency: str = SHOP_CURRENCY
    rates: Mapping[str, Decimal] = field(default_factory=dict)

    def parse(self, value: str) -> tuple[int, str]:
        """(cents, currency) of a price; raises ValueError saying what is wrong."""
        text = " ".join(value.split())
        match = _PRICE.match(text)
        if not text or match is None:
            raise ValueError(f"not a price: {value!r}")
        pre, post = match["pre"], match["post"]
        if pre and post:
            raise ValueError(f"not a price: {value!r} (two currencies)")
        mark = pre or post
        currency = (_SYMBOLS.get(mark) or mark.upper()) if mark else self.currency
        amount = _amount(match["number"], value)
        cents = amount * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"not a price: {value!r} has fractions of a cent")
        if currency != self.currency:
            rate = self.rates.get(currency)
            if rate is None:
                raise ValueError(
                    f"price {value!r} is in {currency} but the shop sells in {self.currency} "
                    f"and no exchange rate for {currency} is configured"
                )
            cents = cents * rate
        return int(cents.quantize(Decimal(1), ROUND_HALF_UP)), self.currency


def parse_price(value: str, policy: PricePolicy | None = None) -> tuple[int, str]:
    """`PricePolicy.parse` with the default policy (USD, no exchange rates)."""
    return (policy or PricePolicy()).parse(value)


def parse_date(value: str | None) -> date | None:
    """ISO dates and date-times (with or without offset; the local date is kept) and the
    US "11/30/2026" or "11/30/26" of Magento exports; blank is None, anything else raises."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    for form in ("%m/%d/%Y", "%m/%d/%y", "%m/%d/%Y %H:%M", "%m/%d/%y %H:%M"):
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {value!r}")


def parse_quantity(value: str | None, default: int = 0) -> int:
    """Stock as "100", "100.0000" or blank (the default); negatives count as none."""
    text = (value or "").strip()
    if not text:
        return default
    try:
        amount = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(f"not a quantity: {value!r}") from error
    if not amount.is_finite() or amount != amount.to_integral_value():
        raise ValueError(f"not a quantity: {value!r}")
    return max(0, int(amount))


# --- reading files --------------------------------------------------------------------------


def read_text(path: Path) -> str:
    """The file's text; CatalogImportError if it is missing, empty, binary or not UTF-8."""
    if not path.is_file():
        raise CatalogImportError(f"{path}: file not found")
    data = path.read_bytes()
    if not data.strip():
        raise CatalogImportError(f"{path.name}: the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CatalogImportError(
            f"{path.name}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it as UTF-8"
        ) from error
    if "\x00" in text:
        raise CatalogImportError(f"{path.name}: binary data, not a text file")
    return text


def read_table(
    path: Path,
    required: set[str],
    report: ImportReport,
    *,
    delimiter: str = ",",
    header: Callable[[str], str] = str.strip,
) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV/TSV file with the line each starts on (the header is line 1).

    Checks the whole file first: unreadable text, broken quoting or missing `required`
    columns raise CatalogImportError. A row with a different number of cells than the header
    is rejected. A repeated column name (allowed in Merchant Center TSV) joins its cells
    with ",".
    """
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        names = [header(name) for name in next(reader, [])]
        missing = required - set(names)
        if missing:
            raise CatalogImportError(
                f"{path.name}: missing columns {', '.join(sorted(missing))} "
                f"(the first line must name the columns)"
            )
        previous = reader.line_num
        for cells in reader:
            start, previous = previous + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(names):
                report.reject(
                    path.name,
                    start,
                    "row",
                    f"{len(cells)} cells where the header has {len(names)} columns",
                )
                continue
            row: dict[str, str] = {}
            for name, cell in zip(names, cells, strict=True):
                row[name] = f"{row[name]},{cell}" if row.get(name) else cell
            rows.append((start, row))
    except csv.Error as error:
        kind = "TSV" if delimiter == "\t" else "CSV"
        raise CatalogImportError(
            f"{path.name}:{reader.line_num}: not a readable {kind} file: {error}"
        ) from error
    return rows


# --- writing --------------------------------------------------------------------------------


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class CategoryTree:
    """Categories by path; creates missing ones with every ancestor and its parent link."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_path = {c.path: c for c in session.scalars(select(Category))}

    def get(self, path: str) -> Category:
        found = self.by_path.get(path)
        parent_path, _, name = path.rpartition("/")
        parent = self.get(parent_path) if parent_path else None
        if found is None:
            found = Category(path=path, name=name, parent=parent)
            self.session.add(found)
            self.by_path[path] = found
        elif found.parent is None and parent is not None:
            found.parent = parent  # a tree from before categories had parents
        return found


def find_products(session: Session, skus: Iterable[str]) -> dict[str, Product]:
    """Products by their SKU or by the SKU of one of their variants (product SKUs win)."""
    wanted = sorted(set(skus))
    found: dict[str, Product] = {}
    for chunk in _chunks(wanted):
        for variant_sku, product in session.execute(
            select(Variant.sku, Product).join(Variant.product).where(Variant.sku.in_(chunk))
        ):
            found[variant_sku] = product
        for product in session.scalars(select(Product).where(Product.sku.in_(chunk))):
            found[product.sku] = product
    return found


def _too_long(record: ProductRecord) -> RowError | None:
    values = {
        "sku": record.sku, "name": record.name, "url_key": record.url_key,
        "image": record.image or "", "brand": record.brand or "",
    }  # fmt: skip
    for name, limit in PRODUCT_LIMITS.items():
        if len(values[name]) > limit:
            return RowError(name, f"longer than {limit} characters")
    for path in record.categories:
        if len(path) > CATEGORY_LIMITS[0] or any(
            len(part) > CATEGORY_LIMITS[1] for part in path.split("/")
        ):
            return RowError("category", f"category {path[:60]!r}… is too long")
    for name, value in record.attributes:
        if len(name) > ATTRIBUTE_LIMITS[0] or len(value) > ATTRIBUTE_LIMITS[1]:
            return RowError(name, f"value longer than {ATTRIBUTE_LIMITS[1]} characters")
    for url in record.images:
        if len(url) > IMAGE_URL_LIMIT:
            return RowError("image", f"image URL longer than {IMAGE_URL_LIMIT} characters")
    for variant in record.variants:
        for name, limit in VARIANT_LIMITS.items():
            if len(getattr(variant, name) or "") > limit:
                return RowError(f"variant {name}", f"{variant.sku}: longer than {limit} characters")
    return None


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _snapshot(product: Product) -> tuple[Any, ...]:
    """Everything an import sets on a product, to tell an update from no change."""
    return (
        product.name, product.description, product.price_cents, product.special_price_cents,
        product.special_from, product.special_to, product.currency, product.url_key,
        product.image, product.gender, product.brand, product.source,
        tuple(sorted(c.path for c in product.categories)),
        tuple(sorted((v.sku, v.size, v.color, v.qty) for v in product.variants)),
        tuple(sorted((a.name, a.value) for a in product.attributes)),
        tuple((i.url, i.position) for i in sorted(product.images, key=lambda i: i.position)),
    )  # fmt: skip


def _wanted(record: ProductRecord, variants: list[VariantRecord], source: str) -> tuple[Any, ...]:
    return (
        record.name, record.description, record.price_cents, record.special_price_cents,
        record.special_from, record.special_to, record.currency,
        record.url_key or slugify(record.name), record.image, record.gender, record.brand,
        source, tuple(sorted(set(record.categories))),
        tuple(sorted((v.sku, v.size, v.color, v.qty) for v in variants)),
        tuple(sorted(set(record.attributes))),
        tuple((url, position) for position, url in enumerate(_unique(record.images))),
    )  # fmt: skip


def wanted_state(record: ProductRecord, source: str) -> tuple[Any, ...]:
    """What `upsert_products` would store for `record` (all its variants kept), in the layout
    of a stored product's state: catalog/sync.py compares the two from flat queries to skip
    unchanged products without loading them."""
    return _wanted(record, record.variants, source)


class _Upsert:
    """One `upsert_products` call: the products and variants it may touch, loaded up front."""

    def __init__(self, session: Session, records: list[ProductRecord]) -> None:
        self.session = session
        self.categories = CategoryTree(session)
        self.products: dict[str, Product] = {}
        options = (
            selectinload(Product.categories),
            selectinload(Product.variants),
            selectinload(Product.attributes),
            selectinload(Product.images),
        )
        for chunk in _chunks([r.sku for r in records]):
            query = select(Product).where(Product.sku.in_(chunk)).options(*options)
            self.products.update((p.sku, p) for p in session.scalars(query))
        self.variants = {v.sku: v for p in self.products.values() for v in p.variants}
        # Who owns each variant SKU now: the database's products, then claims in this import.
        self.owner = {v.sku: p.sku for p in self.products.values() for v in p.variants}
        variant_skus = [v.sku for r in records for v in r.variants if v.sku not in self.owner]
        for chunk in _chunks(variant_skus):
            owners = select(Variant.sku, Product.sku).join(Variant.product)
            self.owner.update(session.execute(owners.where(Variant.sku.in_(chunk))).all())
        importing = {r.sku for r in records}
        for sku, owner in list(self.owner.items()):
            if owner in importing:
                del self.owner[sku]  # re-imported: its record says again what it owns

    def claim(self, record: ProductRecord, report: ImportReport) -> list[VariantRecord]:
        """The record's variants that are free or already its own; the others are rejected."""
        kept: list[VariantRecord] = []
        for variant in record.variants:
            owner = self.owner.setdefault(variant.sku, record.sku)
            if owner != record.sku:
                report.reject(
                    record.file, variant.line or record.line, "variant sku",
                    f"{variant.sku} already belongs to product {owner}",
                )  # fmt: skip
            elif any(k.sku == variant.sku for k in kept):
                report.reject(
                    record.file, variant.line or record.line, "variant sku",
                    f"{variant.sku} is listed twice for product {record.sku}",
                )  # fmt: skip
            else:
                kept.append(variant)
        return kept

    def apply(
        self, product: Product, record: ProductRecord, variants: list[VariantRecord], source: str
    ) -> None:
        product.name = record.name
        product.description = record.description
        product.price_cents = record.price_cents
        product.special_price_cents = record.special_price_cents
        product.special_from, product.special_to = record.special_from, record.special_to
        product.currency = record.currency
        product.url_key = record.url_key or slugify(record.name)
        product.image = record.image
        product.gender, product.brand, product.source = record.gender, record.brand, source
        product.categories = [self.categories.get(p) for p in _unique(record.categories)]
        kept_variants = []
        for wanted in variants:
            variant = self.variants.get(wanted.sku) or Variant(sku=wanted.sku)
            variant.size, variant.color, variant.qty = wanted.size, wanted.color, wanted.qty
            self.variants[wanted.sku] = variant
            kept_variants.append(variant)
        product.variants = kept_variants
        # Reuse rows by their natural keys: a delete and insert of the same key in one flush
        # would break the unique constraints (inserts are flushed first).
        attributes = {(a.name, a.value): a for a in product.attributes}
        product.attributes = [
            attributes.get(pair) or ProductAttribute(name=pair[0], value=pair[1])
            for pair in _unique(record.attributes)
        ]
        images = {i.url: i for i in product.images}
        product.images = []
        for position, url in enumerate(_unique(record.images)):
            image = images.get(url) or ProductImage(url=url)
            image.position, image.label = position, None
            product.images.append(image)


def upsert_products(
    session: Session, records: Iterable[ProductRecord], report: ImportReport, source: str
) -> dict[str, Product]:
    """Create or update a product per record (by SKU) with its categories, variants,
    attributes and images; returns the products written, by SKU. Never commits.

    A repeated SKU, a value too long for its column or a variant SKU owned by another
    product becomes a rejection in `report`; the other records are still written.
    """
    accepted: list[ProductRecord] = []
    first_line: dict[str, int] = {}
    for record in records:
        if record.sku in first_line:
            report.reject(
                record.file, record.line, "sku",
                f"{record.sku} appears again (first on line {first_line[record.sku]})",
            )  # fmt: skip
            continue
        problem = _too_long(record)
        if problem is not None:
            report.reject(record.file, record.line, problem.field, problem.reason)
            continue
        first_line[record.sku] = record.line
        accepted.append(record)
    upsert = _Upsert(session, accepted)
    written: dict[str, Product] = {}
    for count, record in enumerate(accepted, start=1):
        variants = upsert.claim(record, report)
        product = upsert.products.get(record.sku)
        if product is None:
            product = Product(sku=record.sku)
            session.add(product)
            upsert.apply(product, record, variants, source)
            report.created += 1
        elif _snapshot(product) == _wanted(record, variants, source):
            report.unchanged += 1
        else:
            upsert.apply(product, record, variants, source)
            report.updated += 1
        report.variants += len(variants)
        written[record.sku] = product
        if count % PROGRESS_EVERY == 0:
            log.info("%s: %d of %d products", report.source, count, len(accepted))
    session.flush()
    return written
