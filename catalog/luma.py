"""Imports the Magento Luma demo shop (catalog/data/luma) into the catalog database.

The import runs in one transaction and upserts by SKU, so running it again changes nothing
and a failure leaves the previous catalog as it was.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Category, Customer, Order, OrderLine, Product, Variant
from catalog.text import plain_text, price_to_cents, slugify

log = logging.getLogger(__name__)

GEAR_FILES = "Catalog__SimpleProduct__products_gear_*.csv"
APPAREL_FILE = "Configurable__products.csv"
APPAREL_COLUMNS = {
    "sku", "product_type", "name", "description", "price", "url_key", "base_image",
    "categories", "configurable_variations", "qty",
}  # fmt: skip
GEAR_COLUMNS = {"sku", "name", "description", "price", "category", "qty"}
CUSTOMER_COLUMNS = {"email", "firstname", "lastname"}
ORDER_COLUMNS = {"customer_email", "currency", "shipping_method", "payment", "product", "refund"}


class CatalogImportError(Exception):
    """A file cannot be imported at all; the message names the file and what is wrong."""


@dataclass
class ImportReport:
    products: int = 0
    variants: int = 0
    orders: int = 0
    rejected: list[str] = field(default_factory=list)  # "file:line: reason"

    def summary(self) -> str:
        return (
            f"{self.products} products, {self.variants} variants, {self.orders} orders imported; "
            f"{len(self.rejected)} rows rejected"
        )


def _rows(path: Path, required: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """CSV rows with the line each starts on (the header is line 1); checks the columns."""
    if not path.is_file():
        raise CatalogImportError(f"{path.name}: file not found in {path.parent}")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise CatalogImportError(f"{path.name}: missing columns {', '.join(sorted(missing))}")
        start = 2
        for row in reader:
            yield start, row
            start = reader.line_num + 1


def _attributes(encoded: str) -> dict[str, str]:
    """Magento's 'key=value,key=value' additional_attributes column."""
    pairs = (item.split("=", 1) for item in encoded.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def _stock(value: str) -> int:
    """Magento writes quantities as '100' or '100.0000'; blank or unreadable counts as none."""
    try:
        return max(0, int(float(value or 0)))
    except ValueError:
        return 0


def _gender_from(values: list[str]) -> str | None:
    adult = {v for v in values if v in {"Men", "Women"}}
    if len(adult) == 2 or "Unisex" in values:
        return "Unisex"
    return adult.pop() if adult else None


class _Upserter:
    """Keeps the rows already in the database by their natural keys for this import."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.products = {p.sku: p for p in session.scalars(select(Product))}
        self.categories = {c.path: c for c in session.scalars(select(Category))}

    def category(self, path: str) -> Category:
        found = self.categories.get(path)
        if found is None:
            found = Category(path=path, name=path.rsplit("/", 1)[-1])
            self.session.add(found)
            self.categories[path] = found
        return found

    def product(self, sku: str) -> Product:
        found = self.products.get(sku)
        if found is None:
            found = Product(sku=sku)
            self.session.add(found)
            self.products[sku] = found
        return found


def _set_variants(
    product: Product, variants: list[tuple[str, str | None, str | None, int]]
) -> None:
    existing = {v.sku: v for v in product.variants}
    kept: list[Variant] = []
    for sku, size, color, qty in variants:
        variant = existing.get(sku) or Variant(sku=sku)
        variant.size, variant.color, variant.qty = size, color, qty
        kept.append(variant)
    product.variants = kept


def _upsert_product(
    row: dict[str, str], where: str, upsert: _Upserter, report: ImportReport
) -> Product | None:
    """The product of a row with its name, description and price; None (and reported) if the
    row has no usable name or price."""
    try:
        price = price_to_cents(row["price"])
        if not row["name"].strip():
            raise ValueError("name is empty")
    except ValueError as error:
        report.rejected.append(f"{where}: {error}")
        return None
    product = upsert.product(row["sku"])
    product.name = plain_text(row["name"])
    product.description = plain_text(row["description"])
    product.price_cents = price
    return product


def _import_apparel(path: Path, upsert: _Upserter, report: ImportReport) -> None:
    simple_rows: dict[str, dict[str, str]] = {}
    parents: list[tuple[int, dict[str, str]]] = []
    for line, row in _rows(path, APPAREL_COLUMNS):
        if row["product_type"] == "configurable":
            parents.append((line, row))
        else:
            simple_rows[row["sku"]] = row
    for line, row in parents:
        product = _upsert_product(row, f"{path.name}:{line}", upsert, report)
        if product is None:
            continue
        product.url_key = row["url_key"] or slugify(product.name)
        product.image = row["base_image"] or None
        paths = [c.removeprefix("Default Category/") for c in row["categories"].split(",")]
        paths = [p for p in paths if p and p != "Default Category"]
        product.categories = [upsert.category(p) for p in paths]
        product.gender = _gender_from([p.split("/", 1)[0] for p in paths])
        variants = []
        for encoded in row["configurable_variations"].split("|"):
            spec = _attributes(encoded)
            child = simple_rows.get(spec.get("sku", ""))
            if child is None:
                report.rejected.append(f"{path.name}:{line}: variant {spec.get('sku')} has no row")
                continue
            variants.append(
                (child["sku"], spec.get("size"), spec.get("color"), _stock(child["qty"]))
            )
        _set_variants(product, variants)
        report.products += 1
        report.variants += len(variants)


def _import_gear(path: Path, upsert: _Upserter, report: ImportReport) -> None:
    for line, row in _rows(path, GEAR_COLUMNS):
        product = _upsert_product(row, f"{path.name}:{line}", upsert, report)
        if product is None:
            continue
        product.url_key = slugify(row.get("url_key") or product.name)
        product.image = None
        product.categories = [upsert.category("/".join(row["category"].split("\n")))]
        product.gender = _gender_from(row.get("gender", "").split("\n"))
        color = row.get("color") or None
        size = row.get("size") or None
        _set_variants(product, [(row["sku"], size, color, _stock(row["qty"]))])
        report.products += 1
        report.variants += 1


def _import_orders(
    data_dir: Path, session: Session, upsert: _Upserter, report: ImportReport
) -> None:
    """The two Luma sample orders of Veronica Costello, numbered as Magento numbers them.

    The fixture has no dates or shipments: a refunded order becomes `refunded`, the other is
    invoiced but not yet shipped, which Magento calls `processing`.
    """
    customers = {c.email: c for c in session.scalars(select(Customer))}
    for _, row in _rows(data_dir / "Customer__customer_profile.csv", CUSTOMER_COLUMNS):
        profile = customers.get(row["email"]) or Customer(email=row["email"])
        profile.first_name, profile.last_name = row["firstname"], row["lastname"]
        session.add(profile)
        customers[row["email"]] = profile
    orders = {o.number: o for o in session.scalars(select(Order))}
    for index, (line, row) in enumerate(
        _rows(data_dir / "Sales__orders.csv", ORDER_COLUMNS), start=1
    ):
        item = json.loads(row["product"])
        product = upsert.products.get(item["sku"])
        customer = customers.get(row["customer_email"])
        if product is None or customer is None:
            report.rejected.append(f"Sales__orders.csv:{line}: unknown product or customer")
            continue
        number = f"{index:09d}"
        order = orders.get(number) or Order(number=number)
        order.customer = customer
        order.status = "refunded" if row["refund"] == "yes" else "processing"
        order.currency = row["currency"]
        order.shipping_method = row["shipping_method"]
        order.payment_method = row["payment"]
        options = item.get("configurable_options", {})
        variant_sku = "-".join([item["sku"], options.get("size", ""), options.get("color", "")])
        order.lines = [
            OrderLine(
                sku=variant_sku.strip("-"),
                name=product.name,
                qty=int(item["qty"]),
                price_cents=product.price_cents,
            )
        ]
        session.add(order)
        report.orders += 1


def import_luma(session: Session, data_dir: Path) -> ImportReport:
    """Upsert the Luma catalog and sample orders within the caller's transaction."""
    report = ImportReport()
    upsert = _Upserter(session)
    _import_apparel(data_dir / APPAREL_FILE, upsert, report)
    for path in sorted(data_dir.glob(GEAR_FILES)):
        _import_gear(path, upsert, report)
    session.flush()
    _import_orders(data_dir, session, upsert, report)
    for rejected in report.rejected:
        log.warning("rejected %s", rejected)
    return report
