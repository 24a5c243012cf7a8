"""People and not understanding: offering a person, handing over, two-stage fallback, stopping.

A handoff is recorded in the shop's database (catalog.support.request_handoff) and the
conversation is paused: Rasa keeps the shopper's messages but the bot stays silent until the
agent console (web/, docs/web.md) gives the conversation back, or the web server does when no
agent takes it in time (action_handoff_timeout then offers to carry on or to leave a message).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import catalog_session
from actions.forms import conversation_id, entity_value, free_text, is_asked, latest_text
from actions.inform import as_shopping
from catalog.policies import ShopSettingsError, policies
from catalog.support import leave_message, request_handoff

OFFER_HUMAN_TEXT = "Would you like me to pass you to a person from our support team?"
OFFER_BUTTONS = [
    {"title": "Yes, please", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]
REPHRASE_TEXT = (
    "Sorry, I didn't quite get that. Could you say it in other words? For example \"where is "
    'my order?", "I want to return an item" or "do you have a black hoodie?"'
)
STILL_NOT_UNDERSTOOD_TEXT = "I'm sorry, I still don't understand."
# Slots a form fills for one task; cleared when the shopper stops the task.
TASK_SLOTS = (
    "cancel_confirmed",
    "street",
    "city",
    "region",
    "postcode",
    "address_confirmed",
    "return_item",
    "return_reason",
    "delete_confirmed",
    "newsletter_choice",
    "newsletter_email",
    "complaint_text",
    "message_text",
    "review_product",
    "review_rating",
    "review_text",
)
HANDOFF_REASONS = {
    "action_submit_complaint": "complaint",
    "action_fallback": "the bot did not understand",
    "action_order_status": "could not verify an order",
    "action_refund_status": "could not verify an order",
    "action_invoice": "could not verify an order",
    "action_cancel_order": "could not verify an order",
    "action_change_address": "could not verify an order",
    "action_submit_return": "could not verify an order",
    "action_delete_account": "could not verify an order",
}


def in_form(tracker: Tracker) -> bool:
    return bool((tracker.active_loop or {}).get("name"))


def clear_task_slots() -> list[dict[str, Any]]:
    return [SlotSet(slot, None) for slot in TASK_SLOTS]


def previous_turn_actions(tracker: Tracker) -> list[str]:
    """The actions the bot ran between the shopper's previous message and the latest one."""
    turns: list[list[str]] = [[]]
    for event in tracker.events:
        if event.get("event") == "user":
            turns.append([])
        elif event.get("event") == "action" and event.get("name") not in (
            "action_listen",
            "action_extract_slots",
        ):
            turns[-1].append(str(event.get("name")))
    return turns[-2] if len(turns) >= 2 else []


def handoff_reason(tracker: Tracker) -> str:
    """Why a person is needed: what led to the offer the shopper accepted, else they asked."""
    actions = previous_turn_actions(tracker)
    if "action_offer_human" in actions:
        offered = actions.index("action_offer_human")
        for name in reversed(actions[:offered]):
            if name in HANDOFF_REASONS:
                return HANDOFF_REASONS[name]
    return "asked for a person"


class ActionOfferHuman(Action):
    """The question whose yes or no the rules follow (rules.yml: accept or decline a person)."""

    def name(self) -> str:
        return "action_offer_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=OFFER_HUMAN_TEXT, buttons=OFFER_BUTTONS)
        return []


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reason = handoff_reason(tracker)
        try:
            with catalog_session() as session:
                request_handoff(session, conversation_id(tracker), reason)
        except SQLAlchemyError:
            return self._unavailable(dispatcher)
        try:
            support = policies().support
            wait = f"usually within {support.handoff_wait_minutes} minutes ({support.hours})"
        except ShopSettingsError:
            wait = "as soon as possible"
        dispatcher.utter_message(
            text="I've asked a person from our support team to join this chat. They will answer "
            f"here, {wait}. You can keep writing; they'll see everything."
        )
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("handoff_status", "waiting"),
            SlotSet("handoff_reason", reason),
            ConversationPaused(),
        ]

    @staticmethod
    def _unavailable(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
        try:
            support = policies().support
            contact = f"{support.email} or {support.phone}"
        except ShopSettingsError:
            contact = "our Contact Us page"
        dispatcher.utter_message(
            text="Sorry, I can't reach our support team from this chat right now. Please "
            f"contact them at {contact}."
        )
        return []


class ActionNoHuman(Action):
    def name(self) -> str:
        return "action_no_human"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="All right. Is there anything else I can help you with?")
        return []


class ActionFallback(Action):
    """Two stages: ask to rephrase; if the next message is not understood either, offer a
    person. Inside a form, Rasa runs the form again after the first stage, which repeats its
    question; the second stage leaves the form. Outside a form, a message that plainly names
    products or filters is searched instead (actions/inform.py `as_shopping`)."""

    def name(self) -> str:
        return "action_fallback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not in_form(tracker):
            # a shopper's fragment the classifier was unsure of: "hoodie", "under 30 bucks"
            shopping = as_shopping(dispatcher, tracker, domain)
            if shopping is not None:
                return shopping
        if self.name() in previous_turn_actions(tracker):
            dispatcher.utter_message(text=STILL_NOT_UNDERSTOOD_TEXT)
            stop = [ActiveLoop(None), SlotSet("requested_slot", None)] if in_form(tracker) else []
            return [*stop, FollowupAction("action_offer_human")]
        dispatcher.utter_message(text=REPHRASE_TEXT)
        return []


class ActionStop(Action):
    """ "No" or "never mind" outside a yes/no question: stop the current task, if any."""

    def name(self) -> str:
        return "action_stop"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if in_form(tracker):
            dispatcher.utter_message(
                text="OK, I've stopped that. Is there anything else I can help you with?"
            )
            return [ActiveLoop(None), SlotSet("requested_slot", None), *clear_task_slots()]
        dispatcher.utter_message(text="OK. Is there anything else I can help you with?")
        return []


TIMEOUT_TEXT = (
    "I'm sorry, no one from our support team is free right now. You can carry on with me, "
    "or leave a message and the team will answer you by e-mail."
)
TIMEOUT_BUTTONS = [
    {"title": "Carry on with the assistant", "payload": "/continue_with_bot"},
    {"title": "Leave a message", "payload": "/leave_message"},
]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ActionHandoffTimeout(Action):
    """Triggered by the web server (web/hub.py) when no agent took the handoff in time; the
    conversation is already resumed."""

    def name(self) -> str:
        return "action_handoff_timeout"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=TIMEOUT_TEXT, buttons=TIMEOUT_BUTTONS)
        return [SlotSet("handoff_status", None)]


class ValidateLeaveMessageForm(FormValidationAction):
    """The message, then where to answer it: a shopper who proved an order is not asked."""

    def name(self) -> str:
        return "validate_leave_message_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot("verified_customer_email"):
            return [slot for slot in domain_slots if slot != "contact_email"]
        return domain_slots

    def extract_message_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, "message_text", narrative=True)
        return {"message_text": text} if text else {}

    def extract_contact_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not is_asked(tracker, "contact_email"):
            return {}
        found = entity_value(tracker, "email") or latest_text(tracker)
        return {"contact_email": str(found).strip()} if found else {}

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        address = str(value).strip().lower()
        if not EMAIL.match(address) or len(address) > 255:
            dispatcher.utter_message(
                text="That doesn't look like an e-mail address. Please write it like "
                "name@example.com."
            )
            return {"contact_email": None}
        return {"contact_email": address}


class ActionLeaveMessage(Action):
    def name(self) -> str:
        return "action_leave_message"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        email = tracker.get_slot("verified_customer_email") or tracker.get_slot("contact_email")
        try:
            with catalog_session() as session:
                message = leave_message(
                    session,
                    conversation_id(tracker),
                    email,
                    str(tracker.get_slot("message_text") or ""),
                )
                reference = f"M-{message.id}"
        except SQLAlchemyError:
            return ActionHandoff._unavailable(dispatcher)
        dispatcher.utter_message(
            text=f"Thank you. I've passed your message to our support team (reference "
            f"{reference}); they'll answer you at {email}. Is there anything else I can help "
            "you with?"
        )
        return [SlotSet("message_text", None)]
