"""Order tasks after verification: track, refund status, invoice, cancel, change address.

Each task is a form (bot/domain.yml) whose validation is an `OrderFormValidation`: it proves
the order number and e-mail first, then asks what the task needs. The submit action runs on
the verified order only (`OrderTaskAction`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import UTC, date, datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.catalog_access import catalog_failure, catalog_session
from actions.change_notices import notify_change
from actions.forms import free_text
from actions.shop_answers import money
from actions.verification import (
    LOCKED_TEXT,
    MAX_FAILURES,
    OrderFormValidation,
    failures,
    verified_order,
)
from catalog import addresses, outbox
from catalog.customer_service import (
    NotAllowed,
    can_cancel,
    cancel_order,
    change_shipping_address,
    refund_status,
    tracking,
)
from catalog.models import Order
from catalog.policies import policies

log = logging.getLogger(__name__)

YES_NO_BUTTONS = [
    {"title": "Yes", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
]
STATUS_TEXT = {
    "pending": "has been received and is waiting for payment",
    "processing": "has been paid and is being prepared; it has not shipped yet",
    "shipped": "has shipped and is on its way",
    "delivered": "has been delivered",
    "cancelled": "was cancelled",
    "returned": "was returned to us; the refund is being processed",
    "refunded": "was returned and refunded",
}


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def today() -> date:
    return now().date()


def day(value: date | datetime | None) -> str:
    return value.strftime("%B %-d, %Y") if value else ""


def items_text(order: Order) -> str:
    return ", ".join(f"{line.qty} × {line.name}" for line in order.lines)


def describe(order: Order) -> str:
    """Status, items, and for a shipped order the carrier, tracking number and ETA."""
    status = STATUS_TEXT.get(order.status, f"has the status “{order.status}”")
    text = f"Your order {order.number} {status}. It contains {items_text(order)}."
    info = tracking(order)
    if info.carrier and info.tracking_number and order.status == "shipped":
        text += f" It travels with {info.carrier}, tracking number {info.tracking_number}"
        text += f" ({info.tracking_url})" if info.tracking_url else ""
        text += f"; expected delivery: {day(info.eta)}." if info.eta else "."
    elif info.delivered_at:
        text += f" It was delivered on {day(info.delivered_at)}."
    return text


class OrderTaskAction(Action, ABC):
    """The submit of an order form: runs `act` on the verified order, or says why not."""

    @abstractmethod
    def act(
        self, session: Session, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        """Do the task on the verified order; return the events."""

    def done(self) -> list[dict[str, Any]]:
        """Slots of this task to clear, so the next time the form asks again."""
        return []

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            with catalog_session() as session:
                order = verified_order(session, tracker)
                if order is not None:
                    return [*self.act(session, order, dispatcher, tracker), *self.done()]
        except SQLAlchemyError:
            return catalog_failure(dispatcher)
        if failures(tracker) >= MAX_FAILURES:
            dispatcher.utter_message(text=LOCKED_TEXT)
            return [*self.done(), FollowupAction("action_offer_human")]
        dispatcher.utter_message(
            text="I need the order number and the e-mail address it was placed with first."
        )
        return self.done()


class ValidateTrackOrderForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_track_order_form"


class ValidateTrackRefundForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_track_refund_form"


class ValidateInvoiceForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_invoice_form"


class ActionOrderStatus(OrderTaskAction):
    def name(self) -> str:
        return "action_order_status"

    def act(
        self, session: Session, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=describe(order))
        return []


class ActionRefundStatus(OrderTaskAction):
    def name(self) -> str:
        return "action_refund_status"

    def act(
        self, session: Session, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        refunds = refund_status(order)
        if not refunds:
            dispatcher.utter_message(
                text=f"There is no refund on order {order.number}. A refund starts when a "
                "return reaches us or an order is cancelled; I can start a return if you like."
            )
            return []
        lines = []
        for refund in refunds:
            if refund.status == "processed":
                lines.append(
                    f"{money(refund.amount_cents)} was refunded to your {refund.method} on "
                    f"{day(refund.processed_at)}."
                )
            else:
                lines.append(
                    f"A refund of {money(refund.amount_cents)} to your {refund.method} is being "
                    f"processed (started {day(refund.created_at)}); allow "
                    f"{policies().returns.processing_days}."
                )
        dispatcher.utter_message(text=f"Order {order.number}: " + " ".join(lines))
        return []


class ActionInvoice(OrderTaskAction):
    def name(self) -> str:
        return "action_invoice"

    def act(
        self, session: Session, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if not order.invoices:
            dispatcher.utter_message(
                text=f"Order {order.number} has no invoice yet: it is issued when the order is "
                "paid."
            )
            return []
        invoices = "; ".join(
            f"{inv.number} of {day(inv.issued_at)} for {money(inv.amount_cents)}"
            for inv in order.invoices
        )
        dispatcher.utter_message(
            text=f"Order {order.number} has the invoice {invoices}. You can download it as a "
            f"PDF from your orders page: {policies().page('orders')}."
        )
        return []


class ValidateCancelOrderForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_cancel_order_form"

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        return ["cancel_confirmed"] if can_cancel(order) else []


class ActionAskCancelConfirmed(Action):
    def name(self) -> str:
        return "action_ask_cancel_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            with catalog_session() as session:
                order = verified_order(session, tracker)
                summary = (
                    f"order {order.number} ({items_text(order)}, {money(order.total_cents)})"
                    if order
                    else "this order"
                )
        except SQLAlchemyError:
            return catalog_failure(dispatcher)
        fee = policies().cancellation_fee_cents
        cost = "free" if fee == 0 else f"subject to a fee of {money(fee)}"
        dispatcher.utter_message(
            text=f"It hasn't shipped yet, so cancelling is {cost}. Shall I cancel {summary}?",
            buttons=YES_NO_BUTTONS,
        )
        return []


class ActionCancelOrder(OrderTaskAction):
    def name(self) -> str:
        return "action_cancel_order"

    def done(self) -> list[dict[str, Any]]:
        return [SlotSet("cancel_confirmed", None)]

    def act(
        self, session: Session, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if not can_cancel(order):
            dispatcher.utter_message(text=cannot_change_text(order, "cancelled"))
            return []
        if tracker.get_slot("cancel_confirmed") is not True:
            dispatcher.utter_message(text=f"OK, I've left order {order.number} as it is.")
            return []
        try:
            result = cancel_order(
                session, order, now(), fee_cents=policies().cancellation_fee_cents
            )
        except NotAllowed as refusal:
            dispatcher.utter_message(text=str(refusal))
            return []
        notify_change(
            session, order, tracker, outbox.ORDER_CANCELLED, "cancelled",
            f"Your order {order.number} ({items_text(order)}) was cancelled in our chat.",
        )  # fmt: skip
        refund = (
            f" A refund of {money(result.refund.amount_cents)} goes back to your "
            f"{result.refund.method} within {policies().returns.processing_days}."
            if result.refund and result.refund.amount_cents
            else ""
        )
        dispatcher.utter_message(text=f"Done: order {order.number} is cancelled.{refund}")
        return []


def cannot_change_text(order: Order, change: str) -> str:
    """Why an order can't be cancelled or changed any more, and what the shopper can do."""
    if order.status in ("shipped", "delivered"):
        moved = "shipped" if order.status == "shipped" else "been delivered"
        return (
            f"Order {order.number} has already {moved}, so it can't be {change} any more. Once "
            f"it arrives you can return it within {policies().returns.window_days} days; say "
            '"I want to return an item".'
        )
    status = STATUS_TEXT.get(order.status, f"has the status {order.status}")
    return f"Order {order.number} {status}, so it can't be {change}."


class ValidateChangeAddressForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_change_address_form"

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        if not can_cancel(order):  # the address can change exactly while it could be cancelled
            return []
        return ["street", "city", "region", "postcode", "address_confirmed"]

    def _field(
        self, slot: str, check: addresses.FieldCheck, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if check.value is None:
            dispatcher.utter_message(text=check.problem or f"That doesn't look like a {slot}.")
        return {slot: check.value}

    def extract_street(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, "street", frozenset({"change_shipping_address"}))
        if text and (whole := addresses.split_one_line(text)):
            return dict(whole)  # the whole address at once: each field is still checked
        return {"street": text} if text else {}

    def extract_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, "city")
        return {"city": text} if text else {}

    def extract_region(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, "region")
        return {"region": text} if text else {}

    def extract_postcode(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, "postcode")
        return {"postcode": text} if text else {}

    def validate_street(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._field("street", addresses.validate_street(str(value)), dispatcher)

    def validate_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._field("city", addresses.validate_city(str(value)), dispatcher)

    def validate_region(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._field("region", addresses.validate_region(str(value)), dispatcher)

    def validate_postcode(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._field("postcode", addresses.validate_postcode(str(value)), dispatcher)


def new_address(tracker: Tracker, name: str) -> addresses.Address:
    return addresses.Address(
        name=name,
        street=str(tracker.get_slot("street")),
        city=str(tracker.get_slot("city")),
        region=str(tracker.get_slot("region")),
        postcode=str(tracker.get_slot("postcode")),
    )


def address_text(address: addresses.Address) -> str:
    return f"{address.street}, {address.city}, {address.region} {address.postcode}"


class ActionAskAddressConfirmed(Action):
    def name(self) -> str:
        return "action_ask_address_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        address = new_address(tracker, "")
        dispatcher.utter_message(
            text=f"Shall I change the shipping address of order "
            f"{tracker.get_slot('verified_order_number')} to {address_text(address)}?",
            buttons=YES_NO_BUTTONS,
        )
        return []


class ActionChangeAddress(OrderTaskAction):
    def name(self) -> str:
        return "action_change_address"

    def done(self) -> list[dict[str, Any]]:
        return [
            SlotSet(slot, None)
            for slot in ("street", "city", "region", "postcode", "address_confirmed")
        ]

    def act(
        self, session: Session, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if not can_cancel(order):
            dispatcher.utter_message(text=cannot_change_text(order, "changed"))
            return []
        if tracker.get_slot("address_confirmed") is not True:
            dispatcher.utter_message(text=f"OK, order {order.number} keeps its shipping address.")
            return []
        address = new_address(tracker, order.ship_name or "")
        try:
            change_shipping_address(session, order, address, now())
        except NotAllowed as refusal:
            dispatcher.utter_message(text=str(refusal))
            return []
        notify_change(
            session, order, tracker, outbox.ADDRESS_CHANGED, "new shipping address",
            f"Your order {order.number} will now be shipped to {address_text(address)}.",
        )  # fmt: skip
        dispatcher.utter_message(
            text=f"Done: order {order.number} will be shipped to {address_text(address)}."
        )
        return []
