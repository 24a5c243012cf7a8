"""`python -m learning stories`: known tracker events → test stories the replay accepts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from analytics.conversations import Conversation, conversations_from_events
from launcher.stories.compare import compare_turn, turn_events
from launcher.stories.parse import parse_stories
from learning.story_writer import StoriesResult, build_stories, stories_yaml

START = 1_800_000_000.0  # 2027-01-15, any day will do
Event = dict[str, Any]


def user(text: str, intent: str, entities: list[Event] | None = None, **metadata: Any) -> Event:
    parse = {
        "intent": {"name": intent, "confidence": 0.95},
        "entities": entities or [],
        "text": text,
    }
    return {"event": "user", "text": text, "parse_data": parse, "metadata": metadata}


def action(name: str) -> Event:
    return {"event": "action", "name": name}


def slot(name: str, value: Any) -> Event:
    return {"event": "slot", "name": name, "value": value}


def bot(text: str) -> Event:
    return {"event": "bot", "text": text}


def loop(name: str | None) -> Event:
    return {"event": "active_loop", "name": name}


def chat(*turns: list[Event]) -> list[Event]:
    """A session's events, timestamps 10 s apart, as Rasa logs them."""
    events = [action("action_session_start"), {"event": "session_started"}, action("action_listen")]
    for turn in turns:
        events += [*turn, action("action_listen")]
    return [{**event, "timestamp": START + 10 * i} for i, event in enumerate(events)]


WENT_WELL = chat(
    [user("hi", "greet"), action("utter_greet"), bot("Hi!")],
    [
        user(
            "do you have a black hoodie?",
            "search_product",
            [
                {"entity": "color", "start": 14, "end": 19, "value": "Black"},
                {"entity": "category", "start": 20, "end": 26, "value": "hoodie"},
            ],
        ),
        slot("color", "Black"),  # set from the entity before any action: not written
        action("action_search_products"),
        bot("Here is what I found"),
        slot("search_request", {"text": "hoodie", "filters": {"color": "Black"}}),
        slot("shown_products", ["MH01", "MH02"]),
        slot("search_hits", 2.0),
    ],
    [
        user("I want to review the second one", "review"),
        action("review_form"),
        loop("review_form"),
        slot("review_product", "Chaz Kangeroo Hoodie"),
        slot("requested_slot", "review_rating"),
    ],
    [
        user("5", "inform"),
        action("review_form"),
        slot("review_rating", 5.0),
        slot("requested_slot", None),
        loop(None),
        action("action_submit_review"),
        bot("Thanks for your review!"),
    ],
    [user("bye", "goodbye"), action("utter_goodbye")],
    [
        user(
            '/rate_conversation{"conversation_rating": 5}',
            "rate_conversation",
            [{"entity": "conversation_rating", "value": 5}],
            display_text="5 ★",
        ),
        action("action_record_rating"),
        slot("conversation_rating", 5.0),
    ],
)

EXPECTED_STEPS = [
    {"user": "hi", "intent": "greet"},
    {"action": "utter_greet"},
    {
        "user": 'do you have a [black]{"entity": "color", "value": "Black"} [hoodie](category)?',
        "intent": "search_product",
    },
    {"action": "action_search_products"},
    {"slot_was_set": [{"search_hits": 2.0}]},
    {"user": "I want to review the second one", "intent": "review"},
    {"action": "review_form"},
    {"active_loop": "review_form"},
    {
        "slot_was_set": [
            {"review_product": "Chaz Kangeroo Hoodie"},
            {"requested_slot": "review_rating"},
        ]
    },
    {"user": "5", "intent": "inform"},
    {"action": "review_form"},
    {"slot_was_set": [{"review_rating": 5.0}, {"requested_slot": None}]},
    {"active_loop": None},
    {"action": "action_submit_review"},
    {"user": "bye", "intent": "goodbye"},
    {"action": "utter_goodbye"},
    {"user": '/rate_conversation{"conversation_rating": 5}', "intent": "rate_conversation"},
    {"action": "action_record_rating"},
    {"slot_was_set": [{"conversation_rating": 5.0}]},
]

OTHERS = {
    "with-email": chat(
        [user("hi", "greet"), action("utter_greet")],
        [user("send it to jane.doe@example.com", "inform"), action("utter_ok")],
    ),
    "with-order": chat(
        [
            user(
                "where is order 000000101",
                "track_order",
                [{"entity": "order_number", "start": 15, "end": 24, "value": "000000101"}],
            ),
            action("track_order_form"),
        ],
        [user("thanks", "thanks"), action("utter_welcome")],
    ),
    "with-city": chat(  # a bare city is no pattern, but the city slot is personal
        [user("change my address", "change_shipping_address"), action("address_form")],
        [user("Calder", "inform"), action("address_form"), slot("city", "Calder")],
    ),
    "corrected": chat(
        [user("hi", "greet"), action("utter_greet")],
        [user("bye", "goodbye"), action("utter_goodbye")],
    ),
    "fallback": chat(
        [user("hi", "greet"), action("utter_greet")],
        [user("blorp", "nlu_fallback"), action("action_fallback")],
    ),
    "handed-off": chat(
        [user("hi", "greet"), action("utter_greet")],
        [
            user("a human please", "contact_human_agent"),
            action("action_handoff"),
            slot("handoff_status", "waiting"),
        ],
    ),
    "one-message": chat([user("hi", "greet"), action("utter_greet")]),
}


def conversations(senders: dict[str, list[Event]]) -> list[Conversation]:
    return [
        c for sender, events in senders.items() for c in conversations_from_events(sender, events)
    ]


def built(senders: dict[str, list[Event]], corrected: set[str]) -> StoriesResult:
    result = StoriesResult(date(2027, 1, 9), date(2027, 1, 15))
    build_stories(conversations(senders), corrected, result)
    return result


def assert_replays(text: str, senders: dict[str, list[Event]], corrected: set[str]) -> None:
    """Each parsed story, turn by turn, matches the very events it came from, as
    `python -m launcher stories` compares a live turn with what Rasa logged."""
    sources: list[Conversation] = []
    for conversation in conversations(senders):
        alone = StoriesResult(date(2027, 1, 9), date(2027, 1, 15))
        build_stories([conversation], corrected, alone)
        sources += [conversation] * len(alone.stories)
    stories = parse_stories(text, "test_stories.yml")
    assert len(stories) == len(sources)
    for story, source in zip(stories, sources, strict=True):
        turns = [t for t in source.turns if not t.from_server]
        assert len(story.turns()) == len(turns)
        for turn, original in zip(story.turns(), turns, strict=True):
            assert turn.user.text == str(original.events[0]["text"]).strip()
            assert compare_turn(turn, turn_events(original.events)) is None, story.name


def test_a_conversation_that_went_well_becomes_a_story_the_replay_accepts() -> None:
    senders = {"shopper-7f3a": WENT_WELL, **OTHERS}
    result = built(senders, corrected={"corrected"})

    assert result.conversations == 8
    assert len(result.stories) == 1
    assert result.stories[0]["steps"] == EXPECTED_STEPS
    assert dict(result.held_back) == {"personal": 3, "corrected": 1, "not_well": 3}

    text = stories_yaml(result, Path("var/learning/test_stories.yml"))
    assert text.startswith("# Generated by `python -m learning stories`")
    assert "shopper-7f3a" not in text  # the sender id keys a shopper's chat
    assert "jane.doe" not in text and "000000101" not in text and "Calder" not in text
    [story] = parse_stories(text, "test_stories.yml")
    assert [step.kind for step in story.steps][:4] == ["user", "action", "user", "action"]
    user_steps = [step for step in story.steps if step.kind == "user"]
    assert user_steps[1].text == "do you have a black hoodie?"
    assert {(e.type, e.value) for e in user_steps[1].entities} == {
        ("color", "Black"),
        ("category", "hoodie"),
    }
    assert user_steps[-1].intent == "rate_conversation"
    assert_replays(text, senders, {"corrected"})

    summary = result.to_text()
    assert "learning: 8 conversation(s) from 2027-01-09 to 2027-01-15" in summary
    assert "  held back: personal data: 3" in summary
    assert "  an agent corrected a message in it: 1" in summary


def test_the_analytics_fixture_conversations_replay() -> None:
    """Every story from the analytics tests' known conversations (real Rasa 3.6 event
    shapes) parses and matches its own events."""
    fixture = Path(__file__).parents[1] / "analytics" / "fixtures" / "conversations.json"
    senders: dict[str, list[Event]] = json.loads(fixture.read_text(encoding="utf-8"))["senders"]
    result = built(senders, corrected=set())
    assert result.conversations > 0
    assert_replays(stories_yaml(result, Path("out.yml")), senders, set())
