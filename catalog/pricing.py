"""Prices as the shopper pays them today, and results ordered by them.

"cheapest jacket" orders by the price paid today (a running special price undercuts the
regular one), lowest first; "most expensive watch" the other way (catalog/query.py `order_of`).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.orm import Session

from catalog.models import Product

ORDER_RELEVANCE, ORDER_PRICE_LOW, ORDER_PRICE_HIGH = "relevance", "price_low", "price_high"
ORDERS = (ORDER_RELEVANCE, ORDER_PRICE_LOW, ORDER_PRICE_HIGH)


def effective_price(today: date) -> ColumnElement[int]:
    """The price as SQL: the special price while it runs and undercuts the regular one."""
    running = and_(
        Product.special_price_cents.is_not(None),
        Product.special_price_cents < Product.price_cents,
        or_(Product.special_from.is_(None), Product.special_from <= today),
        or_(Product.special_to.is_(None), Product.special_to >= today),
    )
    return case((running, Product.special_price_cents), else_=Product.price_cents)


def in_price_order(
    session: Session, ranked: list[tuple[int, float]], order: str, today: date
) -> list[tuple[int, float]]:
    """`ranked` by the price the shopper pays today when they asked for the cheapest (or the
    most expensive); relevance breaks ties, so the order stays stable."""
    if order not in (ORDER_PRICE_LOW, ORDER_PRICE_HIGH) or len(ranked) < 2:
        return ranked
    ids = [product_id for product_id, _ in ranked]
    prices: dict[int, int] = {
        int(row[0]): int(row[1])
        for row in session.execute(
            select(Product.id, effective_price(today)).where(Product.id.in_(ids))
        )
    }
    sign = 1 if order == ORDER_PRICE_LOW else -1
    position = {product_id: n for n, product_id in enumerate(ids)}
    return sorted(ranked, key=lambda item: (sign * prices.get(item[0], 0), position[item[0]]))
