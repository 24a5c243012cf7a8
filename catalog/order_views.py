"""ShopDesk's own order rows as the connector-neutral order every action reads.

The built-in order book is one connector among several (connectors/protocol.py): the actions
never see `catalog.models.Order`, only `connectors.orders.Order`. This module is the one place
that turns a row, with its parcels, invoices, refunds and returns, into that value.
"""

from __future__ import annotations

from datetime import datetime

from catalog.models import Order as OrderRow
from catalog.models import Shipment as ShipmentRow
from catalog.orders import tracking_url
from connectors import orders
from connectors.orders import DEFAULT_COUNTRY, Address
from connectors.statuses import OrderStatus, RefundStatus, ReturnStatus


def shipping_address(row: OrderRow) -> Address | None:
    """The address the order ships to; None for an order stored without one."""
    if not (row.ship_street and row.ship_city and row.ship_region and row.ship_postcode):
        return None
    return Address(
        name=row.ship_name or "",
        street=row.ship_street,
        city=row.ship_city,
        region=row.ship_region,
        postcode=row.ship_postcode,
        country=row.ship_country or DEFAULT_COUNTRY,
    )


def _shipment(row: ShipmentRow) -> orders.Shipment:
    number = row.tracking_number
    return orders.Shipment(
        carrier=row.carrier,
        tracking_number=number,
        tracking_url=tracking_url(row.carrier, number) if row.carrier and number else None,
        eta=row.eta,
        shipped_at=row.shipped_at,
        delivered_at=row.delivered_at,
    )


def order_view(row: OrderRow) -> orders.Order:
    """The order as every connector gives it (load it with catalog.orders.ORDER_WITH_DETAILS)."""
    shipments = sorted(row.shipments, key=lambda s: (s.shipped_at or datetime.min, s.id))
    return orders.Order(
        number=row.number,
        email=row.customer.email or "",
        status=OrderStatus(row.status),
        currency=row.currency,
        total_cents=row.total_cents,
        lines=tuple(
            orders.OrderLine(str(line.id), line.name, line.qty, line.sku, line.price_cents)
            for line in row.lines
        ),
        placed_at=row.created_at,
        customer_name=" ".join(
            part for part in (row.customer.first_name, row.customer.last_name) if part
        ),
        shop_status=row.status,
        shipments=tuple(_shipment(s) for s in shipments),
        invoices=tuple(
            orders.Invoice(i.number, i.issued_at, i.amount_cents)
            for i in sorted(row.invoices, key=lambda i: (i.issued_at, i.id))
        ),
        refunds=tuple(
            orders.Refund(
                amount_cents=r.amount_cents,
                status=RefundStatus(r.status),
                method=r.method,
                created_at=r.created_at,
                processed_at=r.processed_at,
                return_number=r.return_.number if r.return_ else None,
            )
            for r in sorted(row.refunds, key=lambda r: (r.created_at, r.id))
        ),
        returns=tuple(
            orders.ReturnRequest(
                r.number, str(r.order_line_id), r.qty, ReturnStatus(r.status), r.created_at
            )
            for r in row.returns
        ),
        shipping_address=shipping_address(row),
        cancellation_fee_cents=row.cancellation_fee_cents,
    )
