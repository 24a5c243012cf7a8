"""People and not understanding: offering a person, handing over, two-stage fallback, stopping.

A handoff is recorded in the shop's database (catalog.support.handoffs.request) and the
conversation is paused: Rasa keeps the shopper's messages but the bot stays silent until the
agent console (web/, docs/web.md) gives the conversation back, or the web server does when no
agent takes it in time (action_handoff_timeout then offers to carry on or to leave a message).

Outside the shop's support hours (shop.yml `support.hours_by_day`, catalog/business_hours.py)
no handoff is made: a person promised at night would never come, so the bot says when
someone is back and offers to take a message (the leave-message form) or to carry on.
"""

from __future__ import annotations

import re
from typing import Any, Final

from rasa_sdk import Action as RasaAction
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, ConversationPaused, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import catalog_session
from actions.contract import IGNORED_ACTIONS, Action, Entity, Intent, Slot
from actions.forms import (
    REQUESTED_SLOT,
    conversation_id,
    entity_value,
    free_text,
    is_asked,
    latest_text,
)
from actions.inform import as_shopping
from catalog import handoffs
from catalog.business_hours import OpeningDay
from catalog.policies import ShopSettingsError, policies
from catalog.statuses import HandoffStatus
from catalog.support import leave_message
from core.clock import utc_now

OFFER_BUTTONS: Final = [
    {"title": "Yes, please", "payload": "/affirm"},
    {"title": "No, thanks", "payload": "/deny"},
]
# Slots a form fills for one task; cleared when the shopper stops the task.
TASK_SLOTS: Final = (
    Slot.CANCEL_CONFIRMED,
    Slot.STREET,
    Slot.CITY,
    Slot.REGION,
    Slot.POSTCODE,
    Slot.ADDRESS_CONFIRMED,
    Slot.RETURN_ITEM,
    Slot.RETURN_REASON,
    Slot.DELETE_CONFIRMED,
    Slot.NEWSLETTER_CHOICE,
    Slot.NEWSLETTER_EMAIL,
    Slot.COMPLAINT_TEXT,
    Slot.MESSAGE_TEXT,
    Slot.REVIEW_PRODUCT,
    Slot.REVIEW_RATING,
    Slot.REVIEW_TEXT,
)
NOT_VERIFIED: Final = "could not verify an order"
HANDOFF_REASONS: Final[dict[str, str]] = {
    Action.ACTION_SUBMIT_COMPLAINT: "complaint",
    Action.ACTION_FALLBACK: "the bot did not understand",
    Action.ACTION_ORDER_STATUS: NOT_VERIFIED,
    Action.ACTION_REFUND_STATUS: NOT_VERIFIED,
    Action.ACTION_INVOICE: NOT_VERIFIED,
    Action.ACTION_CANCEL_ORDER: NOT_VERIFIED,
    Action.ACTION_CHANGE_ADDRESS: NOT_VERIFIED,
    Action.ACTION_SUBMIT_RETURN: NOT_VERIFIED,
    Action.ACTION_DELETE_ACCOUNT: NOT_VERIFIED,
}
ASKED_FOR_A_PERSON: Final = "asked for a person"
# The support team is out: when it is back decides the sentence (bot/domain.yml). Back later
# than tomorrow names the day too ("on Monday at 9:00 PST").
CLOSED_SOON_REPLIES: Final = {
    OpeningDay.TODAY: "utter_support_closed_back_today",
    OpeningDay.TOMORROW: "utter_support_closed_back_tomorrow",
}
CLOSED_LATER_REPLY: Final = "utter_support_closed_back_on"
NO_OPENING_REPLY: Final = "utter_support_closed"
# After the closed reply: a message for the team (the leave-message form), or the bot.
MESSAGE_OR_BOT_BUTTONS: Final = [
    {"title": "Leave a message", "payload": f"/{Intent.LEAVE_MESSAGE}"},
    {"title": "Carry on with the assistant", "payload": f"/{Intent.CONTINUE_WITH_BOT}"},
]


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
        elif event.get("event") == "action" and event.get("name") not in IGNORED_ACTIONS:
            turns[-1].append(str(event.get("name")))
    return turns[-2] if len(turns) >= 2 else []


def reason_given_last_turn(tracker: Tracker) -> str | None:
    """The handoff reason an action set with its offer of a person in the previous turn (an
    order change the connected shop cannot make: actions/orders.py `person_instead`)."""
    turns: list[str | None] = [None]
    for event in tracker.events:
        if event.get("event") == "user":
            turns.append(None)
        elif event.get("event") == "slot" and event.get("name") == Slot.HANDOFF_REASON:
            value = event.get("value")
            turns[-1] = str(value) if value else None
    return turns[-2] if len(turns) >= 2 else None


def handoff_reason(tracker: Tracker) -> str:
    """Why a person is needed: what led to the offer the shopper accepted, else they asked."""
    actions = previous_turn_actions(tracker)
    if Action.ACTION_OFFER_HUMAN in actions and (given := reason_given_last_turn(tracker)):
        return given
    if Action.ACTION_OFFER_HUMAN in actions:
        offered = actions.index(Action.ACTION_OFFER_HUMAN)
        for name in reversed(actions[:offered]):
            if name in HANDOFF_REASONS:
                return HANDOFF_REASONS[name]
    return ASKED_FOR_A_PERSON


def said_support_is_closed(dispatcher: CollectingDispatcher) -> bool:
    """Outside the shop's support hours, say when someone is back and offer a message or the
    bot, and answer True; inside them (or with no hours set, or unreadable settings) False."""
    try:
        hours = policies().support.business_hours
    except ShopSettingsError:
        return False
    now = utc_now()
    if hours is None or hours.is_open(now):
        return False
    opening = hours.next_opening_words(now)
    if opening is None:
        dispatcher.utter_message(response=NO_OPENING_REPLY, buttons=MESSAGE_OR_BOT_BUTTONS)
    elif opening.day in CLOSED_SOON_REPLIES:
        dispatcher.utter_message(
            response=CLOSED_SOON_REPLIES[opening.day],
            buttons=MESSAGE_OR_BOT_BUTTONS,
            time=opening.time_words,
        )
    else:
        dispatcher.utter_message(
            response=CLOSED_LATER_REPLY,
            buttons=MESSAGE_OR_BOT_BUTTONS,
            day=opening.day_words,
            time=opening.time_words,
        )
    return True


class ActionOfferHuman(RasaAction):
    """The question whose yes or no the rules follow (rules.yml: accept or decline a person).
    Outside support hours there is no person to offer: the closed reply replaces it."""

    def name(self) -> str:
        return Action.ACTION_OFFER_HUMAN

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if said_support_is_closed(dispatcher):
            return []
        dispatcher.utter_message(response="utter_offer_human", buttons=OFFER_BUTTONS)
        return []


class ActionHandoff(RasaAction):
    def name(self) -> str:
        return Action.ACTION_HANDOFF

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if said_support_is_closed(dispatcher):
            # no handoff recorded: nobody would take it; the form asked in, if any, stops
            return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        reason = handoff_reason(tracker)
        try:
            with catalog_session() as session:
                handoffs.request(session, conversation_id(tracker), reason)
        except SQLAlchemyError:
            return self._unavailable(dispatcher)
        try:
            support = policies().support
        except ShopSettingsError:
            dispatcher.utter_message(response="utter_handoff_requested_soon")
        else:
            dispatcher.utter_message(
                response="utter_handoff_requested",
                wait_minutes=support.handoff_wait_minutes,
                hours=support.hours,
            )
        return [
            ActiveLoop(None),
            SlotSet(REQUESTED_SLOT, None),
            SlotSet(Slot.HANDOFF_STATUS, HandoffStatus.WAITING),
            SlotSet(Slot.HANDOFF_REASON, reason),
            ConversationPaused(),
        ]

    @staticmethod
    def _unavailable(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
        try:
            support = policies().support
        except ShopSettingsError:
            dispatcher.utter_message(response="utter_support_unreachable_contact_page")
        else:
            dispatcher.utter_message(
                response="utter_support_unreachable",
                support_email=support.email,
                support_phone=support.phone,
            )
        return []


class ActionNoHuman(RasaAction):
    def name(self) -> str:
        return Action.ACTION_NO_HUMAN

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_no_human")
        return []


class ActionFallback(RasaAction):
    """Two stages: ask to rephrase; if the next message is not understood either, offer a
    person. Inside a form, Rasa runs the form again after the first stage, which repeats its
    question; the second stage leaves the form. Outside a form, a message that plainly names
    products or filters is searched instead (actions/inform.py `as_shopping`)."""

    def name(self) -> str:
        return Action.ACTION_FALLBACK

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not in_form(tracker):
            # a shopper's fragment the classifier was unsure of: "hoodie", "under 30 bucks"
            shopping = as_shopping(dispatcher, tracker, domain)
            if shopping is not None:
                return shopping
        if self.name() in previous_turn_actions(tracker):
            dispatcher.utter_message(response="utter_still_not_understood")
            stop = [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)] if in_form(tracker) else []
            return [*stop, FollowupAction(Action.ACTION_OFFER_HUMAN)]
        dispatcher.utter_message(response="utter_rephrase")
        return []


class ActionStop(RasaAction):
    """ "No" or "never mind" outside a yes/no question: stop the current task, if any."""

    def name(self) -> str:
        return Action.ACTION_STOP

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if in_form(tracker):
            dispatcher.utter_message(response="utter_task_stopped")
            return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), *clear_task_slots()]
        dispatcher.utter_message(response="utter_nothing_to_stop")
        return []


TIMEOUT_BUTTONS: Final = [
    {"title": "Carry on with the assistant", "payload": "/continue_with_bot"},
    {"title": "Leave a message", "payload": "/leave_message"},
]
EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ActionHandoffTimeout(RasaAction):
    """Triggered by the web server (web/hub.py) when no agent took the handoff in time; the
    conversation is already resumed."""

    def name(self) -> str:
        return Action.ACTION_HANDOFF_TIMEOUT

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_handoff_timed_out", buttons=TIMEOUT_BUTTONS)
        return [SlotSet(Slot.HANDOFF_STATUS, None)]


class ValidateLeaveMessageForm(FormValidationAction):
    """The message, then where to answer it: a shopper who proved an order is not asked."""

    def name(self) -> str:
        return Action.VALIDATE_LEAVE_MESSAGE_FORM

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL):
            return [slot for slot in domain_slots if slot != Slot.CONTACT_EMAIL]
        return domain_slots

    def extract_message_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, Slot.MESSAGE_TEXT, narrative=True)
        return {Slot.MESSAGE_TEXT: text} if text else {}

    def extract_contact_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not is_asked(tracker, Slot.CONTACT_EMAIL):
            return {}
        found = entity_value(tracker, Entity.EMAIL) or latest_text(tracker)
        return {Slot.CONTACT_EMAIL: str(found).strip()} if found else {}

    def validate_contact_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        address = str(value).strip().lower()
        if not EMAIL.match(address) or len(address) > 255:
            dispatcher.utter_message(response="utter_contact_email_invalid")
            return {Slot.CONTACT_EMAIL: None}
        return {Slot.CONTACT_EMAIL: address}


class ActionLeaveMessage(RasaAction):
    def name(self) -> str:
        return Action.ACTION_LEAVE_MESSAGE

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        email = tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL) or tracker.get_slot(
            Slot.CONTACT_EMAIL
        )
        try:
            with catalog_session() as session:
                message = leave_message(
                    session,
                    conversation_id(tracker),
                    email,
                    str(tracker.get_slot(Slot.MESSAGE_TEXT) or ""),
                )
                reference = f"M-{message.id}"
        except SQLAlchemyError:
            return ActionHandoff._unavailable(dispatcher)
        dispatcher.utter_message(
            response="utter_message_left", reference=reference, reply_to=str(email)
        )
        return [SlotSet(Slot.MESSAGE_TEXT, None)]
