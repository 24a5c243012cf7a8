"""Account tasks that change records: deleting an account (starts data erasure) and the
newsletter flag.

An erasure request is audited and told to the account's e-mail address. A newsletter change
for the address this conversation verified happens at once; for any other address it waits
for the confirmation link e-mailed to that address (catalog/newsletter.py).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.catalog_access import catalog_failure, catalog_session
from actions.change_notices import notify_change
from actions.choices import match_choice
from actions.forms import conversation_id, entity_value, free_text, is_asked, latest_text
from actions.orders import YES_NO_BUTTONS, OrderTaskAction, now
from actions.search_state import ordinals
from actions.verification import EMAIL, VERIFIED_EMAIL_SLOT, OrderFormValidation
from catalog import newsletter, outbox
from catalog.models import Order
from catalog.policies import policies
from catalog.support import request_erasure, set_newsletter

UNSUBSCRIBE = re.compile(
    r"\b(unsub\w*|stop|cancel\w*|no longer|opt[- ]?out|remove|don'?t want|do not want|"
    r"leave|quit|end)\b",
    re.IGNORECASE,
)
SUBSCRIBE = re.compile(r"\b(sub\w*|sign (me )?up|join|receive|get|opt[- ]?in)\b", re.IGNORECASE)


class ValidateDeleteAccountForm(OrderFormValidation):
    def name(self) -> str:
        return "validate_delete_account_form"

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        return ["delete_confirmed"]


class ActionAskDeleteConfirmed(Action):
    def name(self) -> str:
        return "action_ask_delete_confirmed"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="Deleting your account erases your profile, addresses, saved conversations and "
            "reviews' names; orders are kept only as long as the law requires, without your "
            f"name. It can't be undone. Shall I start deleting the account of "
            f"{tracker.get_slot('verified_customer_email')}?",
            buttons=YES_NO_BUTTONS,
        )
        return []


class ActionDeleteAccount(OrderTaskAction):
    def name(self) -> str:
        return "action_delete_account"

    def done(self) -> list[dict[str, Any]]:
        return [SlotSet("delete_confirmed", None)]

    def act(
        self, session: Session, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("delete_confirmed") is not True:
            dispatcher.utter_message(text="OK, your account stays as it is.")
            return []
        request = request_erasure(session, order.customer, conversation_id(tracker))
        session.flush()
        notify_change(
            session,
            order,
            tracker,
            outbox.ERASURE_REQUESTED,
            f"request E-{request.id}",
            "Deleting your account and personal data has been requested in our chat "
            f"(request E-{request.id}).",
        )
        dispatcher.utter_message(
            text=f"I've started deleting your account and personal data (request "
            f"E-{request.id}). Our team completes it within 30 days and confirms by e-mail to "
            f"{order.customer.email}. Thank you for having shopped with {policies().name}."
        )
        return []


NEWSLETTER_CHOICES = ("Subscribe", "Unsubscribe")


def newsletter_choice_in(text: str) -> str | None:
    if UNSUBSCRIBE.search(text):
        return "unsubscribe"
    if SUBSCRIBE.search(text):
        return "subscribe"
    return None


class ValidateNewsletterForm(FormValidationAction):
    def name(self) -> str:
        return "validate_newsletter_form"

    def extract_newsletter_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("newsletter_choice"):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "newsletter_subscription" or is_asked(tracker, "newsletter_choice"):
            choice = newsletter_choice_in(latest_text(tracker))
            if choice is None and is_asked(tracker, "newsletter_choice"):
                # the buttons' words, or "the first one" (actions/choices.py)
                picked = match_choice(latest_text(tracker), NEWSLETTER_CHOICES, ordinals(tracker))
                choice = NEWSLETTER_CHOICES[picked].lower() if picked is not None else None
            if choice is None and intent == "affirm" and is_asked(tracker, "newsletter_choice"):
                choice = "subscribe"
            return {"newsletter_choice": choice} if choice else {}
        return {}

    def extract_newsletter_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("newsletter_email"):
            return {}
        typed = entity_value(tracker, "email")
        if typed:
            return {"newsletter_email": str(typed)}
        if is_asked(tracker, "newsletter_email"):
            text = free_text(tracker, "newsletter_email")
            return {"newsletter_email": text} if text else {}
        proven = tracker.get_slot("verified_customer_email")
        return {"newsletter_email": proven} if proven else {}

    def validate_newsletter_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = str(value or "").strip().lower()
        if EMAIL.match(email):
            return {"newsletter_email": email}
        dispatcher.utter_message(
            text="That doesn't look like an e-mail address. Please type it like jane@example.com."
        )
        return {"newsletter_email": None}


class ActionAskNewsletterChoice(Action):
    def name(self) -> str:
        return "action_ask_newsletter_choice"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            text="Would you like to subscribe to our newsletter or unsubscribe from it?",
            buttons=[{"title": choice, "payload": choice.lower()} for choice in NEWSLETTER_CHOICES],
        )
        return []


class ActionNewsletter(Action):
    def name(self) -> str:
        return "action_newsletter"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        email = str(tracker.get_slot("newsletter_email") or "")
        subscribe = tracker.get_slot("newsletter_choice") != "unsubscribe"
        clear = [SlotSet("newsletter_choice", None), SlotSet("newsletter_email", None)]
        if not EMAIL.match(email):
            dispatcher.utter_message(text="I need a valid e-mail address for the newsletter.")
            return clear
        verified = str(tracker.get_slot(VERIFIED_EMAIL_SLOT) or "").lower() == email
        try:
            with catalog_session() as session:
                if verified:
                    set_newsletter(session, email, subscribed=subscribe, now=now())
                else:
                    newsletter.request_change(session, email, subscribe, policies().name)
        except SQLAlchemyError:
            return catalog_failure(dispatcher)
        if not verified:
            # The same answer whatever the address's state: nothing about it is revealed.
            text = (
                f"I've sent a confirmation link to {email}; the change takes effect once it is "
                "opened from that mailbox."
            )
        elif subscribe:
            text = f"Done: {email} is subscribed to the {policies().name} newsletter."
        else:
            # The same answer whether or not the address was subscribed: nothing is revealed.
            text = f"Done: {email} will not receive our newsletter any more."
        dispatcher.utter_message(
            text=text + f" You can change this any time at {policies().page('newsletter')}."
        )
        return clear
