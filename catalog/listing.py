"""Which products shoppers may be shown: those still sold.

A product a catalog sync found gone from its source is marked discontinued
(`Product.discontinued_at`, catalog/sync.py) and never deleted, because orders, returns and
invoices refer to it. Every query that lists products for shoppers (search, semantic
candidates, recommendations, naming a product in a message) adds `listed()`; reading a product
by its SKU for an order does not.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement

from catalog.models import Product


def listed() -> ColumnElement[bool]:
    """The SQL condition "still sold": not discontinued."""
    return Product.discontinued_at.is_(None)


def is_listed(product: Product) -> bool:
    """The same test on a loaded product."""
    return product.discontinued_at is None
