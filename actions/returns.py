"""Returns: a verified, delivered order within the return window; the item, the reason, a
return number and the instructions."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.catalog_access import catalog_failure, catalog_session
from actions.choices import match_choice
from actions.forms import free_text, is_asked, latest_text
from actions.orders import OrderTaskAction, day, now, today
from actions.search_state import ordinals
from actions.verification import OrderFormValidation, verified_order
from catalog.customer_service import NotAllowed, create_return, return_deadline, returnable_lines
from catalog.models import Order, OrderLine
from catalog.policies import policies


def returnable(order: Order) -> list[OrderLine]:
    return returnable_lines(order, today(), policies().returns.window_days)


def chosen_line(text: str, positions: list[int], lines: list[OrderLine]) -> OrderLine | None:
    """The line the shopper means: "2", "the second one", its name, or a clear part of it."""
    if len(lines) == 1 and not text.strip():
        return lines[0]
    index = match_choice(text, [line.name for line in lines], positions)
    return lines[index] if index is not None else None


def names_a_line(tracker: Tracker) -> bool:
    """Whether the message picks one of the listed items, whatever the classifier read: an
    item's name ("Quest Lumaflex Band") can read as a product search."""
    try:
        with catalog_session() as session:
            order = verified_order(session, tracker)
            lines = returnable(order) if order else []
            return chosen_line(latest_text(tracker), ordinals(tracker), lines) is not None
    except SQLAlchemyError:
        return False


class ValidateReturnForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_return_form"

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        return ["return_item", "return_reason"] if returnable(order) else []

    def extract_return_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not is_asked(tracker, "return_item"):
            return {}
        text = free_text(tracker, "return_item") or ""
        if not text and names_a_line(tracker):
            text = latest_text(tracker)
        if not text and not ordinals(tracker):
            return {}
        return {"return_item": text or str(ordinals(tracker)[0])}

    def validate_return_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            with catalog_session() as session:
                order = verified_order(session, tracker)
                lines = returnable(order) if order else []
                line = chosen_line(str(value), ordinals(tracker), lines)
                if line is not None:
                    return {"return_item": str(line.id)}
        except SQLAlchemyError:
            catalog_failure(dispatcher)
            return {"return_item": None}
        dispatcher.utter_message(
            text="Sorry, I couldn't tell which item you mean. Please answer with its number in "
            "the list or its name."
        )
        return {"return_item": None}

    def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, "return_reason", frozenset({"get_refund"}), narrative=True)
        if not text:
            return {}
        reasons = policies().returns.reasons
        listed = match_choice(text, reasons) if is_asked(tracker, "return_reason") else None
        return {"return_reason": (reasons[listed] if listed is not None else text)[:255]}


class ActionAskReturnItem(Action):
    def name(self) -> str:
        return "action_ask_return_item"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            with catalog_session() as session:
                order = verified_order(session, tracker)
                lines = returnable(order) if order else []
                deadline = return_deadline(order, policies().returns.window_days) if order else None
                listed = "\n".join(f"{n}. {line.name}" for n, line in enumerate(lines, 1))
                buttons = [{"title": line.name, "payload": line.name} for line in lines]
        except SQLAlchemyError:
            return catalog_failure(dispatcher)
        until = f" (returns are open until {day(deadline)})" if deadline else ""
        dispatcher.utter_message(
            text=f"Which item would you like to return{until}?\n{listed}", buttons=buttons
        )
        return []


class ActionAskReturnReason(Action):
    def name(self) -> str:
        return "action_ask_return_reason"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reasons = policies().returns.reasons
        dispatcher.utter_message(
            text="Why are you returning it? Choose a reason or tell me in your own words.",
            buttons=[{"title": reason, "payload": reason} for reason in reasons],
        )
        return []


class ActionSubmitReturn(OrderTaskAction):
    def name(self) -> str:
        return "action_submit_return"

    def done(self) -> list[dict[str, Any]]:
        return [SlotSet("return_item", None), SlotSet("return_reason", None)]

    def act(
        self, session: Session, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        rules = policies().returns
        lines = {str(line.id): line for line in returnable(order)}
        line = lines.get(str(tracker.get_slot("return_item")))
        if line is None:
            dispatcher.utter_message(text=self.not_returnable_text(order))
            return []
        try:
            created = create_return(
                session,
                order,
                line,
                str(tracker.get_slot("return_reason") or ""),
                now(),
                rules.window_days,
            )
        except NotAllowed as refusal:
            dispatcher.utter_message(text=str(refusal))
            return []
        dispatcher.utter_message(
            text=f"Your return {created.number} for {line.name} is registered. Write "
            f"{created.number} and the reason on the back of the packing slip, put the item "
            f"({rules.conditions}) in its package with the slip, and send it with the return "
            "label from the front of the packing slip. Once it reaches us, allow "
            f"{rules.processing_days}; the refund goes to {rules.refund_to}."
        )
        return []

    @staticmethod
    def not_returnable_text(order: Order) -> str:
        window = policies().returns.window_days
        if order.status in ("processing", "pending", "shipped"):
            return (
                f"Order {order.number} hasn't been delivered yet, so it can't be returned yet. "
                "If you no longer want it and it hasn't shipped, I can cancel it instead."
            )
        if order.status == "delivered":
            return (
                f"Order {order.number} was delivered more than {window} days ago, or all its "
                "items are already being returned, so it can't be returned in this chat. If "
                "an item is defective, our support team can still help."
            )
        return f"Order {order.number} has the status {order.status}, so it can't be returned."
