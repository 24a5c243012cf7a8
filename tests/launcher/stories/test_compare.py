"""launcher.stories.compare: comparing stories with the tracker events Rasa 3.6 really logs.

The events come from tests/launcher/stories/fixtures/rasa_3_6_trackers.json, captured from a live
stack (GET /conversations/{sender}/tracker?include_events=ALL); a few tests change a copy.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from actions.contract import IGNORED_ACTIONS
from launcher.stories.compare import (
    Divergence,
    compare_turn,
    executed_actions,
    observe_turn,
    turn_events,
)
from launcher.stories.parse import Turn, parse_stories
from launcher.stories.play import reply_texts

FIXTURE = Path(__file__).parent / "fixtures" / "rasa_3_6_trackers.json"
Event = dict[str, Any]


@cache
def _captured() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())["conversations"]
    return data


def events_of(name: str) -> list[Event]:
    return copy.deepcopy(_captured()[name]["tracker"]["events"])


def turns_of(name: str) -> list[list[Event]]:
    """The conversation's events cut at each user message, as the runner sees each turn."""
    events = events_of(name)
    starts = [i for i, e in enumerate(events) if e["event"] == "user"]
    ends = [*starts[1:], len(events)]
    return [events[s:e] for s, e in zip(starts, ends, strict=True)]


def replies_of(name: str) -> list[list[str]]:
    return [reply_texts(r) for r in _captured()[name]["replies"]]


def story(steps: str) -> list[Turn]:
    body = "\n".join(f"      {line}" for line in steps.strip().splitlines())
    [parsed] = parse_stories(f"stories:\n  - story: s\n    steps:\n{body}\n", "t.yml")
    return parsed.turns()


def first_divergence(name: str, steps: str) -> Divergence | None:
    """Compare the story turn by turn with the captured conversation, as play_story does."""
    for turn, events, replies in zip(story(steps), turns_of(name), replies_of(name), strict=False):
        if (found := compare_turn(turn, events, replies)) is not None:
            return found
    return None


def message_of(name: str, steps: str) -> str:
    found = first_divergence(name, steps)
    assert found is not None, "expected a divergence"
    return found.message


GREET_GOODBYE = """
- user: hello
  intent: greet
- action: utter_greet
- user: bye
  intent: goodbye
- action: utter_goodbye
"""

ORDER_FORM = """
- user: where is my order?
  intent: track_order
- action: track_order_form
- active_loop: track_order_form
- slot_was_set:
    - requested_slot: order_number
- user: "[000000002](order_number)"
  intent: inform
- slot_was_set:
    - order_number: "000000002"
- action: track_order_form
- slot_was_set:
    - requested_slot: email
- user: roni_cost@example.com
  intent: inform
  entities:
    - email: roni_cost@example.com
- action: track_order_form
- slot_was_set:
    - verified_customer_email: roni_cost@example.com
    - requested_slot: null
- active_loop: null
- action: action_order_status
- user: bye
  intent: goodbye
- action: utter_goodbye
"""


def test_the_fixture_is_what_rasa_logs_and_the_runner_ignores_its_bookkeeping() -> None:
    events = events_of("greet_goodbye")
    assert [e["event"] for e in events[:4]] == ["action", "session_started", "action", "user"]
    assert {e["name"] for e in events if e["event"] == "action"} >= {
        "action_session_start",
        "action_listen",
    }
    assert "action_extract_slots" not in {e.get("name") for e in events}  # not logged by 3.6
    assert turn_events(events)[0]["text"] == "hello"
    assert executed_actions(events) == ["utter_greet", "utter_goodbye"]
    assert not IGNORED_ACTIONS & set(executed_actions(events_of("order_form")))


def test_stories_that_tell_what_happened_pass() -> None:
    assert first_divergence("greet_goodbye", GREET_GOODBYE) is None
    assert first_divergence("order_form", ORDER_FORM) is None


def test_a_wrong_action_names_the_step_the_message_and_the_replies() -> None:
    found = first_divergence(
        "greet_goodbye", GREET_GOODBYE.replace("action: utter_goodbye", "action: utter_greet")
    )
    assert found is not None
    assert found.message == "expected action utter_greet, got utter_goodbye"
    assert (found.step, found.kind, found.user) == (4, "action", "bye")
    assert (found.expected, found.actual) == ("utter_greet", "utter_goodbye")
    assert found.replies == tuple(replies_of("greet_goodbye")[1])


def test_a_wrong_intent_shows_the_confidence() -> None:
    found = first_divergence("greet_goodbye", GREET_GOODBYE.replace("greet\n", "goodbye\n", 1))
    assert found is not None and (found.step, found.kind) == (1, "intent")
    assert found.message == "expected intent goodbye, got greet (0.98)"


def test_nlu_fallback_says_what_the_classifier_thought() -> None:
    [events] = turns_of("nonsense")
    parse = events[0]["parse_data"]
    parse["intent"] = {"name": "nlu_fallback", "confidence": 0.5}
    parse["intent_ranking"].insert(0, {"name": "nlu_fallback", "confidence": 0.5})
    [turn] = story("- user: qwzx blorp vrrk\n  intent: out_of_scope")
    found = compare_turn(turn, events)
    assert found is not None
    assert found.message == (
        "expected intent out_of_scope, got nlu_fallback (0.50); "
        "the classifier's best was out_of_scope (0.72)"
    )


def test_missing_and_extra_actions() -> None:
    assert message_of("greet_goodbye", GREET_GOODBYE + "- action: action_offer_more\n") == (
        "expected action action_offer_more, got none (the bot's last action was utter_goodbye)"
    )
    found = first_divergence("greet_goodbye", "- user: hello\n  intent: greet")
    assert found is not None and found.step == 1
    assert found.message == "expected no further action after step 1, got utter_greet"


def test_ignored_actions_in_a_story_are_skipped() -> None:
    steps = "- action: action_session_start\n" + GREET_GOODBYE + "- action: action_listen\n"
    assert first_divergence("greet_goodbye", steps) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('order_number: "000000002"', 'order_number: "000000001"'),
            "expected slot order_number='000000001', got '000000002'",
        ),
        (
            ('order_number: "000000002"', "order_number: 000000002"),
            "expected slot order_number=2, got '000000002' (the story's value is not text: quote "
            'it in the YAML, e.g. "000000001")',
        ),
        (
            ("requested_slot: email", "requested_slot: email\n    - email"),
            "expected slot email set, got not set",
        ),
        (
            ("requested_slot: email", "requested_slot: email\n    - verification_failures: 0"),
            "expected slot verification_failures=0, got not set",
        ),
    ],
)
def test_slot_expectations(change: tuple[str, str], message: str) -> None:
    assert message_of("order_form", ORDER_FORM.replace(*change)) == message


def test_a_slot_must_be_set_between_the_actions_around_it() -> None:
    moved = ORDER_FORM.replace(
        "    - verified_customer_email: roni_cost@example.com\n", ""
    ).replace(
        "    - email: roni_cost@example.com\n",
        "    - email: roni_cost@example.com\n"
        "- slot_was_set:\n    - verified_customer_email: roni_cost@example.com\n",
    )
    found = first_divergence("order_form", moved)
    assert found is not None and (found.step, found.kind) == (10, "slot")
    assert found.message == (
        "expected slot verified_customer_email='roni_cost@example.com', got not set after the "
        "user message and before track_order_form (it was set to 'roni_cost@example.com' after "
        "track_order_form and before action_order_status)"
    )


def test_a_slot_set_twice_in_a_stretch_matches_either_value() -> None:
    """The form re-emits the extracted slot; a story may name either place."""
    assert first_divergence("order_form", ORDER_FORM.replace(
        '- slot_was_set:\n    - order_number: "000000002"\n- action: track_order_form',
        '- action: track_order_form\n- slot_was_set:\n    - order_number: "000000002"',
    )) is None  # fmt: skip


def test_active_loop_expectations() -> None:
    steps = ORDER_FORM.replace("- active_loop: track_order_form", "- active_loop: null")
    assert message_of("order_form", steps) == (
        "expected active_loop null (the loop deactivated), got track_order_form"
    )
    steps = GREET_GOODBYE.replace(
        "- action: utter_greet", "- action: utter_greet\n- active_loop: track_order_form"
    )
    assert message_of("greet_goodbye", steps) == (
        "expected active_loop track_order_form, got no loop change after utter_greet"
    )
    steps = ORDER_FORM.replace("- active_loop: null", "- active_loop: return_form")
    assert message_of("order_form", steps) == "expected active_loop return_form, got null"


def test_bot_replies_are_compared_with_the_bot_events_of_the_stretch() -> None:
    said = next(e["text"] for e in events_of("greet_goodbye") if e["event"] == "bot")
    steps = GREET_GOODBYE.replace(
        "- action: utter_greet", f"- action: utter_greet\n- bot: {json.dumps(said)}"
    )
    assert first_divergence("greet_goodbye", steps) is None
    steps = GREET_GOODBYE.replace("- action: utter_greet", "- action: utter_greet\n- bot: Hello!")
    found = first_divergence("greet_goodbye", steps)
    assert found is not None and (found.step, found.kind) == (3, "bot")
    assert found.message == f"expected reply 'Hello!', got {said!r}"
    early = GREET_GOODBYE.replace(
        "- action: utter_greet", f"- bot: {json.dumps(said)}\n- action: utter_greet"
    )
    assert message_of("greet_goodbye", early) == (
        f"expected reply {said!r}, got no reply after the user message and before utter_greet "
        "(that reply came after utter_greet)"
    )


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ("do you have a [black](color) hoodie?", None),
        ('do you have a [black]{"entity": "color", "value": "Black"} hoodie?', None),
        ("do you have a black [hoodie](category)?",
         "expected entity category='hoodie', got color='Black', category='Hoodies & Sweatshirts'"),
        ("do you have a [black](size) hoodie?", "expected entity size='black', got color='Black', "
         "category='Hoodies & Sweatshirts'"),
    ],
)  # fmt: skip
def test_entities_by_type_and_value_ignoring_case(user: str, message: str | None) -> None:
    [turn] = story(f"- user: '{user}'\n  intent: search_product\n- action: action_search_products")
    [events] = turns_of("search")
    found = compare_turn(turn, events)
    assert (found.message if found else None) == message


def test_entity_values_match_numbers_written_as_text() -> None:
    [events] = turns_of("search")
    events[0]["parse_data"]["entities"] = [{"entity": "price_max", "value": 60, "start": 0}]
    [turn] = story("- user: under [60](price_max)\n  intent: search_product")
    found = compare_turn(turn, events)
    assert found is not None and found.kind == "action"  # past the entity check


def test_a_turn_without_its_user_event_is_an_error() -> None:
    [turn] = story("- user: hello\n  intent: greet")
    found = compare_turn(turn, [])
    assert found is not None and found.kind == "error"


def test_replies_and_the_observed_turn_for_the_report() -> None:
    [replies] = replies_of("search")
    assert replies[0].startswith("Here is what I found")
    assert replies[1] == "[custom payload product_cards]"
    [events] = turns_of("search")
    seen = observe_turn(events, replies)
    assert seen["intent"] == "search_product" and seen["confidence"] > 0.5
    assert {"entity": "color", "value": "Black"} in seen["entities"]
    assert seen["actions"] == ["action_search_products"]
    assert [s["name"] for s in seen["slots"]] == [
        "search_request",
        "shown_products",
        "focused_product",
    ]
    assert seen["replies"] == replies
    json.dumps(seen)  # the report is JSON
