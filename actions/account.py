"""Account tasks that change records: deleting an account (starts data erasure) and the
newsletter flag.

An erasure request is audited and told to the account's e-mail address. A newsletter change
for the address this conversation verified happens at once; for any other address it waits
for the confirmation link e-mailed to that address (catalog/newsletter.py).
"""

from __future__ import annotations

import re
from typing import Any, Final

from rasa_sdk import Action as RasaAction
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.catalog_access import apologise_if_catalog_down, catalog_session
from actions.change_notices import notify_change
from actions.choices import match_choice
from actions.contract import Action, Entity, Intent, Slot
from actions.forms import conversation_id, entity_value, free_text, is_asked, latest_text
from actions.orders import YES_NO_BUTTONS, OrderTaskAction, now
from actions.search_state import ordinals
from actions.verification import EMAIL, OrderFormValidation
from catalog import newsletter, outbox
from catalog.policies import policies
from catalog.support import request_erasure, set_newsletter
from connectors.orders import Order

UNSUBSCRIBE = re.compile(
    r"\b(unsub\w*|stop|cancel\w*|no longer|opt[- ]?out|remove|don'?t want|do not want|"
    r"leave|quit|end)\b",
    re.IGNORECASE,
)
SUBSCRIBE = re.compile(r"\b(sub\w*|sign (me )?up|join|receive|get|opt[- ]?in)\b", re.IGNORECASE)


class ValidateDeleteAccountForm(OrderFormValidation):
    def name(self) -> str:
        return Action.VALIDATE_DELETE_ACCOUNT_FORM

    def task_slots(self, order: Order, tracker: Tracker) -> list[str]:
        return [Slot.DELETE_CONFIRMED]


class ActionAskDeleteConfirmed(RasaAction):
    def name(self) -> str:
        return Action.ACTION_ASK_DELETE_CONFIRMED

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_confirm_account_deletion",
            account_email=str(tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL)),
            privacy_page=policies().page("privacy"),  # shop.yml `pages.privacy`
            buttons=YES_NO_BUTTONS,
        )
        return []


class ActionDeleteAccount(OrderTaskAction):
    def name(self) -> str:
        return Action.ACTION_DELETE_ACCOUNT

    def done(self) -> list[dict[str, Any]]:
        return [SlotSet(Slot.DELETE_CONFIRMED, None)]

    def act(
        self, order: Order, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> list[dict[str, Any]]:
        if tracker.get_slot(Slot.DELETE_CONFIRMED) is not True:
            dispatcher.utter_message(response="utter_account_kept")
            return []
        with catalog_session() as session:
            request = request_erasure(session, order.email, conversation_id(tracker))
        notify_change(
            order,
            tracker,
            outbox.ERASURE_REQUESTED,
            f"request E-{request.id}",
            "Deleting your account and personal data has been requested in our chat "
            f"(request E-{request.id}).",
        )
        dispatcher.utter_message(
            response="utter_account_deletion_started",
            request=f"E-{request.id}",
            account_email=order.email,
            shop=policies().name,
        )
        return []


NEWSLETTER_CHOICES: Final = ("Subscribe", "Unsubscribe")
SUBSCRIBE_CHOICE: Final = "subscribe"
UNSUBSCRIBE_CHOICE: Final = "unsubscribe"


def newsletter_choice_in(text: str) -> str | None:
    if UNSUBSCRIBE.search(text):
        return UNSUBSCRIBE_CHOICE
    if SUBSCRIBE.search(text):
        return SUBSCRIBE_CHOICE
    return None


class ValidateNewsletterForm(FormValidationAction):
    def name(self) -> str:
        return Action.VALIDATE_NEWSLETTER_FORM

    def extract_newsletter_choice(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot(Slot.NEWSLETTER_CHOICE):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        asked = is_asked(tracker, Slot.NEWSLETTER_CHOICE)
        if intent == Intent.NEWSLETTER_SUBSCRIPTION or asked:
            choice = newsletter_choice_in(latest_text(tracker))
            if choice is None and asked:
                # the buttons' words, or "the first one" (actions/choices.py)
                picked = match_choice(latest_text(tracker), NEWSLETTER_CHOICES, ordinals(tracker))
                choice = NEWSLETTER_CHOICES[picked].lower() if picked is not None else None
            if choice is None and intent == Intent.AFFIRM and asked:
                choice = SUBSCRIBE_CHOICE
            return {Slot.NEWSLETTER_CHOICE: choice} if choice else {}
        return {}

    def extract_newsletter_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot(Slot.NEWSLETTER_EMAIL):
            return {}
        typed = entity_value(tracker, Entity.EMAIL)
        if typed:
            return {Slot.NEWSLETTER_EMAIL: str(typed)}
        if is_asked(tracker, Slot.NEWSLETTER_EMAIL):
            text = free_text(tracker, Slot.NEWSLETTER_EMAIL)
            return {Slot.NEWSLETTER_EMAIL: text} if text else {}
        proven = tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL)
        return {Slot.NEWSLETTER_EMAIL: proven} if proven else {}

    def validate_newsletter_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        email = str(value or "").strip().lower()
        if EMAIL.match(email):
            return {Slot.NEWSLETTER_EMAIL: email}
        dispatcher.utter_message(response="utter_email_invalid")
        return {Slot.NEWSLETTER_EMAIL: None}


class ActionAskNewsletterChoice(RasaAction):
    def name(self) -> str:
        return Action.ACTION_ASK_NEWSLETTER_CHOICE

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(
            response="utter_which_newsletter_choice",
            buttons=[{"title": choice, "payload": choice.lower()} for choice in NEWSLETTER_CHOICES],
        )
        return []


class ActionNewsletter(RasaAction):
    def name(self) -> str:
        return Action.ACTION_NEWSLETTER

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        email = str(tracker.get_slot(Slot.NEWSLETTER_EMAIL) or "")
        subscribe = tracker.get_slot(Slot.NEWSLETTER_CHOICE) != UNSUBSCRIBE_CHOICE
        clear = [SlotSet(Slot.NEWSLETTER_CHOICE, None), SlotSet(Slot.NEWSLETTER_EMAIL, None)]
        if not EMAIL.match(email):
            dispatcher.utter_message(response="utter_newsletter_email_needed")
            return clear
        verified = str(tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL) or "").lower() == email
        with catalog_session() as session:
            if verified:
                set_newsletter(session, email, subscribed=subscribe, now=now())
            else:
                newsletter.request_change(session, email, subscribe, policies().name)
        page = policies().page("newsletter")
        if not verified:
            # The same answer whatever the address's state: nothing about it is revealed.
            dispatcher.utter_message(
                response="utter_newsletter_link_sent", address=email, newsletter_page=page
            )
        elif subscribe:
            dispatcher.utter_message(
                response="utter_newsletter_subscribed",
                address=email,
                shop=policies().name,
                newsletter_page=page,
            )
        else:
            # The same answer whether or not the address was subscribed: nothing is revealed.
            dispatcher.utter_message(
                response="utter_newsletter_unsubscribed", address=email, newsletter_page=page
            )
        return clear
