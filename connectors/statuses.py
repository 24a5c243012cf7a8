"""The states an order, its parcels, returns and refunds move through, whatever the shop runs.

These are ShopDesk's words for them: the built-in order book stores them as they are
(catalog.models), and each remote connector maps its platform's own states onto them (Oscar's
status names, Shopify's fulfillment and financial states, Magento's order states), keeping the
platform's word beside it for the agent (`Order.shop_status`). A `StrEnum` member compares and
serialises as its plain string, so a row read back as "shipped" equals `OrderStatus.SHIPPED`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class OrderStatus(StrEnum):
    """`orders.status` (catalog.models.Order), and every connector's order."""

    PENDING = "pending"  # awaiting payment
    PROCESSING = "processing"  # paid, not shipped
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    RETURNED = "returned"  # a return received, its refund pending
    REFUNDED = "refunded"


# Paid or not, but not handed to a carrier: the order can still be cancelled or redirected.
NOT_SHIPPED: Final = frozenset({OrderStatus.PENDING, OrderStatus.PROCESSING})


class ShipmentStatus(StrEnum):
    """`shipments.status`."""

    LABEL_CREATED = "label_created"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"


class ReturnStatus(StrEnum):
    """`returns.status`."""

    REQUESTED = "requested"
    RECEIVED = "received"
    REFUNDED = "refunded"
    REJECTED = "rejected"


class RefundStatus(StrEnum):
    """`refunds.status`."""

    PENDING = "pending"
    PROCESSED = "processed"
