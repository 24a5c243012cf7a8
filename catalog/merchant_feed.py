"""Imports a Google Merchant Center product feed, the export most shop systems already have.

Both forms are read: tab-separated (.tsv/.txt, a header row of attribute names, "g:" prefixes
allowed) and RSS 2.0 XML (`<item>` elements with `g:` fields; Atom `<entry>` works too).
How the feed maps onto the catalog:

- Items sharing an `item_group_id` become ONE product whose SKU is the group id and whose
  variants are the items (SKU `id`, `size`, `color`). Its name is the titles' common words
  (the size/colour suffix dropped), its price the lowest item price ("from"), its sale price
  the first item's that has one. Other items are a product with one variant of the same SKU.
- `product_type` "Apparel > Men > Tops" is the category path "Apparel/Men/Tops"; `gender`
  male/female/unisex is Men/Women/Unisex; `material` and `pattern` ("/"-separated), `gtin`,
  `mpn`, `google_product_category`, `age_group` and `link` are stored as attributes.
- Stock: a `quantity` column if the feed has one, else 100 for in_stock and 0 for
  out_of_stock, preorder and backorder (the feed says nothing more, and those cannot ship now).
- Currency: each product keeps its feed's currency ("12.00 EUR" is stored and shown as
  EUR), so a shop selling in euros never shows "$12.00". A price in the shop's currency, or
  in one the import has an exchange rate for, is stored in the shop's currency; any other is
  kept as it is, and a group whose items are priced in different currencies is refused item
  by item (one product has one currency).
- `link` is the product's page as the shop itself serves it (Shopify's /products/..., a
  WooCommerce permalink): it is stored as the `link` attribute and the bot links to it
  rather than rebuilding "<shop URL>/<url_key>.html" (catalog/search.py `ProductHit.url`).

XML is parsed with the standard library's expat, and a document with a DOCTYPE or ENTITY
declaration is refused outright, so no entity expansion or external fetch can happen.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from xml.parsers import expat

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
    parse_quantity,
    read_table,
    split_values,
    upsert_products,
)
from catalog.text import slugify
from connectors.products import ProductRecord, VariantRecord

log = logging.getLogger(__name__)

SOURCE = "merchant"
FeedFormat = Literal["auto", "merchant-tsv", "merchant-xml"]
REQUIRED = {"id", "title", "price"}
LINK_ATTRIBUTE = "link"  # the attribute the product's own page is stored in
AVAILABILITY = {"in_stock", "out_of_stock", "preorder", "backorder"}
IN_STOCK_QTY = 100
MULTI_VALUED = {"additional_image_link", "product_type"}  # comma-separated in TSV
ATTRIBUTES = ("material", "pattern", "gtin", "mpn", "google_product_category", "age_group")
SPLIT_ON_SLASH = {"material", "pattern"}
ITEM_TAGS = {"item", "entry"}
_FORBIDDEN = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# The currency a price names (importing.PricePolicy's forms): a code or symbol before or after.
_CURRENCY_MARK = re.compile(r"^\s*(US\$|[A-Za-z]{3}|[$€£])|([A-Za-z]{3}|[$€£])\s*$")
_CURRENCY_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP"}


@dataclass
class FeedItem:
    """One `<item>` or TSV row: its values by attribute name and the line each is on."""

    line: int
    values: dict[str, list[str]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def get(self, name: str) -> str:
        found = self.values.get(name)
        return found[0].strip() if found else ""

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self.values.get(name, []) if v.strip()]

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)


def _header(name: str) -> str:
    """ "g:Item Group ID" → "item_group_id"."""
    name = name.strip().lower().removeprefix("g:")
    return re.sub(r"[\s-]+", "_", name)


def read_tsv(path: Path, report: ImportReport) -> list[FeedItem]:
    items = []
    for line, row in read_table(path, REQUIRED, report, delimiter="\t", header=_header):
        item = FeedItem(line)
        for name, value in row.items():
            values = value.split(",") if name in MULTI_VALUED else [value]
            item.values[name] = [v for v in values if v.strip()]
        items.append(item)
    if not items and not report.rejected:
        raise CatalogImportError(f"{path.name}: no product rows after the header")
    return items


class _XmlItems:
    """Expat handlers collecting the direct children of every item element."""

    def __init__(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        self.items: list[FeedItem] = []
        self.depth = 0
        self.item_depth: int | None = None
        self.field: str | None = None
        self.text: list[str] = []

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        local = name.rsplit("}", 1)[-1].lower()
        line = self.parser.CurrentLineNumber
        if self.item_depth is None:
            if local in ITEM_TAGS:
                self.item_depth = self.depth
                self.items.append(FeedItem(line))
        elif self.depth == self.item_depth + 1:
            self.field, self.text = local, []
            if local == "link" and "href" in attributes:  # Atom
                self.text.append(attributes["href"])
            self.items[-1].lines.setdefault(local, line)

    def data(self, text: str) -> None:
        if self.field is not None and self.depth == (self.item_depth or 0) + 1:
            self.text.append(text)

    def end(self, name: str) -> None:
        if self.item_depth is not None:
            if self.depth == self.item_depth + 1 and self.field is not None:
                self.items[-1].values.setdefault(self.field, []).append("".join(self.text))
                self.field = None
            elif self.depth == self.item_depth:
                self.item_depth = None
        self.depth -= 1


def _refuse_declarations(*_: object) -> None:
    raise CatalogImportError("DOCTYPE and ENTITY declarations are not allowed")


def read_xml(path: Path) -> list[FeedItem]:
    if not path.is_file():
        raise CatalogImportError(f"{path}: file not found")
    data = path.read_bytes()
    if not data.strip():
        raise CatalogImportError(f"{path.name}: the file is empty")
    if _FORBIDDEN.search(data):
        raise CatalogImportError(
            f"{path.name}: DOCTYPE and ENTITY declarations are not allowed in a feed "
            "(they can expand to huge or external content); remove them"
        )
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    handlers = _XmlItems(parser)
    parser.StartElementHandler = handlers.start
    parser.EndElementHandler = handlers.end
    parser.CharacterDataHandler = handlers.data
    parser.StartDoctypeDeclHandler = _refuse_declarations  # e.g. in UTF-16, which the
    parser.EntityDeclHandler = _refuse_declarations  # byte search above cannot see
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        reason = expat.errors.messages[error.code]
        raise CatalogImportError(
            f"{path.name}:{error.lineno}: not well-formed XML: {reason} (column {error.offset})"
        ) from error
    except CatalogImportError as error:
        raise CatalogImportError(f"{path.name}: {error}") from error
    if not handlers.items:
        raise CatalogImportError(
            f"{path.name}: no <item> elements; not a Google Merchant Center RSS feed"
        )
    return handlers.items


def named_currency(text: str) -> str | None:
    """The ISO code a price names ("12.00 EUR", "€12", "USD 5"), or None when it names none."""
    match = _CURRENCY_MARK.search(text.strip())
    if match is None:
        return None
    mark = match.group(1) or match.group(2)
    return _CURRENCY_SYMBOLS.get(mark) or mark.upper()


def _price(item: FeedItem, name: str, prices: PricePolicy) -> tuple[int, str]:
    """(cents, currency): in the shop's currency when it is that or can be converted to it,
    else in the currency the feed names (the product keeps it)."""
    text = item.get(name)
    try:
        return prices.parse(text)
    except ValueError as error:
        own = named_currency(text)
        if own is None or own == prices.currency or own in prices.rates:
            raise RowError(name, str(error)) from error
        try:
            return PricePolicy(currency=own).parse(text)
        except ValueError as again:
            raise RowError(name, str(again)) from again


def _sale_dates(item: FeedItem) -> tuple[date | None, date | None]:
    """ "2026-11-01T00:00-0800/2026-11-30T23:59-0800" → the two dates, each in its own zone."""
    value = item.get("sale_price_effective_date")
    if not value:
        return None, None
    start, slash, end = value.partition("/")
    try:
        if not slash:
            raise ValueError(f"{value!r} is not start/end")
        first, last = parse_date(start), parse_date(end)
    except ValueError as error:
        raise RowError("sale_price_effective_date", str(error)) from error
    if first and last and last < first:
        raise RowError("sale_price_effective_date", f"ends {last}, before it starts {first}")
    return first, last


def _quantity(item: FeedItem) -> int:
    availability = item.get("availability").lower().replace(" ", "_")
    if availability and availability not in AVAILABILITY:
        raise RowError(
            "availability", f"{availability!r} is not one of {', '.join(sorted(AVAILABILITY))}"
        )
    if item.get("quantity"):
        try:
            return parse_quantity(item.get("quantity"))
        except ValueError as error:
            raise RowError("quantity", str(error)) from error
    if not availability:
        raise RowError("availability", "missing, and there is no quantity")
    return IN_STOCK_QTY if availability == "in_stock" else 0


@dataclass
class _Checked:
    """An item whose fields all passed, ready to be grouped into a product."""

    item: FeedItem
    sku: str
    title: str
    price: int
    currency: str
    sale: int | None
    sale_from: date | None
    sale_to: date | None
    qty: int


def _check(item: FeedItem, prices: PricePolicy) -> _Checked:
    sku = item.get("id")
    if not sku:
        raise RowError("id", "empty")
    title = clean_text(item.get("title"))
    if not title:
        raise RowError("title", "empty")
    price, currency = _price(item, "price", prices)
    sale: int | None = None
    if item.get("sale_price"):
        sale, sale_currency = _price(item, "sale_price", prices)
        if sale_currency != currency:
            raise RowError("sale_price", f"in {sale_currency}, but the price is in {currency}")
    sale_from, sale_to = _sale_dates(item)
    return _Checked(item, sku, title, price, currency, sale, sale_from, sale_to, _quantity(item))


def _group_name(items: Sequence[_Checked]) -> str:
    """The titles' common leading words without a trailing separator, or the first title
    without its size and colour at the end ("Tee - Blue / M" → "Tee")."""
    words = [c.title.split() for c in items]
    common: list[str] = []
    for column in zip(*words, strict=False):
        if len(set(column)) != 1:
            break
        common.append(column[0])
    name = " ".join(common).rstrip(" -–,/|(:")
    if len(items) > 1 and name:
        return name
    first = items[0]
    suffixes = {v.lower() for v in (first.item.get("size"), first.item.get("color")) if v}
    kept = first.title.split()
    while len(kept) > 1 and (kept[-1].lower() in suffixes or kept[-1] in {"-", "/", ",", "|"}):
        kept.pop()
    return " ".join(kept).rstrip(" -–,/|(:") or first.title


def _url_key(link: str, name: str) -> str:
    last = urlsplit(link).path.rstrip("/").rsplit("/", 1)[-1]
    return slugify(re.sub(r"\.html?$", "", last)) or slugify(name)


def _record(file: str, sku: str, items: list[_Checked]) -> ProductRecord:
    first = items[0]
    with_sale = next((c for c in items if c.sale is not None), None)
    images: list[str] = []
    categories: list[str] = []
    attributes: list[tuple[str, str]] = []
    for checked in items:
        item = checked.item
        images += [item.get("image_link"), *item.all("additional_image_link")]
        categories += [category_path(p.split(">")) for p in item.all("product_type")]
        for name in ATTRIBUTES:
            separators = "/" if name in SPLIT_ON_SLASH else "\n"
            attributes += [(name, v) for v in split_values(item.get(name), separators)]
    name = _group_name(items)
    link = first.item.get("link")
    if link:
        attributes.append((LINK_ATTRIBUTE, link))
    return ProductRecord(
        sku=sku,
        name=name,
        description=clean_text(next((d for c in items if (d := c.item.get("description"))), "")),
        price_cents=min(c.price for c in items),
        currency=first.currency,
        special_price_cents=with_sale.sale if with_sale else None,
        special_from=with_sale.sale_from if with_sale else None,
        special_to=with_sale.sale_to if with_sale else None,
        url_key=_url_key(link, name),
        image=next((u for u in images if u), None),
        images=[u for u in images if u],
        categories=[c for c in categories if c],
        gender=normalise_gender(c.item.get("gender") for c in items),
        brand=clean_text(first.item.get("brand")) or None,
        attributes=attributes,
        variants=[
            VariantRecord(
                sku=c.sku,
                size=clean_text(c.item.get("size")) or None,
                color=clean_text(c.item.get("color")) or None,
                qty=c.qty,
                line=c.item.line,
            )
            for c in items
        ],
        file=file,
        line=first.item.line,
    )


def feed_records(
    items: list[FeedItem], file: str, report: ImportReport, prices: PricePolicy
) -> list[ProductRecord]:
    """Products from feed items: bad items rejected, groups merged into one product each."""
    groups: dict[str, list[_Checked]] = {}
    first_line: dict[str, int] = {}
    for item in items:
        try:
            checked = _check(item, prices)
        except RowError as error:
            report.reject(file, item.line_of(error.field), error.field, error.reason)
            continue
        if checked.sku in first_line:
            report.reject(
                file, item.line_of("id"), "id",
                f"{checked.sku} appears again (first on line {first_line[checked.sku]})",
            )  # fmt: skip
            continue
        group = groups.setdefault(item.get("item_group_id") or checked.sku, [])
        if group and group[0].currency != checked.currency:
            report.reject(
                file, item.line_of("price"), "price",
                f"in {checked.currency}, but {group[0].sku} of the same product is in "
                f"{group[0].currency}",
            )  # fmt: skip
            continue
        first_line[checked.sku] = item.line
        group.append(checked)
    return [_record(file, sku, members) for sku, members in groups.items()]


def detect_format(path: Path) -> Literal["merchant-tsv", "merchant-xml"]:
    """By extension (.xml / .tsv, .txt), else by whether the text starts with "<"."""
    suffix = path.suffix.lower()
    if suffix == ".xml":
        return "merchant-xml"
    if suffix in {".tsv", ".txt"}:
        return "merchant-tsv"
    with path.open("rb") as handle:
        head = handle.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    return "merchant-xml" if head.startswith(b"<") else "merchant-tsv"


def import_merchant_feed(
    session: Session,
    path: Path,
    feed_format: FeedFormat = "auto",
    prices: PricePolicy | None = None,
) -> ImportReport:
    """Upsert the feed's products within the caller's transaction (no commit).

    Raises CatalogImportError, before writing anything, for a file that cannot be read.
    """
    report = ImportReport(source=f"{SOURCE}:{path.name}")
    if not path.is_file():
        raise CatalogImportError(f"{path}: file not found")
    kind = detect_format(path) if feed_format == "auto" else feed_format
    items = read_xml(path) if kind == "merchant-xml" else read_tsv(path, report)
    log.info("%s: read %d items", report.source, len(items))
    records = feed_records(items, path.name, report, prices or PricePolicy())
    upsert_products(session, records, report, SOURCE)
    return report
