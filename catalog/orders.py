"""Looking up orders by the number a shopper types."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Order

ORDER_NUMBER_WIDTH = 9  # Magento increment ids: 000000001


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
