"""Imports a folder of Magento product CSVs: the Luma demo shop (catalog/data/luma).

Configurable products become products whose simple children are their variants; standalone
simple products (the gear) are products with one variant. Reviews, merchandising links,
customers and the sample orders come along when their files are there. Every file is read
and checked before anything is written, and `import_luma` upserts by SKU inside the caller's
transaction, so running it twice changes nothing and a failure leaves the catalog as it was.

The Luma review and link files also name products of Magento sample modules that are not in
this folder (bundles, grouped products, shoes): those 236 rows are reported as rejected.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.importing import (
    CatalogImportError,
    ImportReport,
    PricePolicy,
    RowError,
    category_path,
    clean_text,
    find_products,
    normalise_gender,
    parse_date,
    parse_quantity,
    read_table,
    split_values,
    upsert_products,
)
from catalog.models import Customer, Order, OrderLine, Product, ProductLink, Review
from catalog.statuses import OrderStatus
from catalog.text import slugify
from connectors.products import ProductRecord, VariantRecord

__all__ = ["CatalogImportError", "ImportReport", "import_luma"]

log = logging.getLogger(__name__)

SOURCE = "magento"
APPAREL_FILE = "Configurable__products.csv"
GEAR_FILES = "Catalog__SimpleProduct__products_*.csv"
REVIEW_FILE = "Review__products_reviews.csv"
LINK_FILES = "*__Links__*.csv"  # the kind is the file name's last part: related, upsell, ...
CUSTOMER_FILE = "Customer__customer_profile.csv"
ORDER_FILE = "Sales__orders.csv"
CATEGORY_FILES = "*__categories.csv"

APPAREL_COLUMNS = {"sku", "product_type", "name", "price", "categories"}
GEAR_COLUMNS = {"sku", "name", "price", "category"}
REVIEW_COLUMNS = {"sku", "rating_value", "title", "review", "reviewer"}
LINK_COLUMNS = {"sku", "linked_sku"}
LINK_KINDS = ("related", "upsell", "crosssell")
CUSTOMER_COLUMNS = {"email", "firstname", "lastname"}
ORDER_COLUMNS = {"customer_email", "currency", "shipping_method", "payment", "product", "refund"}

CHILD_VISIBILITY = "Not Visible Individually"
SKIPPED_ATTRIBUTES = {"has_options", "required_options", "size", "color"}
FLAGS = {"eco_collection", "performance_fabric", "erin_recommends", "new", "sale"}
TRUE = {"yes", "1", "true"}
# Gear columns that are product fields or bookkeeping; every other column is an attribute.
GEAR_FIELDS = {
    "category", "name", "sku", "price", "qty", "description", "gender", "size", "color",
    "visibility", "attribute_set", "url_key", "special_price", "special_price_from_date",
    "special_price_to_date", "base_image", "additional_images", "has_options",
    "required_options",
}  # fmt: skip
_ATTRIBUTE_SEPARATOR = re.compile(r",(?=[A-Za-z0-9_]+=)")


@dataclass
class _Parsed:
    """Everything read from the folder, before any of it is written."""

    records: list[ProductRecord] = field(default_factory=list)
    reviews: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    links: list[tuple[str, str, int, dict[str, str]]] = field(default_factory=list)
    customers: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    orders: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def _additional_attributes(encoded: str) -> dict[str, str]:
    """Magento's "key=value,key=value" column; a value may hold "|"-separated values."""
    pairs = (item.split("=", 1) for item in _ATTRIBUTE_SEPARATOR.split(encoded) if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


def _attribute_values(name: str, raw: str) -> list[tuple[str, str]]:
    """(name, value) pairs of one attribute; a yes/no flag only when it is set, as "Yes"."""
    if name in FLAGS or raw.strip().lower() in {"yes", "no"}:
        return [(name, "Yes")] if raw.strip().lower() in TRUE else []
    return [(name, value) for value in split_values(raw)]


def _root_names(data_dir: Path, report: ImportReport) -> set[str]:
    """Top-level category names (Men, Gear, Collections, ...) from the category files."""
    roots = {"Default Category"}
    for path in sorted(data_dir.glob(CATEGORY_FILES)):
        for _, row in read_table(path, {"name", "path"}, report):
            if not row["path"].strip():
                roots.add(clean_text(row["name"]))
    return roots


def gear_categories(cell: str, roots: set[str]) -> list[str]:
    """The paths in a gear `category` cell, one name per line, each path starting at a root:
    "Gear\\nBags\\nCollections\\nErin Recommends" → ["Gear/Bags", "Collections/Erin Recommends"].
    Commas separate paths too ("Gear/Bags,Collections/New Luma Yoga Collection")."""
    paths: list[list[str]] = []
    for chunk in cell.split(","):
        for name in (clean_text(n) for n in re.split(r"[\n/]", chunk)):
            if not name:
                continue
            if not paths or name in roots:
                paths.append([name])
            else:
                paths[-1].append(name)
        paths.append([])  # a comma always ends a path
    return list(dict.fromkeys(p for p in (category_path(s) for s in paths) if p))


def _common_fields(row: dict[str, str], file: str, line: int, prices: PricePolicy) -> ProductRecord:
    """A product's name, prices and special-price dates; RowError names the bad field."""
    name = clean_text(row.get("name"))
    if not name:
        raise RowError("name", "empty")
    try:
        price, currency = prices.parse(row.get("price", ""))
    except ValueError as error:
        raise RowError("price", str(error)) from error
    special = None
    if row.get("special_price", "").strip():
        try:
            special, _ = prices.parse(row["special_price"])
        except ValueError as error:
            raise RowError("special_price", str(error)) from error
    dates = {}
    for column in ("special_price_from_date", "special_price_to_date"):
        try:
            dates[column] = parse_date(row.get(column))
        except ValueError as error:
            raise RowError(column, str(error)) from error
    start, end = dates["special_price_from_date"], dates["special_price_to_date"]
    if start and end and end < start:
        raise RowError("special_price_to_date", f"{end} is before the start {start}")
    return ProductRecord(
        sku=row["sku"].strip(),
        name=name,
        description=clean_text(row.get("description")),
        price_cents=price,
        currency=currency,
        special_price_cents=special,
        special_from=start,
        special_to=end,
        file=file,
        line=line,
    )


def _images(row: dict[str, str]) -> list[str]:
    urls = [row.get("base_image", ""), *row.get("additional_images", "").split(",")]
    return list(dict.fromkeys(u.strip() for u in urls if u.strip()))


def _stock(row: dict[str, str]) -> int:
    try:
        return parse_quantity(row.get("qty"))
    except ValueError as error:
        raise RowError("qty", str(error)) from error


def _read_apparel(path: Path, report: ImportReport, prices: PricePolicy) -> list[ProductRecord]:
    """Configurable products with their children as variants, and standalone simple ones."""
    rows = read_table(path, APPAREL_COLUMNS, report)
    children = {row["sku"].strip(): (line, row) for line, row in rows}
    variations = {
        line: [_additional_attributes(v) for v in row.get("configurable_variations", "").split("|")]
        for line, row in rows
        if row["product_type"] == "configurable"
    }
    grouped = {spec.get("sku", "") for specs in variations.values() for spec in specs}
    records: list[ProductRecord] = []
    for line, row in rows:
        kind = row["product_type"].strip()
        if kind == "simple" and row["sku"].strip() in grouped:
            continue  # a variant, read with its parent
        try:
            if kind not in {"configurable", "simple", "virtual"}:
                raise RowError("product_type", f"{kind!r} products are not imported")
            if not row["sku"].strip():
                raise RowError("sku", "empty")
            if kind != "configurable" and row.get("visibility") == CHILD_VISIBILITY:
                raise RowError("visibility", "a variant that no configurable product lists")
            record = _common_fields(row, path.name, line, prices)
            if kind == "configurable":
                record.variants = _variants(variations[line], children, path.name, line, report)
            else:
                attributes = _additional_attributes(row.get("additional_attributes", ""))
                record.variants = [
                    VariantRecord(
                        sku=record.sku,
                        size=attributes.get("size") or None,
                        color=attributes.get("color") or None,
                        qty=_stock(row),
                        line=line,
                    )
                ]
        except RowError as error:
            report.reject(path.name, line, error.field, error.reason)
            continue
        record.url_key = slugify(row.get("url_key") or record.name)
        record.images = _images(row)
        record.image = record.images[0] if record.images else None
        paths = [c.strip().removeprefix("Default Category/") for c in row["categories"].split(",")]
        record.categories = [
            category_path(p.split("/")) for p in paths if p and p != "Default Category"
        ]
        record.gender = normalise_gender(p.split("/", 1)[0] for p in record.categories)
        for name, raw in _additional_attributes(row.get("additional_attributes", "")).items():
            if name not in SKIPPED_ATTRIBUTES:
                record.attributes += _attribute_values(name, raw)
        records.append(record)
    return records


def _variants(
    specs: list[dict[str, str]],
    children: dict[str, tuple[int, dict[str, str]]],
    file: str,
    parent_line: int,
    report: ImportReport,
) -> list[VariantRecord]:
    """The variants a configurable row lists; one whose row is missing or bad is rejected."""
    variants = []
    for spec in specs:
        sku = spec.get("sku", "").strip()
        if not sku:
            continue
        if sku not in children:
            report.reject(file, parent_line, "configurable_variations", f"variant {sku} has no row")
            continue
        line, row = children[sku]
        try:
            qty = _stock(row)
        except RowError as error:
            report.reject(file, line, error.field, error.reason)
            continue
        size, color = spec.get("size") or None, spec.get("color") or None
        variants.append(VariantRecord(sku=sku, size=size, color=color, qty=qty, line=line))
    return variants


def _read_gear(
    path: Path, roots: set[str], report: ImportReport, prices: PricePolicy
) -> list[ProductRecord]:
    """Standalone simple products, one variant each; every extra column is an attribute."""
    records = []
    for line, row in read_table(path, GEAR_COLUMNS, report):
        try:
            if not row["sku"].strip():
                raise RowError("sku", "empty")
            record = _common_fields(row, path.name, line, prices)
            qty = _stock(row)
        except RowError as error:
            report.reject(path.name, line, error.field, error.reason)
            continue
        record.url_key = slugify(row.get("url_key") or record.name)
        record.images = _images(row)
        record.image = record.images[0] if record.images else None
        record.categories = gear_categories(row["category"], roots)
        record.gender = normalise_gender(split_values(row.get("gender")))
        for name, raw in row.items():
            if name not in GEAR_FIELDS:
                record.attributes += _attribute_values(name, raw)
        size, color = clean_text(row.get("size")) or None, clean_text(row.get("color")) or None
        record.variants = [
            VariantRecord(sku=record.sku, size=size, color=color, qty=qty, line=line)
        ]
        records.append(record)
    return records


def _read_folder(data_dir: Path, report: ImportReport, prices: PricePolicy) -> _Parsed:
    if not data_dir.is_dir():
        raise CatalogImportError(f"{data_dir}: no such folder")
    apparel = data_dir / APPAREL_FILE
    gear = sorted(data_dir.glob(GEAR_FILES))
    if not apparel.is_file() and not gear:
        raise CatalogImportError(
            f"{data_dir}: no Magento product CSV ({APPAREL_FILE} or {GEAR_FILES})"
        )
    parsed = _Parsed()
    roots = _root_names(data_dir, report)
    if apparel.is_file():
        parsed.records += _read_apparel(apparel, report, prices)
    for path in gear:
        parsed.records += _read_gear(path, roots, report, prices)
    if (data_dir / REVIEW_FILE).is_file():
        parsed.reviews = read_table(data_dir / REVIEW_FILE, REVIEW_COLUMNS, report)
    for path in sorted(data_dir.glob(LINK_FILES)):
        kind = path.stem.rsplit("__", 1)[-1]
        if kind not in LINK_KINDS:
            raise CatalogImportError(f"{path.name}: unknown link kind {kind!r}")
        parsed.links += [
            (path.name, kind, line, row) for line, row in read_table(path, LINK_COLUMNS, report)
        ]
    if (data_dir / CUSTOMER_FILE).is_file():
        parsed.customers = read_table(data_dir / CUSTOMER_FILE, CUSTOMER_COLUMNS, report)
    if (data_dir / ORDER_FILE).is_file():
        parsed.orders = read_table(data_dir / ORDER_FILE, ORDER_COLUMNS, report)
    return parsed


def _write_reviews(
    session: Session,
    rows: list[tuple[int, dict[str, str]]],
    products: dict[str, Product],
    report: ImportReport,
) -> None:
    """The reviews of every product the file names replace that product's earlier imported
    ones; reviews written in the chat (with a conversation id) are the shoppers' and stay."""
    wanted: dict[int, list[tuple[int, str, str, str]]] = defaultdict(list)
    for line, row in rows:
        product = products.get(row["sku"].strip())
        if product is None:
            report.reject(REVIEW_FILE, line, "sku", f"unknown SKU {row['sku'].strip()!r}")
            continue
        rating = row["rating_value"].strip()
        if rating not in {"1", "2", "3", "4", "5"}:
            report.reject(
                REVIEW_FILE, line, "rating_value", f"{rating!r} is not a whole number from 1 to 5"
            )
            continue
        title = clean_text(row["title"])[:255]
        reviewer = clean_text(row["reviewer"])[:120]
        wanted[product.id].append((int(rating), title, clean_text(row["review"]), reviewer))
    existing: dict[int, list[Review]] = defaultdict(list)
    if wanted:
        query = select(Review).where(
            Review.product_id.in_(list(wanted)), Review.conversation_id.is_(None)
        )
        for review in session.scalars(query):
            existing[review.product_id].append(review)
    for product_id, reviews in wanted.items():
        report.reviews += len(reviews)
        old = existing[product_id]
        if sorted(reviews) == sorted((r.rating, r.title, r.text, r.reviewer) for r in old):
            continue
        for review in old:
            session.delete(review)
        session.add_all(
            Review(product_id=product_id, rating=rating, title=title, text=text, reviewer=who)
            for rating, title, text, who in reviews
        )


def _write_links(
    session: Session,
    rows: list[tuple[str, str, int, dict[str, str]]],
    products: dict[str, Product],
    report: ImportReport,
) -> None:
    """Each (product, kind) in the files gets exactly the links listed, in their order."""
    wanted: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)  # target → position
    for file, kind, line, row in rows:
        source = products.get(row["sku"].strip())
        if source is None:
            report.reject(file, line, "sku", f"unknown SKU {row['sku'].strip()!r}")
            continue
        targets = wanted[(source.id, kind)]
        for offset, linked in enumerate(row["linked_sku"].split("\n")):
            sku = linked.strip()
            if not sku:
                continue
            target = products.get(sku)
            if target is None:
                report.reject(file, line + offset, "linked_sku", f"unknown SKU {sku!r}")
            elif target.id == source.id:
                report.reject(file, line + offset, "linked_sku", f"{sku} links to itself")
            else:
                targets.setdefault(target.id, len(targets))
    existing: dict[tuple[int, str], dict[int, ProductLink]] = defaultdict(dict)
    sources = sorted({product_id for product_id, _ in wanted})
    for start in range(0, len(sources), 500):
        query = select(ProductLink).where(ProductLink.product_id.in_(sources[start : start + 500]))
        for stored in session.scalars(query):
            existing[(stored.product_id, stored.kind)][stored.linked_product_id] = stored
    for (product_id, kind), targets in wanted.items():
        report.links += len(targets)
        old = existing[(product_id, kind)]
        for target_id, stale in old.items():
            if target_id not in targets:
                session.delete(stale)
        for target_id, position in targets.items():
            link = old.get(target_id)
            if link is None:
                session.add(
                    ProductLink(
                        product_id=product_id,
                        linked_product_id=target_id,
                        kind=kind,
                        position=position,
                    )
                )
            elif link.position != position:
                link.position = position


def _write_orders(session: Session, parsed: _Parsed, report: ImportReport) -> None:
    """The Luma sample orders of Veronica Costello, numbered as Magento numbers them.

    The fixture has no dates or shipments: a refunded order becomes `refunded`, the other is
    invoiced but not yet shipped, which Magento calls `processing`.
    """
    customers = {c.email: c for c in session.scalars(select(Customer))}
    for _, row in parsed.customers:
        email = row["email"].strip()
        profile = customers.get(email) or Customer(email=email)
        profile.first_name, profile.last_name = row["firstname"], row["lastname"]
        session.add(profile)
        customers[email] = profile
        report.customers += 1
    items: list[tuple[int, int, dict[str, str], dict[str, object]]] = []
    for index, (line, row) in enumerate(parsed.orders, start=1):
        try:
            item = json.loads(row["product"])
            if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
                raise ValueError("no sku")
            int(item.get("qty", 1))
        except (ValueError, TypeError) as error:
            report.reject(ORDER_FILE, line, "product", f"not a product item: {error}")
            continue
        items.append((index, line, row, item))
    products = find_products(session, [str(item["sku"]) for _, _, _, item in items])
    orders = {o.number: o for o in session.scalars(select(Order))}
    for index, line, row, item in items:
        product = products.get(str(item["sku"]))
        customer = customers.get(row["customer_email"].strip())
        if product is None:
            report.reject(ORDER_FILE, line, "product", f"unknown SKU {item['sku']!r}")
            continue
        if customer is None:
            report.reject(ORDER_FILE, line, "customer_email", "no such customer")
            continue
        number = f"{index:09d}"
        order = orders.get(number) or Order(number=number)
        order.customer = customer
        order.status = OrderStatus.REFUNDED if row["refund"] == "yes" else OrderStatus.PROCESSING
        order.currency = row["currency"]
        order.shipping_method = row["shipping_method"]
        order.payment_method = row["payment"]
        raw_options = item.get("configurable_options")
        options = raw_options if isinstance(raw_options, dict) else {}
        parts = [str(item["sku"]), options.get("size", ""), options.get("color", "")]
        line_fields = {
            "sku": "-".join(p for p in parts if p),
            "name": product.name,
            "qty": int(str(item.get("qty", 1))),
            "price_cents": product.price_cents,
            "product_id": product.id,
        }
        current = [{k: getattr(ol, k) for k in line_fields} for ol in order.lines]
        if current != [line_fields]:  # rewrite only on change: returns point at these lines
            order.lines = [OrderLine(**line_fields)]
        session.add(order)
        report.orders += 1


def read_products(
    data_dir: Path, report: ImportReport, prices: PricePolicy | None = None
) -> list[ProductRecord]:
    """Only the products of `data_dir`, checked, nothing written (a catalog sync, which leaves
    reviews, links and orders to `import_luma`); bad rows go to `report`."""
    return _read_folder(data_dir, report, prices or PricePolicy()).records


def import_luma(
    session: Session, data_dir: Path, prices: PricePolicy | None = None
) -> ImportReport:
    """Upsert the Magento CSVs of `data_dir` within the caller's transaction (no commit).

    Raises CatalogImportError, before writing anything, for a file that cannot be read.
    """
    report = ImportReport(source=SOURCE)
    parsed = _read_folder(data_dir, report, prices or PricePolicy())
    log.info("%s: read %d products from %s", SOURCE, len(parsed.records), data_dir)
    products = upsert_products(session, parsed.records, report, SOURCE)
    skus = {row["sku"].strip() for _, row in parsed.reviews}
    for _, _, _, row in parsed.links:
        skus.add(row["sku"].strip())
        skus.update(s.strip() for s in row["linked_sku"].split("\n"))
    known = find_products(session, skus - set(products))
    known.update(products)
    _write_reviews(session, parsed.reviews, known, report)
    _write_links(session, parsed.links, known, report)
    _write_orders(session, parsed, report)
    session.flush()
    for rejection in report.rejected:
        log.debug("rejected %s", rejection)
    return report
