"""A person: the handoff is recorded and pauses the conversation; two-stage fallback; stop."""

from __future__ import annotations

from typing import Any

from rasa_sdk.events import ActiveLoop, ConversationPaused, FollowupAction, SlotSet
from sqlalchemy import select

from actions.handoff import (
    REPHRASE_TEXT,
    ActionFallback,
    ActionHandoff,
    ActionStop,
    handoff_reason,
)
from catalog.db import session_scope
from catalog.models import Handoff
from tests.actions.test_orders import run


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "…", "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def test_asking_for_a_person_records_a_waiting_handoff_and_pauses(
    order_book_env, tracker_from
) -> None:
    [text], events = run(ActionHandoff(), tracker_from("order_form"))
    assert text.startswith("I've asked a person from our support team to join this chat.")
    assert events[-2:] == [SlotSet("handoff_status", "waiting"), ConversationPaused()]
    assert ActiveLoop(None) in events
    with session_scope(order_book_env) as session:
        [handoff] = session.scalars(select(Handoff)).all()
        assert (handoff.conversation_id, handoff.status) == ("shopper-orders-1", "waiting")
        assert handoff.reason == "asked for a person"


def test_the_reason_is_what_led_to_the_offer(tracker_from) -> None:
    tracker = tracker_from("order_form")
    tracker.events = [
        user("complaint"),
        action("complaint_form"),
        user("inform"),
        action("complaint_form"),
        action("action_submit_complaint"),
        action("action_offer_human"),
        action("action_listen"),
        user("affirm"),
    ]
    assert handoff_reason(tracker) == "complaint"


def test_the_fallback_asks_to_rephrase_then_offers_a_person(tracker_from) -> None:
    tracker = tracker_from("order_form", active_loop={})
    tracker.active_loop = {}
    tracker.events = [user("nlu_fallback")]
    [first], events = run(ActionFallback(), tracker)
    assert (first, events) == (REPHRASE_TEXT, [])
    tracker.events = [user("nlu_fallback"), action("action_fallback"), user("nlu_fallback")]
    [second], events = run(ActionFallback(), tracker)
    assert second == "I'm sorry, I still don't understand."
    assert events == [FollowupAction("action_offer_human")]


def test_the_second_fallback_in_a_form_leaves_the_form(tracker_from) -> None:
    tracker = tracker_from("order_form")
    tracker.events = [user("nlu_fallback"), action("action_fallback"), action("track_order_form"),
                      user("nlu_fallback")]  # fmt: skip
    _, events = run(ActionFallback(), tracker)
    assert events[0] == ActiveLoop(None) and events[-1] == FollowupAction("action_offer_human")


def test_no_stops_the_form_and_forgets_its_answers(tracker_from) -> None:
    [text], events = run(ActionStop(), tracker_from("order_form", slots={"street": "1 Main St"}))
    assert text.startswith("OK, I've stopped that.")
    assert ActiveLoop(None) in events and SlotSet("street", None) in events
    tracker = tracker_from("order_form")
    tracker.active_loop = {}
    [text], events = run(ActionStop(), tracker)
    assert (text, events) == ("OK. Is there anything else I can help you with?", [])
