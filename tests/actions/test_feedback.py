"""Complaints are recorded with what the conversation knows; reviews wait for moderation."""

from __future__ import annotations

from sqlalchemy import select

from actions.feedback import (
    ActionRecordRating,
    ActionSubmitComplaint,
    ActionSubmitReview,
    ValidateReviewForm,
    rating_in,
)
from catalog.db import session_scope
from catalog.models import Complaint, Review
from tests.actions.test_orders import run, verified


def test_ratings_in_words_digits_and_stars() -> None:
    assert rating_in("5") == 5
    assert rating_in("four stars") == 4
    assert rating_in("I'd give it 3 out of 5") == 3
    assert rating_in("ten") is None


def test_a_complaint_is_recorded_with_the_verified_order(order_book_env, tracker_from) -> None:
    tracker = verified(tracker_from, "000000101", complaint_text="The parcel arrived torn open")
    [text], events = run(ActionSubmitComplaint(), tracker)
    assert text.startswith("I'm sorry this happened. I've recorded your complaint (reference C-")
    assert events == [{"event": "slot", "timestamp": None, "name": "complaint_text", "value": None}]
    with session_scope(order_book_env) as session:
        [complaint] = session.scalars(select(Complaint)).all()
        assert complaint.text == "The parcel arrived torn open"
        assert (complaint.order_number, complaint.email) == (
            "000000101",
            "james.nguyen@example.net",
        )


def test_a_review_is_stored_pending_moderation(order_book_env, tracker_from) -> None:
    slots = {"review_product": "WT09", "review_rating": 5.0, "review_text": "Soft and cool"}
    [text], _ = run(ActionSubmitReview(), tracker_from("order_form", slots=slots))
    assert text.startswith("Thank you! Your review of Breathe-Easy Tank will appear")
    with session_scope(order_book_env) as session:
        review = session.scalars(select(Review).where(Review.status == "pending")).one()
        assert (review.rating, review.text) == (5, "Soft and cool")


def test_the_product_to_review_is_found_by_its_name(order_book_env, tracker_from) -> None:
    from rasa_sdk.executor import CollectingDispatcher

    tracker = tracker_from(
        "order_form", slots={"requested_slot": "review_product"}, text="Breathe-Easy Tank"
    )
    found = ValidateReviewForm().extract_review_product(CollectingDispatcher(), tracker, {})
    assert found == {"review_product": "WT09"}


def test_the_end_of_chat_rating_is_kept_in_the_tracker(tracker_from) -> None:
    """utter_goodbye's buttons send the rating as an entity; the analytics read the slot."""
    tracker = tracker_from(
        "order_form",
        text='/rate_conversation{"conversation_rating": 4}',
        intent={"name": "rate_conversation", "confidence": 1.0},
        entities=[{"entity": "conversation_rating", "value": 4}],
    )
    [text], events = run(ActionRecordRating(), tracker)
    assert text == "Thank you for rating this chat! Goodbye."
    assert events == [
        {"event": "slot", "timestamp": None, "name": "conversation_rating", "value": 4.0}
    ]


def test_a_rating_outside_one_to_five_is_refused_politely(tracker_from) -> None:
    for value in (9, "lots", 0):
        tracker = tracker_from(
            "order_form",
            text=f'/rate_conversation{{"conversation_rating": {value!r}}}',
            intent={"name": "rate_conversation", "confidence": 1.0},
            entities=[{"entity": "conversation_rating", "value": value}],
        )
        [text], events = run(ActionRecordRating(), tracker)
        assert (text, events) == ("Sorry, a rating is a whole number from 1 to 5.", [])
