"""Looking up orders by the number a shopper types, and the codes orders are stored with.

Shipping fees are the shop's settings (shop.yml, catalog/policies.py), not order vocabulary.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from catalog.models import Order, Refund, Return
from connectors.orders import CARRIER_TRACKING_URLS, tracking_url

__all__ = [
    "CARRIER_TRACKING_URLS", "ORDER_NUMBER_WIDTH", "ORDER_WITH_DETAILS", "PAYMENT_METHODS",
    "find_order", "normalise_order_number", "tracking_url",
]  # fmt: skip

ORDER_NUMBER_WIDTH = 9  # Magento increment ids: 000000001

# Everything an order's page, its export or a change to it reads, loaded with the order in a
# few queries instead of one per relationship: `select(Order).options(*ORDER_WITH_DETAILS)`.
ORDER_WITH_DETAILS: Final = (
    joinedload(Order.customer),
    selectinload(Order.lines),
    selectinload(Order.shipments),
    selectinload(Order.returns).joinedload(Return.line),
    selectinload(Order.invoices),
    selectinload(Order.refunds).joinedload(Refund.return_),
)

# orders.payment_method: Magento's code for check / money order, and two of our own.
PAYMENT_METHODS = {"checkmo": "check / money order", "card": "credit card", "paypal": "PayPal"}


def normalise_order_number(text: str) -> str | None:
    """'#1', '000000001' and ' 0000001 ' all mean order 000000001; None if not a number."""
    digits = text.strip().lstrip("#").strip()
    if not digits.isdigit() or len(digits) > 20:
        return None
    return digits.zfill(ORDER_NUMBER_WIDTH)


def find_order(session: Session, number: str) -> Order | None:
    normalised = normalise_order_number(number)
    if normalised is None:
        return None
    return session.scalar(
        select(Order).where(Order.number == normalised).options(selectinload(Order.lines))
    )
