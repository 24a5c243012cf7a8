"""A product as a source gives it: what the catalog's importers read from files and what each
connector reads from its shop's API, already cleaned and checked field by field.

`file` and `line` say where the record came from, for the report of rejected rows: a file and
its line for a feed, the connector's name and the product's position for an API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final

SHOP_CURRENCY: Final = "USD"


@dataclass(kw_only=True)
class VariantRecord:
    sku: str
    size: str | None = None
    color: str | None = None
    qty: int = 0
    line: int | None = None  # where the variant's own row is, if it has one


@dataclass(kw_only=True)
class ProductRecord:
    """One product as an importer or a connector read it."""

    sku: str
    name: str
    price_cents: int
    file: str
    line: int
    description: str = ""
    currency: str = SHOP_CURRENCY
    special_price_cents: int | None = None
    special_from: date | None = None
    special_to: date | None = None
    url_key: str = ""
    image: str | None = None
    images: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # paths: "Men/Tops/Jackets"
    gender: str | None = None
    brand: str | None = None
    attributes: list[tuple[str, str]] = field(default_factory=list)
    variants: list[VariantRecord] = field(default_factory=list)
