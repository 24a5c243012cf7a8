"""The statuses the shop's records move through, one `StrEnum` per table's `status` column.

The values are what the database stores (and what the migrations, the order book, exports and
the console's JSON carry), so a member compares and serialises as its plain string:
`order.status == OrderStatus.SHIPPED` holds for a row read back as "shipped". A typo is a
NameError at import time instead of a comparison that is silently never true. catalog is below
every other package, so the bot, the web server, analytics and the benchmarks all import these.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class OrderStatus(StrEnum):
    """`orders.status` (catalog.models.Order)."""

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


class ReviewStatus(StrEnum):
    """`reviews.status`: only approved reviews are quoted and counted in ratings."""

    APPROVED = "approved"
    PENDING = "pending"  # written in the chat, waiting for a moderator


class ComplaintStatus(StrEnum):
    """`complaints.status`."""

    OPEN = "open"


class HandoffStatus(StrEnum):
    """`handoffs.status`, also the `handoff_status` slot's "waiting" while a shopper waits."""

    WAITING = "waiting"
    TAKEN = "taken"  # by `agent_id`
    HANDED_BACK = "handed_back"  # the bot resumes
    CLOSED = "closed"
    TIMED_OUT = "timed_out"  # no agent took it in time


# Waiting and taken handoffs are open; the others are history, and a new request starts anew.
OPEN_HANDOFF: Final = (HandoffStatus.WAITING, HandoffStatus.TAKEN)


class SupportMessageStatus(StrEnum):
    """`support_messages.status`."""

    NEW = "new"


class ErasureStatus(StrEnum):
    """`erasure_requests.status`."""

    PENDING = "pending"
    DONE = "done"
