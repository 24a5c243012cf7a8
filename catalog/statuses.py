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

# The order's own states are every connector's (connectors/statuses.py); the order tables
# store them as they are.
from connectors.statuses import NOT_SHIPPED, OrderStatus, RefundStatus, ReturnStatus, ShipmentStatus

__all__ = [
    "NOT_SHIPPED",
    "OPEN_HANDOFF",
    "ComplaintStatus",
    "ErasureStatus",
    "HandoffStatus",
    "InboxStatus",
    "OrderStatus",
    "RefundStatus",
    "ReturnStatus",
    "ReviewStatus",
    "ShipmentStatus",
    "SupportMessageStatus",
]  # fmt: skip


class ReviewStatus(StrEnum):
    """`reviews.status`: only approved reviews are quoted and counted in ratings."""

    APPROVED = "approved"
    PENDING = "pending"  # written in the chat, waiting for a moderator
    REJECTED = "rejected"  # a moderator turned it down (console); kept, never shown


class InboxStatus(StrEnum):
    """Where an agent is with an item of the console's inbox (catalog/inbox.py): a message
    left for the team, a complaint, a return request. One vocabulary for the three, so the
    console filters and counts them alike; the per-table enums below take its values."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class ComplaintStatus(StrEnum):
    """`complaints.status`: the inbox's statuses (migration 0009 renamed "open" to "new")."""

    NEW = InboxStatus.NEW.value
    IN_PROGRESS = InboxStatus.IN_PROGRESS.value
    DONE = InboxStatus.DONE.value
    OPEN = NEW  # the name before 0009: a complaint just taken is new


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
    """`support_messages.status`: the inbox's statuses."""

    NEW = InboxStatus.NEW.value
    IN_PROGRESS = InboxStatus.IN_PROGRESS.value
    DONE = InboxStatus.DONE.value


class ErasureStatus(StrEnum):
    """`erasure_requests.status`."""

    PENDING = "pending"
    DONE = "done"
