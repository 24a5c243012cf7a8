"""Where is my order: the status of an order by its number."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import UNAVAILABLE_TEXT, catalog_session
from catalog.models import Order
from catalog.orders import find_order, normalise_order_number

log = logging.getLogger(__name__)

ASK_NUMBER_TEXT = (
    "I can check that for you. What is your order number? It is in your order confirmation "
    "e-mail, for example 000000001."
)
STATUS_TEXT = {
    "pending": "has been received and is waiting for payment",
    "processing": "has been paid and is being prepared; it has not shipped yet",
    "shipped": "has shipped and is on its way",
    "delivered": "has been delivered",
    "cancelled": "was cancelled",
    "refunded": "was refunded",
}


def order_number_from(tracker: Tracker) -> str | None:
    """The number the shopper just typed, else the one remembered in the slot."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "order_number":
            return str(entity.get("value"))
    slot = tracker.get_slot("order_number")
    return str(slot) if slot else None


def describe(order: Order) -> str:
    status = STATUS_TEXT.get(order.status, f"has the status “{order.status}”")
    items = ", ".join(f"{line.qty} × {line.name}" for line in order.lines)
    return f"Your order {order.number} {status}. It contains {items}."


class ActionOrderStatus(Action):
    def name(self) -> str:
        return "action_order_status"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        typed = order_number_from(tracker)
        number = normalise_order_number(typed) if typed else None
        if number is None:
            dispatcher.utter_message(text=ASK_NUMBER_TEXT)
            return []
        try:
            with catalog_session() as session:
                order = find_order(session, number)
                reply = describe(order) if order else None
        except SQLAlchemyError:
            log.exception("order lookup failed")
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
            return []
        if reply is None:
            dispatcher.utter_message(
                text=f"I couldn't find an order with the number {number}. Please check the "
                "number in your order confirmation e-mail."
            )
            return [SlotSet("order_number", None)]
        dispatcher.utter_message(text=reply)
        return [SlotSet("order_number", number)]
