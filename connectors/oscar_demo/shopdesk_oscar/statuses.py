"""The demo shop's order statuses: ShopDesk's states under the names an Oscar shop uses.

Oscar leaves order statuses to the shop (OSCAR_ORDER_STATUS_PIPELINE); these are the ones this
demo shop uses, with the transitions staff (and the API) may make. An order can be cancelled
until it ships, as ShopDesk's own order book allows; after delivery it can be returned, then
refunded. ShopDesk's Oscar connector maps these names back onto its own states.
"""

from __future__ import annotations

from typing import Final

PENDING: Final = "Pending"  # awaiting payment
BEING_PROCESSED: Final = "Being processed"  # paid, not shipped
SHIPPED: Final = "Shipped"
DELIVERED: Final = "Delivered"
CANCELLED: Final = "Cancelled"
RETURNED: Final = "Returned"  # a return received, its refund pending
REFUNDED: Final = "Refunded"

# ShopDesk's state (connectors.statuses.OrderStatus's value) -> this shop's status name.
FROM_SHOPDESK: Final = {
    "pending": PENDING,
    "processing": BEING_PROCESSED,
    "shipped": SHIPPED,
    "delivered": DELIVERED,
    "cancelled": CANCELLED,
    "returned": RETURNED,
    "refunded": REFUNDED,
}

ORDER_STATUS_PIPELINE: Final = {
    PENDING: (BEING_PROCESSED, CANCELLED),
    BEING_PROCESSED: (SHIPPED, CANCELLED),
    SHIPPED: (DELIVERED, RETURNED),
    DELIVERED: (RETURNED, REFUNDED),
    RETURNED: (REFUNDED,),
    CANCELLED: (),
    REFUNDED: (),
}

# Lines follow their order into these states (OSCAR_ORDER_STATUS_CASCADE).
ORDER_STATUS_CASCADE: Final = {
    CANCELLED: CANCELLED,
    SHIPPED: SHIPPED,
    DELIVERED: DELIVERED,
}
LINE_STATUS_PIPELINE: Final = ORDER_STATUS_PIPELINE

# Where the parcel has not left yet, so the shipping address may still change.
NOT_SHIPPED: Final = frozenset({PENDING, BEING_PROCESSED})

# Shipping event types (oscar's order.ShippingEventType), and the keys of their notes.
EVENT_SHIPPED: Final = "Shipped"
EVENT_DELIVERED: Final = "Delivered"
NOTE_CARRIER: Final = "carrier"
NOTE_TRACKING_NUMBER: Final = "tracking_number"
NOTE_TRACKING_URL: Final = "tracking_url"
NOTE_ETA: Final = "eta"
NOTE_SEPARATOR: Final = "; "
