"""What every change made through the bot leaves behind: an audit row and an e-mail to the
order's own address.

Cancelling, changing the shipping address and asking for erasure are done after the order
number and e-mail matched, and that proof can be stolen. So the customer hears of each change
at the address on the order (the outbox the shop's mailer sends), and the audit log says
which conversation did what, for the shop to follow up.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from actions.catalog_access import catalog_session
from catalog import audit, outbox
from catalog.order_system import order_system
from catalog.policies import policies
from connectors.orders import Order

AUDIT_ACTIONS = {
    outbox.ORDER_CANCELLED: "bot_cancel_order",
    outbox.ADDRESS_CHANGED: "bot_change_address",
    outbox.ERASURE_REQUESTED: "bot_erasure_request",
}
SUBJECTS = {
    outbox.ORDER_CANCELLED: "Your order {number} was cancelled",
    outbox.ADDRESS_CHANGED: "The shipping address of your order {number} was changed",
    outbox.ERASURE_REQUESTED: "Deleting your {shop} account was requested",
}


def notify_change(order: Order, tracker: Tracker, kind: str, detail: str, what: str) -> None:
    """Audit the change and queue the notice, in one transaction of ShopDesk's database.

    The change itself was made by the order system (its own transaction, or the connected
    shop's API), so this runs after it succeeded: a change that failed leaves no notice, and
    the audit names the system that made it."""
    with catalog_session() as session:
        _record(session, order, tracker, kind, detail, what)


def _record(
    session: Session, order: Order, tracker: Tracker, kind: str, detail: str, what: str
) -> None:
    audit.record(
        session,
        AUDIT_ACTIONS[kind],
        conversation_id=str(tracker.sender_id),
        detail=f"order {order.number}; {detail}; in {order_system().name}",
    )
    shop = policies().name
    outbox.enqueue(
        session,
        order.email,
        kind,
        SUBJECTS[kind].format(number=order.number, shop=shop),
        f"{what}\nThis was done in the {shop} chat assistant. If it wasn't you, please "
        f"contact us right away: {policies().page('contact')}",
    )
