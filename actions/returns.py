"""Returns: a verified, delivered order within the return window; the item, the reason, a
return number and the instructions. A connected shop whose system cannot start a return
(connectors/protocol.py `Capability.START_RETURN`) gets a person offered instead."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action as RasaAction
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import (
    apologise_if_catalog_down,
    catalog_failure,
    order_system_failure,
)
from actions.choices import match_choice
from actions.contract import Action, Intent, Slot
from actions.forms import free_text, is_asked, latest_text
from actions.orders import OrderTaskAction, day, now, person_instead, supports, today
from actions.search_state import ordinals
from actions.verification import OrderFormValidation, verified_order
from catalog.order_system import order_system
from catalog.policies import policies
from connectors.errors import ConnectorError, NotAllowed, ShopError, ShopUnavailable, Unsupported
from connectors.orders import Order, OrderLine, return_deadline, returnable_lines
from connectors.protocol import Capability
from connectors.statuses import NOT_SHIPPED, OrderStatus


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
        order = verified_order(tracker)
    except (SQLAlchemyError, ConnectorError):
        return False
    lines = returnable(order) if order else []
    return chosen_line(latest_text(tracker), ordinals(tracker), lines) is not None


class ValidateReturnForm(OrderFormValidation):
    def name(self) -> str:
        return Action.VALIDATE_RETURN_FORM

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        if not (returnable(order) and supports(Capability.START_RETURN)):
            return []  # the submit says why, or offers a person
        return [Slot.RETURN_ITEM, Slot.RETURN_REASON]

    def extract_return_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not is_asked(tracker, Slot.RETURN_ITEM):
            return {}
        text = free_text(tracker, Slot.RETURN_ITEM) or ""
        if not text and names_a_line(tracker):
            text = latest_text(tracker)
        if not text and not ordinals(tracker):
            return {}
        return {Slot.RETURN_ITEM: text or str(ordinals(tracker)[0])}

    def validate_return_item(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            order = verified_order(tracker)
        except SQLAlchemyError:
            catalog_failure(dispatcher)
            return {Slot.RETURN_ITEM: None}
        except (ShopUnavailable, ShopError) as error:
            order_system_failure(dispatcher, error)
            return {Slot.RETURN_ITEM: None}
        lines = returnable(order) if order else []
        line = chosen_line(str(value), ordinals(tracker), lines)
        if line is not None:
            return {Slot.RETURN_ITEM: line.line_id}
        dispatcher.utter_message(response="utter_return_item_unclear")
        return {Slot.RETURN_ITEM: None}

    def extract_return_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(
            tracker, Slot.RETURN_REASON, frozenset({Intent.GET_REFUND}), narrative=True
        )
        if not text:
            return {}
        reasons = policies().returns.reasons
        listed = match_choice(text, reasons) if is_asked(tracker, Slot.RETURN_REASON) else None
        return {Slot.RETURN_REASON: (reasons[listed] if listed is not None else text)[:255]}


class ActionAskReturnItem(RasaAction):
    def name(self) -> str:
        return Action.ACTION_ASK_RETURN_ITEM

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order = verified_order(tracker)
        lines = returnable(order) if order else []
        deadline = return_deadline(order, policies().returns.window_days) if order else None
        listed = "\n".join(f"{n}. {line.name}" for n, line in enumerate(lines, 1))
        buttons = [{"title": line.name, "payload": line.name} for line in lines]
        if deadline:
            dispatcher.utter_message(
                response="utter_which_return_item_until",
                deadline=day(deadline),
                listed=listed,
                buttons=buttons,
            )
        else:
            dispatcher.utter_message(
                response="utter_which_return_item", listed=listed, buttons=buttons
            )
        return []


class ActionAskReturnReason(RasaAction):
    def name(self) -> str:
        return Action.ACTION_ASK_RETURN_REASON

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reasons = policies().returns.reasons
        dispatcher.utter_message(
            response="utter_why_return",
            buttons=[{"title": reason, "payload": reason} for reason in reasons],
        )
        return []


class ActionSubmitReturn(OrderTaskAction):
    def name(self) -> str:
        return Action.ACTION_SUBMIT_RETURN

    def done(self) -> list[dict[str, Any]]:
        return [SlotSet(Slot.RETURN_ITEM, None), SlotSet(Slot.RETURN_REASON, None)]

    def act(
        self, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        rules = policies().returns
        lines = {line.line_id: line for line in returnable(order)}
        if lines and not supports(Capability.START_RETURN):
            return person_instead(Capability.START_RETURN, order, dispatcher)
        line = lines.get(str(tracker.get_slot(Slot.RETURN_ITEM)))
        if line is None:
            self.not_returnable(order, dispatcher)
            return []
        try:
            created = order_system().start_return(
                order,
                line.line_id,
                str(tracker.get_slot(Slot.RETURN_REASON) or ""),
                now=now(),
                window_days=rules.window_days,
            )
        except NotAllowed as refusal:
            dispatcher.utter_message(response="utter_refusal", reason=refusal.reason)
            return []
        except Unsupported:
            return person_instead(Capability.START_RETURN, order, dispatcher)
        dispatcher.utter_message(
            response="utter_return_registered",
            return_number=created.number,
            item=line.name,
            conditions=rules.conditions,
            processing_days=rules.processing_days,
            refund_to=rules.refund_to,
        )
        return []

    @staticmethod
    def not_returnable(order: Order, dispatcher: CollectingDispatcher) -> None:
        """Why nothing of the order can be returned in the chat."""
        if order.status in (*NOT_SHIPPED, OrderStatus.SHIPPED):
            dispatcher.utter_message(
                response="utter_return_not_delivered", order_number=order.number
            )
        elif order.status == OrderStatus.DELIVERED:
            dispatcher.utter_message(
                response="utter_return_window_passed",
                order_number=order.number,
                window_days=policies().returns.window_days,
            )
        else:
            dispatcher.utter_message(
                response="utter_return_not_possible", order_number=order.number, status=order.status
            )
