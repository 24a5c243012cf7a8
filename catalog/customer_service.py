"""What the service desk may tell and do about an order once the shopper has proved it is theirs.

An order is shown only to someone who knows both its number and its customer's e-mail, and
`verify_order` answers the same None for an unknown number and a wrong e-mail, so the chat
cannot be used to find out which order numbers exist. Every change takes `now` from the
caller and checks the order's state first; a change the shop's rules forbid raises
NotAllowed with a sentence the bot can say.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.addresses import SHIPPING_COUNTRY, US_ONLY_TEXT, Address
from catalog.models import Customer, Order, OrderLine, Refund, Return, Shipment
from catalog.orders import ORDER_WITH_DETAILS, normalise_order_number, tracking_url
from catalog.statuses import NOT_SHIPPED, OrderStatus, RefundStatus, ReturnStatus

CANCELLABLE = NOT_SHIPPED  # paid or not, but not handed to a carrier
REFUND_METHOD = "original payment method"
_STATE_TEXT: dict[str, str] = {
    OrderStatus.SHIPPED: "has already shipped",
    OrderStatus.DELIVERED: "has already been delivered",
    OrderStatus.CANCELLED: "has been cancelled",
    OrderStatus.RETURNED: "has been delivered and returned",
    OrderStatus.REFUNDED: "has been refunded",
}


class NotAllowed(Exception):
    """The shop's rules forbid this change; `reason` is a sentence for the shopper."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TrackingInfo:
    status: str
    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None
    eta: date | None
    shipped_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class CancellationResult:
    order_number: str
    fee_cents: int
    refund: Refund | None  # pending; None when nothing had been paid


@dataclass(frozen=True)
class RefundInfo:
    amount_cents: int
    status: str  # pending, processed
    method: str
    created_at: datetime
    processed_at: datetime | None
    return_number: str | None  # None: the refund of a cancellation


@dataclass(frozen=True)
class InvoiceInfo:
    number: str
    issued_at: datetime
    amount_cents: int


def _same_email(stored: str, typed: str) -> bool:
    """Case- and space-insensitive, in constant time (bytes: compare_digest wants ASCII str)."""
    return hmac.compare_digest(
        stored.strip().lower().encode("utf-8"), typed.strip().lower().encode("utf-8")
    )


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
    if not _same_email(stored, email) or order_id is None:
        return None
    return session.scalar(select(Order).where(Order.id == order_id).options(*ORDER_WITH_DETAILS))


def find_customer(session: Session, email: str) -> Customer | None:
    wanted = email.strip().lower()
    if not wanted:
        return None
    return session.scalar(select(Customer).where(func.lower(Customer.email) == wanted))


def _latest_shipment(order: Order) -> Shipment | None:
    shipments = sorted(order.shipments, key=lambda s: (s.shipped_at or datetime.min, s.id))
    return shipments[-1] if shipments else None


def tracking(order: Order) -> TrackingInfo:
    """Where the order's latest parcel is; carrier fields are None before it ships."""
    shipment = _latest_shipment(order)
    if shipment is None:
        return TrackingInfo(order.status, None, None, None, None, None, None)
    number = shipment.tracking_number
    return TrackingInfo(
        status=order.status,
        carrier=shipment.carrier,
        tracking_number=number,
        tracking_url=tracking_url(shipment.carrier, number) if number else None,
        eta=shipment.eta,
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at,
    )


def shipping_address(order: Order) -> Address | None:
    """The address the order ships to; None for an order stored without one."""
    if not (order.ship_street and order.ship_city and order.ship_region and order.ship_postcode):
        return None
    return Address(
        name=order.ship_name or "",
        street=order.ship_street,
        city=order.ship_city,
        region=order.ship_region,
        postcode=order.ship_postcode,
        country=order.ship_country or SHIPPING_COUNTRY,
    )


def can_cancel(order: Order) -> bool:
    """Only until the parcel is handed to a carrier."""
    return order.status in CANCELLABLE and not order.shipments


def _require_unshipped(order: Order, consequence: str) -> None:
    """NotAllowed, saying why and what follows, once the order has left the warehouse."""
    if can_cancel(order):
        return
    state = _STATE_TEXT.get(order.status, f"has the status “{order.status}”")
    if order.status in CANCELLABLE:  # a parcel exists although the status lags behind
        state = _STATE_TEXT[OrderStatus.SHIPPED]
    raise NotAllowed(f"Order {order.number} {state}, so {consequence}.")


def cancel_order(
    session: Session, order: Order, now: datetime, fee_cents: int = 0
) -> CancellationResult:
    """Cancel before shipping; what was paid, less `fee_cents`, becomes a pending refund."""
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
    return CancellationResult(order.number, fee_cents, refund)


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


def _delivered_on(order: Order) -> date | None:
    if order.status == OrderStatus.CANCELLED:
        return None
    days = [s.delivered_at.date() for s in order.shipments if s.delivered_at is not None]
    return max(days) if days else None


def return_deadline(order: Order, window_days: int) -> date | None:
    """The last day a return may be asked for (inclusive); None before delivery."""
    delivered = _delivered_on(order)
    return delivered + timedelta(days=window_days) if delivered else None


def _returned_qty(order: Order, line: OrderLine) -> int:
    return sum(
        r.qty
        for r in order.returns
        if r.order_line_id == line.id and r.status != ReturnStatus.REJECTED
    )


def returnable_lines(order: Order, today: date, window_days: int) -> list[OrderLine]:
    """Lines of a delivered order, within the window, not already returned in full."""
    deadline = return_deadline(order, window_days)
    if deadline is None or today > deadline:
        return []
    return [line for line in order.lines if _returned_qty(order, line) < line.qty]


def create_return(
    session: Session, order: Order, line: OrderLine, reason: str, now: datetime, window_days: int
) -> Return:
    """A return request for what is left of `line`, numbered R<order number>-<n>."""
    if line not in returnable_lines(order, now.date(), window_days):
        deadline = return_deadline(order, window_days)
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


def refund_status(order: Order) -> list[RefundInfo]:
    """Every refund of the order, oldest first."""
    return [
        RefundInfo(
            amount_cents=refund.amount_cents,
            status=refund.status,
            method=refund.method,
            created_at=refund.created_at,
            processed_at=refund.processed_at,
            return_number=refund.return_.number if refund.return_ else None,
        )
        for refund in sorted(order.refunds, key=lambda r: (r.created_at, r.id))
    ]


def invoices(order: Order) -> list[InvoiceInfo]:
    return [
        InvoiceInfo(invoice.number, invoice.issued_at, invoice.amount_cents)
        for invoice in sorted(order.invoices, key=lambda i: (i.issued_at, i.id))
    ]
