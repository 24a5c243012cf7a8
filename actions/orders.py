"""Order tasks after verification: track, refund status, invoice, cancel, change address.

Each task is a form (bot/domain.yml) whose validation is an `OrderFormValidation`: it proves
the order number and e-mail first, then asks what the task needs. The submit action runs on
the verified order only (`OrderTaskAction`), read from the connected order system
(catalog/order_system.py). A change the connected system cannot make (a capability it does not
declare) is not attempted: the bot says so and offers a person, who sees the order.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import date, datetime
from typing import Any, Final

from rasa_sdk import Action as RasaAction
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog_access import apologise_if_catalog_down
from actions.change_notices import notify_change
from actions.contract import Action, Intent, Slot
from actions.forms import free_text
from actions.verification import MAX_FAILURES, OrderFormValidation, failures, verified_order
from catalog import addresses, outbox
from catalog.order_system import order_system
from catalog.policies import policies
from connectors.errors import NotAllowed, Unsupported
from connectors.orders import Order, Shipment, can_cancel, latest_shipment
from connectors.protocol import Capability
from connectors.statuses import OrderStatus, RefundStatus
from core.clock import utc_now
from core.money import format_money

log = logging.getLogger(__name__)

YES_NO_BUTTONS = [
    {"title": "Yes", "payload": "/affirm"},
    {"title": "No", "payload": "/deny"},
]
# One response per order status (bot/domain.yml); a status without its own is told by name.
STATUS_RESPONSES: Final[dict[str, str]] = {
    OrderStatus.PENDING: "utter_order_status_pending",
    OrderStatus.PROCESSING: "utter_order_status_processing",
    OrderStatus.SHIPPED: "utter_order_status_shipped",
    OrderStatus.DELIVERED: "utter_order_status_delivered",
    OrderStatus.CANCELLED: "utter_order_status_cancelled",
    OrderStatus.RETURNED: "utter_order_status_returned",
    OrderStatus.REFUNDED: "utter_order_status_refunded",
}
OTHER_STATUS_RESPONSE: Final = "utter_order_status_other"
# ... and, for an order whose parcel arrived, with the day it did.
DELIVERED_RESPONSES: Final[dict[str, str]] = {
    OrderStatus.DELIVERED: "utter_order_status_delivered_on",
    OrderStatus.RETURNED: "utter_order_status_returned_on",
    OrderStatus.REFUNDED: "utter_order_status_refunded_on",
}
# Why an order can't be cancelled, or its address changed, any more: by status.
CANNOT_CANCEL: Final[dict[str, str]] = {
    OrderStatus.SHIPPED: "utter_cannot_cancel_shipped",
    OrderStatus.DELIVERED: "utter_cannot_cancel_delivered",
    OrderStatus.PENDING: "utter_cannot_cancel_pending",
    OrderStatus.PROCESSING: "utter_cannot_cancel_processing",
    OrderStatus.CANCELLED: "utter_cannot_cancel_cancelled",
    OrderStatus.RETURNED: "utter_cannot_cancel_returned",
    OrderStatus.REFUNDED: "utter_cannot_cancel_refunded",
}
CANNOT_CHANGE: Final[dict[str, str]] = {
    OrderStatus.SHIPPED: "utter_cannot_change_shipped",
    OrderStatus.DELIVERED: "utter_cannot_change_delivered",
    OrderStatus.PENDING: "utter_cannot_change_pending",
    OrderStatus.PROCESSING: "utter_cannot_change_processing",
    OrderStatus.CANCELLED: "utter_cannot_change_cancelled",
    OrderStatus.RETURNED: "utter_cannot_change_returned",
    OrderStatus.REFUNDED: "utter_cannot_change_refunded",
}
CANNOT_OTHER: Final = {"cancel": "utter_cannot_cancel_other", "change": "utter_cannot_change_other"}
# What the bot says when the connected shop's system cannot make a change through its API.
NOT_IN_CHAT: Final[dict[Capability, str]] = {
    Capability.CANCEL: "utter_cannot_cancel_in_chat",
    Capability.CHANGE_ADDRESS: "utter_cannot_change_address_in_chat",
    Capability.START_RETURN: "utter_cannot_return_in_chat",
}
# The handoff's reason when the shopper accepts the person offered for it (actions/handoff.py).
PERSON_FOR: Final[dict[Capability, str]] = {
    Capability.CANCEL: "cancel an order (the shop's system cannot do it in the chat)",
    Capability.CHANGE_ADDRESS: (
        "change an order's address (the shop's system cannot do it in the chat)"
    ),
    Capability.START_RETURN: "start a return (the shop's system cannot do it in the chat)",
}
ADDRESS_SLOTS: Final = (Slot.STREET, Slot.CITY, Slot.REGION, Slot.POSTCODE)
_NO_PARCEL: Final = Shipment(carrier=None, tracking_number=None)


def now() -> datetime:
    """The one clock (core.clock): aware UTC, to the second."""
    return utc_now()


def today() -> date:
    return now().date()


def day(value: date | datetime | None) -> str:
    return value.strftime("%B %-d, %Y") if value else ""


def items_text(order: Order) -> str:
    return ", ".join(f"{line.qty} × {line.name}" for line in order.lines)


def order_money(order: Order, cents: int) -> str:
    """An amount of this order, in the order's currency."""
    return format_money(cents, order.currency)


def supports(capability: Capability) -> bool:
    return capability in order_system().capabilities


def person_instead(
    capability: Capability, order: Order, dispatcher: CollectingDispatcher
) -> list[dict[str, Any]]:
    """The connected shop cannot make this change here: say so, and offer a person, with why
    (the handoff's reason) and the verified order (its slots) for the agent."""
    dispatcher.utter_message(response=NOT_IN_CHAT[capability], order_number=order.number)
    return [
        SlotSet(Slot.HANDOFF_REASON, f"{PERSON_FOR[capability]}: order {order.number}"),
        FollowupAction(Action.ACTION_OFFER_HUMAN),
    ]


def describe(order: Order, dispatcher: CollectingDispatcher) -> None:
    """Status, items, and for a shipped order the carrier, tracking number and ETA."""
    facts: dict[str, Any] = {"order_number": order.number, "items": items_text(order)}
    info = latest_shipment(order) or _NO_PARCEL
    response = STATUS_RESPONSES.get(order.status, OTHER_STATUS_RESPONSE)
    if response == OTHER_STATUS_RESPONSE:
        facts["status"] = order.status
    if info.tracking_number and order.status == OrderStatus.SHIPPED:
        link = f" ({info.tracking_url})" if info.tracking_url else ""
        facts |= {
            "carrier": info.carrier or "the carrier",
            "tracking": f"{info.tracking_number}{link}",
        }
        response = "utter_order_status_shipped_tracked"
        if info.eta:
            response, facts["eta"] = "utter_order_status_shipped_tracked_eta", day(info.eta)
    elif info.delivered_at and order.status in DELIVERED_RESPONSES:
        # (an arrival day on an order in another status is not told)
        response = DELIVERED_RESPONSES[order.status]
        facts["delivered_on"] = day(info.delivered_at)
    dispatcher.utter_message(response=response, **facts)


class OrderTaskAction(RasaAction, ABC):
    """The submit of an order form: runs `act` on the verified order, or says why not."""

    @abstractmethod
    def act(
        self, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        """Do the task on the verified order; return the events."""

    def done(self) -> list[dict[str, Any]]:
        """Slots of this task to clear, so the next time the form asks again."""
        return []

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        order = verified_order(tracker)
        if order is not None:
            return [*self.act(order, dispatcher, tracker), *self.done()]
        if failures(tracker) >= MAX_FAILURES:
            dispatcher.utter_message(response="utter_verification_locked")
            return [*self.done(), FollowupAction(Action.ACTION_OFFER_HUMAN)]
        dispatcher.utter_message(response="utter_order_verification_needed")
        return self.done()


class ValidateTrackOrderForm(OrderFormValidation):
    def name(self) -> str:
        return Action.VALIDATE_TRACK_ORDER_FORM


class ValidateTrackRefundForm(OrderFormValidation):
    def name(self) -> str:
        return Action.VALIDATE_TRACK_REFUND_FORM


class ValidateInvoiceForm(OrderFormValidation):
    def name(self) -> str:
        return Action.VALIDATE_INVOICE_FORM


class ActionOrderStatus(OrderTaskAction):
    def name(self) -> str:
        return Action.ACTION_ORDER_STATUS

    def act(
        self, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        describe(order, dispatcher)
        return []


class ActionRefundStatus(OrderTaskAction):
    def name(self) -> str:
        return Action.ACTION_REFUND_STATUS

    def act(
        self, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        refunds = order.refunds
        if not refunds:
            dispatcher.utter_message(response="utter_no_refund", order_number=order.number)
            return []
        for refund in refunds:  # one message per refund (an order rarely has more than one)
            amount = order_money(order, refund.amount_cents)
            if refund.status == RefundStatus.PROCESSED:
                dispatcher.utter_message(
                    response="utter_refund_processed",
                    order_number=order.number,
                    amount=amount,
                    method=refund.method,
                    refunded_on=day(refund.processed_at),
                )
            else:
                dispatcher.utter_message(
                    response="utter_refund_pending",
                    order_number=order.number,
                    amount=amount,
                    method=refund.method,
                    started_on=day(refund.created_at),
                    processing_days=policies().returns.processing_days,
                )
        return []


class ActionInvoice(OrderTaskAction):
    def name(self) -> str:
        return Action.ACTION_INVOICE

    def act(
        self, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if not order.invoices:
            dispatcher.utter_message(
                response="utter_no_invoice",
                order_number=order.number,
                invoice_note=policies().invoice_note,  # shop.yml `invoices.note`
            )
            return []
        orders_page = policies().page("orders")
        if len(order.invoices) == 1:
            [invoice] = order.invoices
            dispatcher.utter_message(
                response="utter_invoice",
                order_number=order.number,
                invoice_number=invoice.number,
                issued_on=day(invoice.issued_at),
                amount=order_money(order, invoice.amount_cents),
                orders_page=invoice.url or orders_page,  # the shop's own link, when it has one
            )
            return []
        invoices = "; ".join(
            f"{inv.number} ({day(inv.issued_at)}, {order_money(order, inv.amount_cents)})"
            for inv in order.invoices
        )
        dispatcher.utter_message(
            response="utter_invoices",
            order_number=order.number,
            invoices=invoices,
            orders_page=orders_page,
        )
        return []


class ValidateCancelOrderForm(OrderFormValidation):
    def name(self) -> str:
        return Action.VALIDATE_CANCEL_ORDER_FORM

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        if not (can_cancel(order) and supports(Capability.CANCEL)):
            return []  # the submit says why, or offers a person
        return [Slot.CANCEL_CONFIRMED]


class ActionAskCancelConfirmed(RasaAction):
    def name(self) -> str:
        return Action.ACTION_ASK_CANCEL_CONFIRMED

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        cents = policies().cancellation_fee_cents
        order = verified_order(tracker)
        if order is None:  # the form verified it; it may have gone since
            fee = {"fee": format_money(cents)} if cents else {}
            dispatcher.utter_message(
                response="utter_confirm_cancel_fee_this_order"
                if cents
                else "utter_confirm_cancel_free_this_order",
                buttons=YES_NO_BUTTONS,
                **fee,
            )
            return []
        fee = {"fee": order_money(order, cents)} if cents else {}
        dispatcher.utter_message(
            response="utter_confirm_cancel_fee" if cents else "utter_confirm_cancel_free",
            order_number=order.number,
            items=items_text(order),
            total=order_money(order, order.total_cents),
            buttons=YES_NO_BUTTONS,
            **fee,
        )
        return []


class ActionCancelOrder(OrderTaskAction):
    def name(self) -> str:
        return Action.ACTION_CANCEL_ORDER

    def done(self) -> list[dict[str, Any]]:
        return [SlotSet(Slot.CANCEL_CONFIRMED, None)]

    def act(
        self, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if not can_cancel(order):
            cannot_change(order, "cancel", dispatcher)
            return []
        if not supports(Capability.CANCEL):
            return person_instead(Capability.CANCEL, order, dispatcher)
        if tracker.get_slot(Slot.CANCEL_CONFIRMED) is not True:
            dispatcher.utter_message(response="utter_order_kept", order_number=order.number)
            return []
        try:
            result = order_system().cancel(
                order, fee_cents=policies().cancellation_fee_cents, now=now()
            )
        except NotAllowed as refusal:
            dispatcher.utter_message(response="utter_refusal", reason=refusal.reason)
            return []
        except Unsupported:
            return person_instead(Capability.CANCEL, order, dispatcher)
        notify_change(
            order, tracker, outbox.ORDER_CANCELLED, "cancelled",
            f"Your order {order.number} ({items_text(order)}) was cancelled in our chat.",
        )  # fmt: skip
        if result.refund and result.refund.amount_cents:
            dispatcher.utter_message(
                response="utter_order_cancelled_refund",
                order_number=order.number,
                amount=order_money(order, result.refund.amount_cents),
                method=result.refund.method,
                processing_days=policies().returns.processing_days,
            )
        else:
            dispatcher.utter_message(response="utter_order_cancelled", order_number=order.number)
        return []


def cannot_change(order: Order, change: str, dispatcher: CollectingDispatcher) -> None:
    """Why an order can't be cancelled (`change` "cancel") or its address changed ("change")
    any more, and what the shopper can do."""
    responses = CANNOT_CANCEL if change == "cancel" else CANNOT_CHANGE
    response = responses.get(order.status)
    if response is None:
        dispatcher.utter_message(
            response=CANNOT_OTHER[change], order_number=order.number, status=order.status
        )
    elif order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        dispatcher.utter_message(
            response=response,
            order_number=order.number,
            window_days=policies().returns.window_days,
        )
    else:
        dispatcher.utter_message(response=response, order_number=order.number)


class ValidateChangeAddressForm(OrderFormValidation):
    def name(self) -> str:
        return Action.VALIDATE_CHANGE_ADDRESS_FORM

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        if not can_cancel(order):  # the address can change exactly while it could be cancelled
            return []
        if not supports(Capability.CHANGE_ADDRESS):
            return []  # the submit offers a person instead
        return [*ADDRESS_SLOTS, Slot.ADDRESS_CONFIRMED]

    def _field(
        self, slot: Slot, check: addresses.FieldCheck, dispatcher: CollectingDispatcher
    ) -> dict[str, Any]:
        if check.value is None:
            if check.problem:
                dispatcher.utter_message(response="utter_refusal", reason=check.problem)
            else:
                dispatcher.utter_message(response="utter_address_field_invalid", field=str(slot))
        return {slot: check.value}

    def extract_street(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, Slot.STREET, frozenset({Intent.CHANGE_SHIPPING_ADDRESS}))
        if text and (whole := addresses.split_one_line(text)):
            return dict(whole)  # the whole address at once: each field is still checked
        return {Slot.STREET: text} if text else {}

    def extract_city(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, Slot.CITY)
        return {Slot.CITY: text} if text else {}

    def extract_region(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, Slot.REGION)
        return {Slot.REGION: text} if text else {}

    def extract_postcode(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, Slot.POSTCODE)
        return {Slot.POSTCODE: text} if text else {}

    def validate_street(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._field(Slot.STREET, addresses.validate_street(str(value)), dispatcher)

    def validate_city(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._field(Slot.CITY, addresses.validate_city(str(value)), dispatcher)

    def validate_region(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._field(Slot.REGION, addresses.validate_region(str(value)), dispatcher)

    def validate_postcode(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return self._field(Slot.POSTCODE, addresses.validate_postcode(str(value)), dispatcher)


def new_address(tracker: Tracker, name: str) -> addresses.Address:
    return addresses.Address(
        name=name,
        street=str(tracker.get_slot(Slot.STREET)),
        city=str(tracker.get_slot(Slot.CITY)),
        region=str(tracker.get_slot(Slot.REGION)),
        postcode=str(tracker.get_slot(Slot.POSTCODE)),
    )


def address_text(address: addresses.Address) -> str:
    return f"{address.street}, {address.city}, {address.region} {address.postcode}"


class ActionAskAddressConfirmed(RasaAction):
    def name(self) -> str:
        return Action.ACTION_ASK_ADDRESS_CONFIRMED

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_confirm_address",
            order_number=str(tracker.get_slot(Slot.VERIFIED_ORDER_NUMBER)),
            address=address_text(new_address(tracker, "")),
            buttons=YES_NO_BUTTONS,
        )
        return []


class ActionChangeAddress(OrderTaskAction):
    def name(self) -> str:
        return Action.ACTION_CHANGE_ADDRESS

    def done(self) -> list[dict[str, Any]]:
        return [SlotSet(slot, None) for slot in (*ADDRESS_SLOTS, Slot.ADDRESS_CONFIRMED)]

    def act(
        self, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if not can_cancel(order):
            cannot_change(order, "change", dispatcher)
            return []
        if not supports(Capability.CHANGE_ADDRESS):
            return person_instead(Capability.CHANGE_ADDRESS, order, dispatcher)
        if tracker.get_slot(Slot.ADDRESS_CONFIRMED) is not True:
            dispatcher.utter_message(response="utter_address_kept", order_number=order.number)
            return []
        shipping = order.shipping_address
        address = new_address(tracker, shipping.name if shipping else order.customer_name)
        try:
            order_system().change_address(order, address, now=now())
        except NotAllowed as refusal:
            dispatcher.utter_message(response="utter_refusal", reason=refusal.reason)
            return []
        except Unsupported:
            return person_instead(Capability.CHANGE_ADDRESS, order, dispatcher)
        notify_change(
            order, tracker, outbox.ADDRESS_CHANGED, "new shipping address",
            f"Your order {order.number} will now be shipped to {address_text(address)}.",
        )  # fmt: skip
        dispatcher.utter_message(
            response="utter_address_changed",
            order_number=order.number,
            address=address_text(address),
        )
        return []
