"""An order as ShopDesk sees it, whichever system keeps it: plain frozen values.

Connectors build these from their platform's records (catalog/order_system.py from ShopDesk's
own tables, connectors/oscar.py from Oscar's API, ...), and the actions read nothing else. The
shop rules ShopDesk applies the same way for every connector (an order can be cancelled or
redirected until it ships; a line can be returned within the window after delivery, until all
of it was returned) are functions of these values, here, so no connector reimplements them.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from connectors.statuses import NOT_SHIPPED, OrderStatus, RefundStatus, ReturnStatus

DEFAULT_COUNTRY = "US"
# Each carrier's public tracking page; {number} is the tracking number. Every connector links a
# parcel to its carrier's page with `tracking_url`, whatever the platform calls the carrier.
CARRIER_TRACKING_URLS = {
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
}


def tracking_url(carrier: str, number: str) -> str | None:
    pattern = CARRIER_TRACKING_URLS.get(carrier)
    return pattern.format(number=number) if pattern else None


@dataclass(frozen=True)
class Address:
    """A postal address; `region` is the state or province code, `country` ISO 3166 alpha-2."""

    name: str
    street: str
    city: str
    region: str
    postcode: str
    country: str = DEFAULT_COUNTRY

    def one_line(self) -> str:
        """'Veronica Costello, 6146 Honey Bluff Parkway, Calder, MI 49628-7978, US'."""
        return (
            f"{self.name}, {self.street}, {self.city}, {self.region} {self.postcode}, "
            f"{self.country}"
        )


@dataclass(frozen=True)
class OrderLine:
    """One line of an order; `line_id` is the connector's own key for it (a string)."""

    line_id: str
    name: str
    qty: int
    sku: str | None = None
    price_cents: int = 0


@dataclass(frozen=True)
class Shipment:
    """A parcel; carrier fields are None until it ships."""

    carrier: str | None
    tracking_number: str | None
    tracking_url: str | None = None
    eta: date | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Invoice:
    number: str
    issued_at: datetime
    amount_cents: int
    url: str | None = None  # where the shopper can open or download it, if the shop has one


@dataclass(frozen=True)
class Refund:
    amount_cents: int
    status: RefundStatus
    method: str
    created_at: datetime
    processed_at: datetime | None = None
    return_number: str | None = None  # None: the refund of a cancellation


@dataclass(frozen=True)
class ReturnRequest:
    number: str
    line_id: str
    qty: int
    status: ReturnStatus
    created_at: datetime | None = None


@dataclass(frozen=True)
class Order:
    """Everything ShopDesk tells or decides about one order.

    `email` is the customer's address, compared (never shown) to prove the order is theirs and
    used for the notice of a change. `shop_status` is the platform's own word for the state,
    for agents and logs; `status` is ShopDesk's, which the bot's answers are written for.
    """

    number: str
    email: str
    status: OrderStatus
    currency: str
    total_cents: int
    lines: tuple[OrderLine, ...]
    placed_at: datetime | None = None
    customer_name: str = ""
    shop_status: str = ""
    shipments: tuple[Shipment, ...] = ()
    invoices: tuple[Invoice, ...] = ()
    refunds: tuple[Refund, ...] = ()
    returns: tuple[ReturnRequest, ...] = ()
    shipping_address: Address | None = None
    cancellation_fee_cents: int = 0
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)


@dataclass(frozen=True)
class Cancellation:
    """What cancelling did: the fee kept and the refund started (None: nothing was paid)."""

    order: Order
    fee_cents: int
    refund: Refund | None


def same_email(stored: str, typed: str) -> bool:
    """Case- and space-insensitive, in constant time, so the comparison's time tells nothing
    (bytes: compare_digest wants ASCII str). Every connector's `find_order` uses this.

    An order stored without an e-mail (a guest or point-of-sale order) matches nothing, not
    even an empty answer: the comparison still runs, so its time does not tell that either."""
    wanted = stored.strip().lower()
    matches = hmac.compare_digest(wanted.encode("utf-8"), typed.strip().lower().encode("utf-8"))
    return matches and bool(wanted)


def latest_shipment(order: Order) -> Shipment | None:
    dated = [s for s in order.shipments if s.shipped_at is not None]
    if dated:
        return max(dated, key=lambda s: s.shipped_at or datetime.min)
    return order.shipments[-1] if order.shipments else None


def can_cancel(order: Order) -> bool:
    """Only until the parcel is handed to a carrier (and the address can change exactly as long)."""
    return order.status in NOT_SHIPPED and not any(
        s.shipped_at or s.tracking_number for s in order.shipments
    )


def delivered_on(order: Order) -> date | None:
    if order.status == OrderStatus.CANCELLED:
        return None
    days = [s.delivered_at.date() for s in order.shipments if s.delivered_at is not None]
    return max(days) if days else None


def return_deadline(order: Order, window_days: int) -> date | None:
    """The last day a return may be asked for (inclusive); None before delivery."""
    delivered = delivered_on(order)
    return delivered + timedelta(days=window_days) if delivered else None


def returned_qty(order: Order, line: OrderLine) -> int:
    return sum(
        r.qty
        for r in order.returns
        if r.line_id == line.line_id and r.status != ReturnStatus.REJECTED
    )


def returnable_lines(order: Order, today: date, window_days: int) -> list[OrderLine]:
    """Lines of a delivered order, within the window, not already returned in full."""
    deadline = return_deadline(order, window_days)
    if deadline is None or today > deadline:
        return []
    return [line for line in order.lines if returned_qty(order, line) < line.qty]
