"""A person: the handoff is recorded and pauses the conversation; two-stage fallback; stop."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk.events import ActiveLoop, ConversationPaused, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.handoff import (
    TIMEOUT_BUTTONS,
    ActionFallback,
    ActionHandoff,
    ActionHandoffTimeout,
    ActionLeaveMessage,
    ActionStop,
    ValidateLeaveMessageForm,
    handoff_reason,
)
from catalog.db import session_scope
from catalog.models import Handoff, SupportMessage
from tests.actions.render import render, template
from tests.actions.test_orders import run, verified


def user(intent: str) -> dict[str, Any]:
    return {"event": "user", "text": "…", "parse_data": {"intent": {"name": intent}}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


def test_asking_for_a_person_records_a_waiting_handoff_and_pauses(
    order_book_env, tracker_from
) -> None:
    [text], events = run(ActionHandoff(), tracker_from("order_form"))
    assert text.startswith("I've asked a person from our support team to join this chat.")
    assert events[-3:] == [
        SlotSet("handoff_status", "waiting"),
        SlotSet("handoff_reason", "asked for a person"),  # for the shop's analytics
        ConversationPaused(),
    ]
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
    assert (first, events) == (template("utter_rephrase"), [])
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


def test_a_timed_out_handoff_offers_to_carry_on_or_leave_a_message(tracker_from) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionHandoffTimeout().run(dispatcher, tracker_from("order_form"), {})
    [message] = dispatcher.messages
    assert render(message).startswith("I'm sorry, no one from our support team is free right now.")
    assert message["buttons"] == TIMEOUT_BUTTONS
    assert events == [SlotSet("handoff_status", None)]


def test_a_message_left_for_the_team_is_kept_with_the_address_to_answer(
    order_book_env, tracker_from
) -> None:
    slots = {"message_text": "Please call me back", "contact_email": "pat@example.org"}
    [text], events = run(ActionLeaveMessage(), tracker_from("order_form", slots=slots))
    assert text.startswith("Thank you. I've passed your message to our support team (reference M-")
    assert "pat@example.org" in text
    assert events == [SlotSet("message_text", None)]
    with session_scope(order_book_env) as session:
        [kept] = session.scalars(select(SupportMessage)).all()
        assert (kept.text, kept.email, kept.status) == (
            "Please call me back",
            "pat@example.org",
            "new",
        )


def test_a_shopper_who_proved_an_order_is_not_asked_for_an_e_mail(tracker_from) -> None:
    form = ValidateLeaveMessageForm()
    slots = ["message_text", "contact_email"]

    def required(tracker: Any) -> list[str]:
        return asyncio.run(form.required_slots(slots, CollectingDispatcher(), tracker, {}))

    assert required(verified(tracker_from, "000000101")) == ["message_text"]
    assert required(tracker_from("order_form")) == slots


def test_an_e_mail_that_is_not_one_is_asked_again(tracker_from) -> None:
    dispatcher = CollectingDispatcher()
    form = ValidateLeaveMessageForm()
    tracker = tracker_from("order_form")
    assert form.validate_contact_email("not an address", dispatcher, tracker, {}) == {
        "contact_email": None
    }
    assert "doesn't look like an e-mail address" in render(dispatcher.messages[0])
    assert form.validate_contact_email(" Pat@Example.org ", dispatcher, tracker, {}) == {
        "contact_email": "pat@example.org"
    }


def test_out_of_scope_right_after_a_fallback_offers_a_person(tracker_from, catalog_env) -> None:
    from actions.shop_answers import ActionShopAnswer

    tracker = tracker_from(
        "order_form",
        text="zzzkkk fnord",
        intent={"name": "out_of_scope", "confidence": 0.9},
        entities=[],
    )
    tracker.active_loop = {}
    tracker.events = [user("nlu_fallback"), action("action_fallback"), user("out_of_scope")]
    [said], events = run(ActionShopAnswer(), tracker)
    assert said == "I'm sorry, I still don't understand."
    assert events == [FollowupAction("action_offer_human")]
    tracker.events = [user("greet"), action("utter_greet"), user("out_of_scope")]
    [said], _ = run(ActionShopAnswer(), tracker)
    assert said.startswith("Sorry, I can't help with that.")
