"""Proving who is asking before anything about an order is told or changed.

Every order form asks for the order number and then the e-mail address the order was placed
with. Only when both match does the conversation remember the order as verified (and the shop
database records whose conversation it is, for export and erasure: catalog/subjects.py). A
wrong e-mail and an unknown number get the same answer, so a guess learns nothing.

Failed tries are counted in the shop database per order number, per e-mail address and per
client (catalog/attempts.py), not only in a slot: a slot, a session id and `/restart` are the
shopper's to reset. Once any of them reached its limit, no check is made, even a right one,
and the conversation offers a person instead.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.catalog_access import UNAVAILABLE_TEXT, catalog_session
from catalog import attempts, subjects
from catalog.customer_service import verify_order
from catalog.models import Order
from catalog.orders import normalise_order_number

MAX_FAILURES = 3
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
VERIFIED_ORDER_SLOT = "verified_order_number"
VERIFIED_EMAIL_SLOT = "verified_customer_email"
FAILURES_SLOT = "verification_failures"
IDENTITY_SLOTS = ["order_number", "email"]
# The user event's metadata key with a digest of the client's network address, stamped by the
# shopper channel (bot/shopdesk_rasa/channels.py CLIENT_KEY; docs/contracts.md).
CLIENT_METADATA_KEY = "client"

NOT_A_NUMBER_TEXT = (
    "That doesn't look like an order number. It is the number in your order confirmation "
    "e-mail, only digits, for example 000000101."
)
NOT_AN_EMAIL_TEXT = (
    "That doesn't look like an e-mail address. Please type it like jane@example.com."
)
NO_MATCH_TEXT = (
    "I couldn't find an order with that number and e-mail address together. Please check both "
    "in your order confirmation e-mail and try again."
)
LOCKED_TEXT = (
    "I'm sorry, I couldn't match that order number and e-mail address, so I can't show or change "
    "the order in this chat."
)


# The checks are locked (this conversation's tries, or the database's count): the form ends, and
# the task says so and offers a person (actions/orders.py).
LOCKED_SLOTS: dict[str, Any] = {
    "order_number": None,
    "email": None,
    VERIFIED_ORDER_SLOT: None,
    FAILURES_SLOT: float(MAX_FAILURES),
}


def failures(tracker: Tracker) -> int:
    try:
        return int(tracker.get_slot(FAILURES_SLOT) or 0)
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
    number = tracker.get_slot(VERIFIED_ORDER_SLOT)
    if not number:
        return False
    answering_another_question = tracker.get_slot("requested_slot") not in (None, *IDENTITY_SLOTS)
    return bool(number == tracker.get_slot("order_number") or answering_another_question)


def verified_order(session: Session, tracker: Tracker) -> Order | None:
    """The conversation's verified order, checked again against the database."""
    if not is_verified(tracker):
        return None
    return verify_order(
        session,
        str(tracker.get_slot(VERIFIED_ORDER_SLOT)),
        str(tracker.get_slot(VERIFIED_EMAIL_SLOT) or ""),
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
            with catalog_session() as session:
                order = verified_order(session, tracker)
                extra = self.task_slots(order, tracker) if order else []
        except SQLAlchemyError:
            extra = []
        return [*IDENTITY_SLOTS, *extra]

    def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = normalise_order_number(str(value)) if value else None
        if number is None:
            dispatcher.utter_message(text=NOT_A_NUMBER_TEXT)
            return {"order_number": None}
        verified = tracker.get_slot(VERIFIED_ORDER_SLOT)
        if number == verified:
            return {"order_number": number}
        if verified and tracker.get_slot("requested_slot") not in (None, *IDENTITY_SLOTS):
            # Digits typed for another question (a ZIP code) are not a new order number.
            return {"order_number": verified}
        proven = tracker.get_slot(VERIFIED_EMAIL_SLOT)
        if proven:
            # Another order of a shopper who proved an e-mail: it may be theirs too; if it is
            # not, ask for its e-mail without counting a failed try.
            checked = self._verify(dispatcher, tracker, number, str(proven), quiet=True)
            if checked.get(VERIFIED_ORDER_SLOT):
                return checked
            return {"order_number": number, "email": None, VERIFIED_ORDER_SLOT: None}
        return self._verify(dispatcher, tracker, number, tracker.get_slot("email"))

    def validate_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = str(value or "").strip().lower()
        if not EMAIL.match(email):
            dispatcher.utter_message(text=NOT_AN_EMAIL_TEXT)
            return {"email": None}
        number = tracker.get_slot("order_number")
        if not number:
            return {"email": email}
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
            return {"order_number": number, VERIFIED_ORDER_SLOT: None}
        client = client_key(tracker)
        now_locked = False
        try:
            with catalog_session() as session:
                if attempts.locked_scopes(session, number, email, client):
                    # no check at all while locked, so a right guess reveals nothing either
                    return dict(LOCKED_SLOTS)
                order = verify_order(session, number, email)
                if order is not None:
                    subjects.link(session, tracker.sender_id, email, order.number)
                elif not quiet:
                    attempts.record_failure(session, number, email, client)
                    now_locked = bool(attempts.locked_scopes(session, number, email, client))
        except SQLAlchemyError:
            # nothing is decided: keep the number, ask for the e-mail again
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
            return {"order_number": number, "email": None}
        if order is not None:
            return {
                "order_number": number,
                "email": email.lower(),
                VERIFIED_ORDER_SLOT: number,
                VERIFIED_EMAIL_SLOT: email.lower(),
                FAILURES_SLOT: 0.0,
            }
        if quiet:
            return {VERIFIED_ORDER_SLOT: None}
        failed = MAX_FAILURES if now_locked else failures(tracker) + 1
        if failed < MAX_FAILURES:
            dispatcher.utter_message(text=NO_MATCH_TEXT)
        return {
            "order_number": None,
            "email": None,
            VERIFIED_ORDER_SLOT: None,
            FAILURES_SLOT: float(failed),
        }
