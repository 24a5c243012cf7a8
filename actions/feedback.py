"""What shoppers tell the shop: complaints (recorded, with a person offered), product
reviews (stored for moderation before they are shown) and the end-of-chat rating (kept in the
tracker as the `conversation_rating` slot, which the shop's analytics read)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import catalog_failure, catalog_session
from actions.forms import conversation_id, free_text, is_asked, latest_text
from actions.product_details import resolve_product
from actions.search_state import FOCUS_SLOT
from catalog.recommend import product_by_sku
from catalog.search import SearchRequest, search
from catalog.support import record_complaint, store_review

RATING_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
RATING = re.compile(r"\b([1-5])\b|\b(one|two|three|four|five)\b", re.IGNORECASE)
MIN_WORDS = 2


class ValidateComplaintForm(FormValidationAction):
    def name(self) -> str:
        return "validate_complaint_form"

    def extract_complaint_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, "complaint_text", narrative=True)
        return {"complaint_text": text} if text else {}

    def validate_complaint_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if len(str(value).split()) < MIN_WORDS:
            dispatcher.utter_message(text="Could you tell me a little more about what happened?")
            return {"complaint_text": None}
        return {"complaint_text": str(value)}


class ActionSubmitComplaint(Action):
    def name(self) -> str:
        return "action_submit_complaint"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            with catalog_session() as session:
                complaint = record_complaint(
                    session,
                    conversation_id(tracker),
                    str(tracker.get_slot("complaint_text") or ""),
                    email=tracker.get_slot("verified_customer_email"),
                    order_number=tracker.get_slot("verified_order_number"),
                )
                session.flush()
                reference = f"C-{complaint.id}"
        except SQLAlchemyError:
            return catalog_failure(dispatcher)
        dispatcher.utter_message(
            text=f"I'm sorry this happened. I've recorded your complaint (reference {reference}) "
            "for our customer service team."
        )
        return [SlotSet("complaint_text", None)]  # rules.yml then offers a person


def rating_in(text: str) -> int | None:
    match = RATING.search(text)
    if not match:
        return None
    return int(match.group(1)) if match.group(1) else RATING_WORDS[match.group(2).lower()]


class ValidateReviewForm(FormValidationAction):
    def name(self) -> str:
        return "validate_review_form"

    def extract_review_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("review_product"):
            return {}
        try:
            with catalog_session() as session:
                product = resolve_product(session, tracker)
                if product is None and is_asked(tracker, "review_product"):
                    text = free_text(tracker, "review_product")
                    hits = search(session, SearchRequest(text=text, limit=1)).hits if text else []
                    product = product_by_sku(session, hits[0].sku) if hits else None
                return {"review_product": product.sku} if product else {}
        except SQLAlchemyError:
            return {}

    def extract_review_rating(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if not is_asked(tracker, "review_rating"):
            return {}
        rating = rating_in(latest_text(tracker))
        return {"review_rating": float(rating)} if rating else {}

    def extract_review_text(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = free_text(tracker, "review_text", narrative=True)
        return {"review_text": text} if text else {}


class ActionAskReviewProduct(Action):
    def name(self) -> str:
        return "action_ask_review_product"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="Which product would you like to review? Type its name.")
        return []


class ActionAskReviewRating(Action):
    def name(self) -> str:
        return "action_ask_review_rating"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        name = ""
        try:
            with catalog_session() as session:
                product = product_by_sku(session, str(tracker.get_slot("review_product")))
                name = f" {product.name}" if product else ""
        except SQLAlchemyError:
            pass
        dispatcher.utter_message(
            text=f"How many stars, from 1 to 5, would you give the{name or ' product'}?",
            buttons=[{"title": "★" * n, "payload": str(n)} for n in range(5, 0, -1)],
        )
        return []


class ActionSubmitReview(Action):
    def name(self) -> str:
        return "action_submit_review"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        clear = [SlotSet(s, None) for s in ("review_product", "review_rating", "review_text")]
        sku = str(tracker.get_slot("review_product") or "")
        try:
            with catalog_session() as session:
                product = product_by_sku(session, sku)
                if product is None:
                    dispatcher.utter_message(text="Sorry, I couldn't find that product any more.")
                    return clear
                text = str(tracker.get_slot("review_text") or "")
                store_review(
                    session,
                    product,
                    rating=int(tracker.get_slot("review_rating") or 0),
                    title=" ".join(text.split()[:8]),
                    text=text,
                    reviewer="Shopper",
                    conversation_id=conversation_id(tracker),
                )
                name = product.name
        except (SQLAlchemyError, ValueError):
            return catalog_failure(dispatcher)
        dispatcher.utter_message(
            text=f"Thank you! Your review of {name} will appear on the product page once our "
            "team has checked it."
        )
        return [*clear, SlotSet(FOCUS_SLOT, sku)]


class ActionRecordRating(Action):
    """utter_goodbye's buttons send `/rate_conversation{"conversation_rating": N}`."""

    def name(self) -> str:
        return "action_record_rating"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        given = next(tracker.get_latest_entity_values("conversation_rating"), None)
        rating = rating_in(str(given) if given is not None else latest_text(tracker))
        if rating is None:
            dispatcher.utter_message(text="Sorry, a rating is a whole number from 1 to 5.")
            return []
        dispatcher.utter_message(text="Thank you for rating this chat! Goodbye.")
        return [SlotSet("conversation_rating", float(rating))]
