"""What shoppers tell the shop: complaints (recorded, with a person offered), product
reviews (stored for moderation before they are shown) and the end-of-chat rating (kept in the
tracker as the `conversation_rating` slot, which the shop's analytics read)."""

from __future__ import annotations

import re
from typing import Any, Final

from rasa_sdk import Action as RasaAction
from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import apologise_if_catalog_down, catalog_failure, catalog_session
from actions.contract import Action, Entity, Slot
from actions.forms import conversation_id, free_text, is_asked, latest_text
from actions.product_details import resolve_product
from catalog.recommend import product_by_sku
from catalog.search import SearchRequest, search
from catalog.support import record_complaint, store_review

RATING_WORDS: Final = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
RATING: Final = re.compile(r"\b([1-5])\b|\b(one|two|three|four|five)\b", re.IGNORECASE)
MIN_WORDS: Final = 2
REVIEW_SLOTS: Final = (Slot.REVIEW_PRODUCT, Slot.REVIEW_RATING, Slot.REVIEW_TEXT)


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return Action.VALIDATE_COMPLAINT_FORM

    def extract_complaint_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, Slot.COMPLAINT_TEXT, narrative=True)
        return {Slot.COMPLAINT_TEXT: text} if text else {}

    def validate_complaint_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if len(str(value).split()) < MIN_WORDS:
            dispatcher.utter_message(response="utter_complaint_too_short")
            return {Slot.COMPLAINT_TEXT: None}
        return {Slot.COMPLAINT_TEXT: str(value)}


class ActionSubmitComplaint(RasaAction):
    def name(self) -> str:
        return Action.ACTION_SUBMIT_COMPLAINT

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        with catalog_session() as session:
            complaint = record_complaint(
                session,
                conversation_id(tracker),
                str(tracker.get_slot(Slot.COMPLAINT_TEXT) or ""),
                email=tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL),
                order_number=tracker.get_slot(Slot.VERIFIED_ORDER_NUMBER),
            )
            session.flush()
            reference = f"C-{complaint.id}"
        dispatcher.utter_message(response="utter_complaint_recorded", reference=reference)
        return [SlotSet(Slot.COMPLAINT_TEXT, None)]  # rules.yml then offers a person


def rating_in(text: str) -> int | None:
    match = RATING.search(text)
    if not match:
        return None
    return int(match.group(1)) if match.group(1) else RATING_WORDS[match.group(2).lower()]


class ValidateReviewForm(FormValidationAction):
    def name(self) -> str:
        return Action.VALIDATE_REVIEW_FORM

    def extract_review_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot(Slot.REVIEW_PRODUCT):
            return {}
        try:
            with catalog_session() as session:
                product = resolve_product(session, tracker)
                if product is None and is_asked(tracker, Slot.REVIEW_PRODUCT):
                    text = free_text(tracker, Slot.REVIEW_PRODUCT)
                    hits = search(session, SearchRequest(text=text, limit=1)).hits if text else []
                    product = product_by_sku(session, hits[0].sku) if hits else None
                return {Slot.REVIEW_PRODUCT: product.sku} if product else {}
        except SQLAlchemyError:
            return {}

    def extract_review_rating(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not is_asked(tracker, Slot.REVIEW_RATING):
            return {}
        rating = rating_in(latest_text(tracker))
        return {Slot.REVIEW_RATING: float(rating)} if rating else {}

    def extract_review_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, Slot.REVIEW_TEXT, narrative=True)
        return {Slot.REVIEW_TEXT: text} if text else {}


class ActionAskReviewProduct(RasaAction):
    def name(self) -> str:
        return Action.ACTION_ASK_REVIEW_PRODUCT

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_which_review_product")
        return []


class ActionAskReviewRating(RasaAction):
    def name(self) -> str:
        return Action.ACTION_ASK_REVIEW_RATING

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        name = ""
        try:
            with catalog_session() as session:
                product = product_by_sku(session, str(tracker.get_slot(Slot.REVIEW_PRODUCT)))
                name = product.name if product else ""
        except SQLAlchemyError:
            pass  # the question still makes sense without the product's name
        stars = [{"title": "★" * n, "payload": str(n)} for n in range(5, 0, -1)]
        if name:
            dispatcher.utter_message(
                response="utter_review_rating_question", product=name, buttons=stars
            )
        else:
            dispatcher.utter_message(response="utter_review_rating_question_any", buttons=stars)
        return []


class ActionSubmitReview(RasaAction):
    def name(self) -> str:
        return Action.ACTION_SUBMIT_REVIEW

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        clear = [SlotSet(slot, None) for slot in REVIEW_SLOTS]
        sku = str(tracker.get_slot(Slot.REVIEW_PRODUCT) or "")
        try:
            with catalog_session() as session:
                product = product_by_sku(session, sku)
                if product is None:
                    dispatcher.utter_message(response="utter_review_product_gone")
                    return clear
                text = str(tracker.get_slot(Slot.REVIEW_TEXT) or "")
                store_review(
                    session,
                    product,
                    rating=int(tracker.get_slot(Slot.REVIEW_RATING) or 0),
                    title=" ".join(text.split()[:8]),
                    text=text,
                    reviewer="Shopper",
                    conversation_id=conversation_id(tracker),
                )
                name = product.name
        except ValueError:  # a rating store_review refuses: the session rolls back
            return catalog_failure(dispatcher)
        dispatcher.utter_message(response="utter_review_thanks", product=name)
        return [*clear, SlotSet(Slot.FOCUSED_PRODUCT, sku)]


class ActionRecordRating(RasaAction):
    """utter_goodbye's buttons send `/rate_conversation{"conversation_rating": N}`."""

    def name(self) -> str:
        return Action.ACTION_RECORD_RATING

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        given = next(tracker.get_latest_entity_values(Entity.CONVERSATION_RATING), None)
        rating = rating_in(str(given) if given is not None else latest_text(tracker))
        if rating is None:
            dispatcher.utter_message(response="utter_rating_invalid")
            return []
        dispatcher.utter_message(response="utter_rating_thanks")
        return [SlotSet(Slot.CONVERSATION_RATING, float(rating))]
