"""Proving who is asking before anything about an order is told or changed.

Every order form asks for the order number and then the e-mail address the order was placed
with. Only when both match does the conversation remember the order as verified (and the shop
database records whose conversation it is, for export and erasure: catalog/subjects.py). A
wrong e-mail and an unknown number get the same answer, so a guess learns nothing. The order
itself comes from the connected order system (catalog/order_system.py: the built-in order book,
Oscar, Shopify, Magento); the proof, its limits and its record stay here, whatever the shop runs.

Failed tries are counted in the shop database per order number, per e-mail address and per
client (catalog/attempts.py), not only in a slot: a slot, a session id and `/restart` are the
shopper's to reset. Once any of them reached its limit, no check is made, even a right one,
and the conversation offers a person instead.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, Final

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import catalog_failure, catalog_session, order_system_failure
from actions.contract import Slot
from actions.forms import REQUESTED_SLOT
from catalog import attempts, subjects
from catalog.order_system import order_system
from connectors.errors import ConnectorError, ShopError, ShopUnavailable
from connectors.orders import Order

MAX_FAILURES: Final = 3
EMAIL: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
IDENTITY_SLOTS: Final = (Slot.ORDER_NUMBER, Slot.EMAIL)
# The user event's metadata key with a digest of the client's network address, stamped by the
# shopper channel (bot/shopdesk_rasa/channels.py CLIENT_KEY; docs/contracts.md).
CLIENT_METADATA_KEY: Final = "client"


# The checks are locked (this conversation's tries, or the database's count): the form ends, and
# the task says so and offers a person (actions/orders.py).
LOCKED_SLOTS: Final[dict[str, Any]] = {
    Slot.ORDER_NUMBER: None,
    Slot.EMAIL: None,
    Slot.VERIFIED_ORDER_NUMBER: None,
    Slot.VERIFICATION_FAILURES: float(MAX_FAILURES),
}


def failures(tracker: Tracker) -> int:
    try:
        return int(tracker.get_slot(Slot.VERIFICATION_FAILURES) or 0)
    except (TypeError, ValueError):
        return 0


def client_key(tracker: Tracker) -> str | None:
    """The digest of the shopper's network address the channel stamped on the latest message."""
    event = tracker.get_last_event_for("user") or {}
    value = (event.get("metadata") or {}).get(CLIENT_METADATA_KEY)
    return value if isinstance(value, str) and value else None


def is_verified(tracker: Tracker) -> bool:
    """The order in the conversation is the verified one. Digits typed for another question
    (a ZIP code) also fill `order_number` for a moment; they do not count as a new order."""
    number = tracker.get_slot(Slot.VERIFIED_ORDER_NUMBER)
    if not number:
        return False
    answering_another_question = tracker.get_slot(REQUESTED_SLOT) not in (None, *IDENTITY_SLOTS)
    return bool(number == tracker.get_slot(Slot.ORDER_NUMBER) or answering_another_question)


def verified_order(tracker: Tracker) -> Order | None:
    """The conversation's verified order, read again from the order system (its state now);
    ShopUnavailable or ShopError when that system cannot answer."""
    if not is_verified(tracker):
        return None
    return order_system().find_order(
        str(tracker.get_slot(Slot.VERIFIED_ORDER_NUMBER)),
        str(tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL) or ""),
    )


class OrderFormValidation(FormValidationAction, ABC):
    """Validation of a form about one order: the identity first, then the task's own slots."""

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    def form_name(self) -> str:
        return self.name().removeprefix("validate_")

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        """The slots this task still needs once the order is verified (none by default)."""
        return []

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if failures(tracker) >= MAX_FAILURES:
            return []
        if not is_verified(tracker):
            return list(IDENTITY_SLOTS)
        try:
            order = verified_order(tracker)
            extra = self.task_slots(order, tracker) if order else []
        except (SQLAlchemyError, ConnectorError):
            extra = []  # the submit action tells the shopper
        return [*IDENTITY_SLOTS, *extra]

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            number = order_system().order_number(str(value)) if value else None
        except ConnectorError as error:  # a connector that cannot even be built (settings)
            order_system_failure(dispatcher, error)
            return {Slot.ORDER_NUMBER: None}
        if number is None:
            dispatcher.utter_message(response="utter_order_number_invalid")
            return {Slot.ORDER_NUMBER: None}
        verified = tracker.get_slot(Slot.VERIFIED_ORDER_NUMBER)
        if number == verified:
            return {Slot.ORDER_NUMBER: number}
        if verified and tracker.get_slot(REQUESTED_SLOT) not in (None, *IDENTITY_SLOTS):
            # Digits typed for another question (a ZIP code) are not a new order number.
            return {Slot.ORDER_NUMBER: verified}
        proven = tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL)
        if proven:
            # Another order of a shopper who proved an e-mail: it may be theirs too; if it is
            # not, ask for its e-mail without counting a failed try.
            checked = self._verify(dispatcher, tracker, number, str(proven), quiet=True)
            if checked.get(Slot.VERIFIED_ORDER_NUMBER):
                return checked
            return {Slot.ORDER_NUMBER: number, Slot.EMAIL: None, Slot.VERIFIED_ORDER_NUMBER: None}
        return self._verify(dispatcher, tracker, number, tracker.get_slot(Slot.EMAIL))

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = str(value or "").strip().lower()
        if not EMAIL.match(email):
            dispatcher.utter_message(response="utter_email_invalid")
            return {Slot.EMAIL: None}
        number = tracker.get_slot(Slot.ORDER_NUMBER)
        if not number:
            return {Slot.EMAIL: email}
        return self._verify(dispatcher, tracker, str(number), email)

    def _verify(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        number: str,
        email: str | None,
        quiet: bool = False,
    ) -> dict[str, Any]:
        if not email:
            return {Slot.ORDER_NUMBER: number, Slot.VERIFIED_ORDER_NUMBER: None}
        client = client_key(tracker)
        now_locked = False
        try:
            with catalog_session() as session:
                if attempts.locked_scopes(session, number, email, client):
                    # no check at all while locked, so a right guess reveals nothing either
                    return dict(LOCKED_SLOTS)
            order = order_system().find_order(number, email)
            with catalog_session() as session:
                if order is not None:
                    subjects.link(session, tracker.sender_id, email, order.number)
                elif not quiet:
                    attempts.record_failure(session, number, email, client)
                    now_locked = bool(attempts.locked_scopes(session, number, email, client))
        except SQLAlchemyError:
            # nothing is decided: keep the number, ask for the e-mail again
            catalog_failure(dispatcher)
            return {Slot.ORDER_NUMBER: number, Slot.EMAIL: None}
        except (ShopUnavailable, ShopError) as error:
            # the shop's system did not answer: no try is counted; keep the number
            order_system_failure(dispatcher, error)
            return {Slot.ORDER_NUMBER: number, Slot.EMAIL: None}
        if order is not None:
            return {
                Slot.ORDER_NUMBER: number,
                Slot.EMAIL: email.lower(),
                Slot.VERIFIED_ORDER_NUMBER: number,
                Slot.VERIFIED_CUSTOMER_EMAIL: email.lower(),
                Slot.VERIFICATION_FAILURES: 0.0,
            }
        if quiet:
            return {Slot.VERIFIED_ORDER_NUMBER: None}
        failed = MAX_FAILURES if now_locked else failures(tracker) + 1
        if failed < MAX_FAILURES:
            dispatcher.utter_message(response="utter_verification_no_match")
        return {
            Slot.ORDER_NUMBER: None,
            Slot.EMAIL: None,
            Slot.VERIFIED_ORDER_NUMBER: None,
            Slot.VERIFICATION_FAILURES: float(failed),
        }
