"""The changes the built-in order book makes to ShopDesk's own order rows, under the shop's rules.

An order is shown only to someone who knows both its number and its customer's e-mail, and
`verify_order` answers the same None for an unknown number and a wrong e-mail, so the chat
cannot be used to find out which order numbers exist. Every change takes `now` from the
caller and checks the order's state first with the rules every connector shares
(connectors/orders.py); a change the shop's rules forbid raises NotAllowed with a sentence the
bot can say. catalog/order_system.py offers these as the `OrderSystem` the actions use.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.addresses import SHIPPING_COUNTRY, US_ONLY_TEXT, Address
from catalog.models import Customer, Order, OrderLine, Refund, Return
from catalog.order_views import order_view
from catalog.orders import ORDER_WITH_DETAILS, normalise_order_number
from catalog.statuses import NOT_SHIPPED, OrderStatus, RefundStatus, ReturnStatus
from connectors.errors import NotAllowed
from connectors.orders import can_cancel, return_deadline, returnable_lines, same_email

CANCELLABLE = NOT_SHIPPED  # paid or not, but not handed to a carrier
REFUND_METHOD = "original payment method"
_STATE_TEXT: dict[str, str] = {
    OrderStatus.SHIPPED: "has already shipped",
    OrderStatus.DELIVERED: "has already been delivered",
    OrderStatus.CANCELLED: "has been cancelled",
    OrderStatus.RETURNED: "has been delivered and returned",
    OrderStatus.REFUNDED: "has been refunded",
}


def verify_order(session: Session, number: str, email: str) -> Order | None:
    """The order with this number if `email` is its customer's, else None (for either reason).

    A wrong e-mail for an existing order and a number that does not exist run the same one
    query and the same comparison, so neither the answer nor its time tells them apart; the
    order itself is loaded only after a match.
    """
    normalised = normalise_order_number(number) or ""
    row = session.execute(
        select(Order.id, Customer.email)
        .join(Customer, Order.customer_id == Customer.id)
        .where(Order.number == normalised)
    ).first()
    order_id, stored = (row[0], str(row[1] or "")) if row is not None else (None, "")
    if not same_email(stored, email) or order_id is None:
        return None
    return session.scalar(select(Order).where(Order.id == order_id).options(*ORDER_WITH_DETAILS))


def find_customer(session: Session, email: str) -> Customer | None:
    wanted = email.strip().lower()
    if not wanted:
        return None
    return session.scalar(select(Customer).where(func.lower(Customer.email) == wanted))


def _require_unshipped(order: Order, consequence: str) -> None:
    """NotAllowed, saying why and what follows, once the order has left the warehouse."""
    if can_cancel(order_view(order)):
        return
    state = _STATE_TEXT.get(order.status, f"has the status “{order.status}”")
    if order.status in CANCELLABLE:  # a parcel exists although the status lags behind
        state = _STATE_TEXT[OrderStatus.SHIPPED]
    raise NotAllowed(f"Order {order.number} {state}, so {consequence}.")


def cancel_order(
    session: Session, order: Order, now: datetime, fee_cents: int = 0
) -> Refund | None:
    """Cancel before shipping; what was paid, less `fee_cents`, becomes a pending refund
    (returned; None when nothing had been paid)."""
    if order.status == OrderStatus.CANCELLED:
        raise NotAllowed(f"Order {order.number} is already cancelled.")
    _require_unshipped(order, "it can no longer be cancelled")
    if not 0 <= fee_cents <= order.total_cents:
        raise ValueError(f"a cancellation fee of {fee_cents} cents does not fit the order total")
    order.status = OrderStatus.CANCELLED
    order.cancelled_at = order.updated_at = now
    order.cancellation_fee_cents = fee_cents
    refund = None
    if order.invoices:
        refund = Refund(
            amount_cents=order.total_cents - fee_cents,
            status=RefundStatus.PENDING,
            method=REFUND_METHOD,
            created_at=now,
        )
        order.refunds.append(refund)
    session.flush()
    return refund


def change_shipping_address(
    session: Session, order: Order, address: Address, now: datetime
) -> None:
    """Send the order elsewhere; only while it has not shipped, and only within the US."""
    _require_unshipped(order, "its shipping address can no longer be changed")
    if address.country != SHIPPING_COUNTRY:
        raise NotAllowed(US_ONLY_TEXT)
    order.ship_name = address.name
    order.ship_street = address.street
    order.ship_city = address.city
    order.ship_region = address.region
    order.ship_postcode = address.postcode
    order.ship_country = address.country
    order.updated_at = now
    session.flush()


def _returned_qty(order: Order, line: OrderLine) -> int:
    return sum(
        r.qty
        for r in order.returns
        if r.order_line_id == line.id and r.status != ReturnStatus.REJECTED
    )


def create_return(
    session: Session, order: Order, line: OrderLine, reason: str, now: datetime, window_days: int
) -> Return:
    """A return request for what is left of `line`, numbered R<order number>-<n>."""
    view = order_view(order)
    if str(line.id) not in {x.line_id for x in returnable_lines(view, now.date(), window_days)}:
        deadline = return_deadline(view, window_days)
        if line not in order.lines:
            why = f"“{line.name}” is not part of order {order.number}"
        elif deadline is None:
            why = f"Order {order.number} has not been delivered yet, so it cannot be returned"
        elif now.date() > deadline:
            why = (
                f"The return window of order {order.number} closed on "
                f"{deadline:%B} {deadline.day}, {deadline.year} ({window_days} days after delivery)"
            )
        else:
            why = f"“{line.name}” of order {order.number} has already been returned"
        raise NotAllowed(f"{why}.")
    taken = [r.number.rpartition("-")[2] for r in order.returns]
    request = Return(
        number=f"R{order.number}-{max((int(n) for n in taken if n.isdigit()), default=0) + 1}",
        order_line_id=line.id,
        qty=line.qty - _returned_qty(order, line),
        reason=" ".join(reason.split())[:255],
        status=ReturnStatus.REQUESTED,
        created_at=now,
    )
    order.returns.append(request)
    order.updated_at = now
    session.flush()
    return request
