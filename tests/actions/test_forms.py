"""Free-text answers: taken when asked, unless the shopper clearly changed the topic."""

from __future__ import annotations

from collections.abc import Callable

from rasa_sdk import Tracker

from actions.forms import free_text


def message(tracker_from: Callable[..., Tracker], text: str, intent: str, confidence: float,
            asked: str = "street") -> Tracker:  # fmt: skip
    return tracker_from(
        "order_form",
        slots={"requested_slot": asked},
        text=text,
        intent={"name": intent, "confidence": confidence},
    )


def test_an_answer_is_taken_only_for_the_slot_asked(tracker_from) -> None:
    tracker = message(tracker_from, "350 Fifth Avenue", "inform", 0.9)
    assert free_text(tracker, "street") == "350 Fifth Avenue"
    assert free_text(tracker, "city") is None


def test_a_confident_other_request_is_not_an_answer(tracker_from) -> None:
    question = message(tracker_from, "how long does delivery take?", "delivery_period", 0.95)
    assert free_text(question, "street") is None
    unsure = message(tracker_from, "Calder", "delivery_period", 0.6)
    assert free_text(unsure, "street") == "Calder"


def test_a_narrative_takes_statements_whatever_their_intent(tracker_from) -> None:
    late = message(tracker_from, "my parcel came two weeks late", "track_order", 0.9,
                   asked="complaint_text")  # fmt: skip
    assert free_text(late, "complaint_text", narrative=True) == "my parcel came two weeks late"
    asked = message(tracker_from, "where is my order?", "track_order", 0.9, asked="complaint_text")
    assert free_text(asked, "complaint_text", narrative=True) is None


def test_button_payloads_are_not_free_text(tracker_from) -> None:
    assert free_text(message(tracker_from, "/affirm", "affirm", 1.0), "street") is None


def test_never_mind_is_not_an_answer_even_to_a_narrative(tracker_from) -> None:
    stop = message(tracker_from, "never mind", "deny", 0.95, asked="complaint_text")
    assert free_text(stop, "complaint_text", narrative=True) is None


def test_a_weak_no_stops_an_address_but_may_be_a_narrative(tracker_from) -> None:
    never_mind = message(tracker_from, "never mind", "deny", 0.6)
    assert free_text(never_mind, "street") is None
    reason = message(tracker_from, "don't need it any more", "deny", 0.6, asked="return_reason")
    assert free_text(reason, "return_reason", narrative=True) == "don't need it any more"
