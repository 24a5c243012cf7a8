"""analytics.report: every number of the report on the known conversations, written by hand
from tests/analytics/fixtures/conversations.json (the sums are spelt out beside them)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from analytics.conversations import Conversation, conversations_from_events
from analytics.report import build_report, load_report, parse_range
from catalog.db import session_scope
from catalog.models import Base, Handoff
from tests.analytics.conftest import make_tracker


def handoff(conversation_id: str, status: str, created: str, taken: str | None) -> Handoff:
    """A row of the shop's handoffs table; times are naive local, as the shop stores them."""
    created_at = datetime.fromisoformat(created)
    return Handoff(
        conversation_id=conversation_id,
        reason="asked for a person",
        status=status,
        created_at=created_at,
        updated_at=created_at,
        taken_at=datetime.fromisoformat(taken) if taken else None,
    )


def handoff_rows() -> list[Handoff]:
    """The shop's handoffs table: cat's (taken after 45 s), dan's (timed out), two more whose
    transcripts are not in the fixture (30 s, 120 s), one still waiting, two outside."""
    return [
        handoff("shopper-cat", "handed_back", "2026-11-02 22:30:40", "2026-11-02 22:31:25"),
        handoff("shopper-dan", "timed_out", "2026-11-03 09:00:00", None),
        handoff("shopper-old", "closed", "2026-11-03 15:00:00", "2026-11-03 15:00:30"),
        handoff("shopper-zed", "closed", "2026-11-04 12:00:00", "2026-11-04 12:02:00"),
        handoff("shopper-now", "waiting", "2026-11-04 18:00:00", None),
        handoff("shopper-out", "closed", "2026-11-05 08:00:00", "2026-11-05 08:00:10"),
        handoff("shopper-old", "timed_out", "2026-10-31 23:00:00", None),
    ]  # fmt: skip


def empty_day(day: str) -> dict[str, Any]:
    return {
        "date": day, "conversations": 0, "contained": 0, "handoffs": 0, "shopper_messages": 0,
        "fallbacks": 0, "searches": 0, "zero_result_searches": 0, "ratings": 0,
        "rating_average": None, "reply_p50_ms": None, "reply_p95_ms": None,
    }  # fmt: skip


def intent(
    name: str, count: int, share: float, daily: list[int], trend: float | None
) -> dict[str, Any]:
    return {"intent": name, "count": count, "share": share, "daily": daily, "trend": trend}


# Conversations in 2026-11-01..04: 11-02 ann (10:00), ben, cat (22:30); 11-03 dan, ann again,
# eve; 11-04 fay. Not ivy (began 10-31), hal (11-05) or gus (never wrote).
# Reply times of shopper turns the bot answered, in ms:
#   11-02 ann 125 500 375 125 250, ben 625 125, cat 250 375 500 (then waiting: none)
#   11-03 dan 375 (its timeout turn is the server's) 125 250, ann 500 250 125 250, eve 375 250 125
#   11-04 fay 125 750 500
# sorted, all 23: 125 x7, 250 x6, 375 x4, 500 x4, 625, 750. Nearest rank: p50 = 12th = 250,
# p95 = 22nd (ceil 21.85) = 625. 11-02 (10): p50 5th = 250, p95 10th = 625; 11-03 (10):
# 125 x3 250 x4 375 x2 500 -> 250, 500; 11-04 (3): 125 500 750 -> 2nd 500, 3rd 750.
# Intents in the shopper's words (not rate_conversation, classifier_unavailable or the
# server's handoff_timeout), per day 11-01..11-04:
#   search_product ann ben | ann eve eve | fay = [0,2,3,1]; greet ann cat | | fay = [0,2,0,1];
#   goodbye ann | ann = [0,1,1,0]; nlu_fallback cat cat = [0,2,0,0]; refine_search ann | ann;
#   track_order cat | dan; affirm cat; thanks ben (11th, cut); contact_human_agent,
#   continue_with_bot dan; out_of_scope eve. 22 in all. Trend: (11-03+11-04) vs (11-01+11-02).
EXPECTED: dict[str, Any] = {
    "from": "2026-11-01",
    "to": "2026-11-04",
    "totals": {
        "conversations": 7,
        "contained": 5,  # ann ben ann eve fay
        "containment_rate": 0.7143,  # 5/7
        "handoffs": 2,  # cat dan
        "handoff_rate": 0.2857,
        "shopper_messages": 25,  # 5+2+5 | 3+4+3 | 3
        "fallbacks": 2,  # cat's two
        "fallback_rate": 0.08,  # 2/25
        "searches": 8,  # ann 2, ben 1 | ann 2, eve 2 | fay 1
        "zero_result_searches": 6,  # ben | ann 2, eve 2 | fay
        "zero_result_rate": 0.75,
        "ratings": 2,  # ann 5, ann 2
        "rating_average": 3.5,
        "rated_share": 0.2857,  # 2/7
        "reply_p50_ms": 250.0,
        "reply_p95_ms": 625.0,
        "agent_wait_p50_s": 45.0,  # 45 30 120 (taken in range) -> 45
        "handoffs_timed_out": 1,  # dan's (the one on 10-31 is outside)
    },
    "days": [
        empty_day("2026-11-01"),
        {"date": "2026-11-02", "conversations": 3, "contained": 2, "handoffs": 1,
         "shopper_messages": 12, "fallbacks": 2, "searches": 3, "zero_result_searches": 1,
         "ratings": 1, "rating_average": 5.0, "reply_p50_ms": 250.0, "reply_p95_ms": 625.0},
        {"date": "2026-11-03", "conversations": 3, "contained": 2, "handoffs": 1,
         "shopper_messages": 10, "fallbacks": 0, "searches": 4, "zero_result_searches": 4,
         "ratings": 1, "rating_average": 2.0, "reply_p50_ms": 250.0, "reply_p95_ms": 500.0},
        {"date": "2026-11-04", "conversations": 1, "contained": 1, "handoffs": 0,
         "shopper_messages": 3, "fallbacks": 0, "searches": 1, "zero_result_searches": 1,
         "ratings": 0, "rating_average": None, "reply_p50_ms": 500.0, "reply_p95_ms": 750.0},
    ],
    "handoff_reasons": [
        {"reason": "asked for a person", "count": 1},  # dan
        {"reason": "the bot did not understand", "count": 1},  # cat
    ],
    "top_intents": [
        intent("search_product", 6, 0.2727, [0, 2, 3, 1], 1.0),  # 6/22; (4 - 2) / 2
        intent("greet", 3, 0.1364, [0, 2, 0, 1], -0.5),
        intent("goodbye", 2, 0.0909, [0, 1, 1, 0], 0.0),
        intent("nlu_fallback", 2, 0.0909, [0, 2, 0, 0], -1.0),
        intent("refine_search", 2, 0.0909, [0, 1, 1, 0], 0.0),
        intent("track_order", 2, 0.0909, [0, 1, 1, 0], 0.0),
        intent("affirm", 1, 0.0455, [0, 1, 0, 0], -1.0),
        intent("contact_human_agent", 1, 0.0455, [0, 0, 1, 0], None),  # none in the first half
        intent("continue_with_bot", 1, 0.0455, [0, 0, 1, 0], None),
        intent("out_of_scope", 1, 0.0455, [0, 0, 1, 0], None),
    ],
    "zero_result_queries": [
        {"query": "Unicorn onesie", "count": 2, "last_at": "2026-11-03T16:00:00"},  # ben, eve
        {"query": "unicorn onesie please, my email is <EMAIL>", "count": 1,
         "last_at": "2026-11-04T10:00:40"},
        {"query": '=HYPERLINK("http://evil.example/x","hoodie")', "count": 1,
         "last_at": "2026-11-03T16:00:30"},
        {"query": "any in blue?", "count": 1, "last_at": "2026-11-03T11:00:20"},
        {"query": "do you have yoga pants in size XS?", "count": 1,
         "last_at": "2026-11-03T11:00:00"},
    ],
    "ratings": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
}  # fmt: skip


def test_the_report_of_the_known_conversations(known: list[Conversation]) -> None:
    report = build_report(known, handoff_rows(), date(2026, 11, 1), date(2026, 11, 4))
    assert report.as_json() == EXPECTED


def test_one_day(known: list[Conversation]) -> None:
    """11-03: dan, ann's second session, eve; handoffs created that day: dan's, 'old' (30 s)."""
    report = build_report(known, handoff_rows(), date(2026, 11, 3), date(2026, 11, 3)).as_json()
    assert report["totals"] == {
        "conversations": 3, "contained": 2, "containment_rate": 0.6667, "handoffs": 1,
        "handoff_rate": 0.3333, "shopper_messages": 10, "fallbacks": 0, "fallback_rate": 0.0,
        "searches": 4, "zero_result_searches": 4, "zero_result_rate": 1.0, "ratings": 1,
        "rating_average": 2.0, "rated_share": 0.3333, "reply_p50_ms": 250.0,
        "reply_p95_ms": 500.0, "agent_wait_p50_s": 30.0, "handoffs_timed_out": 1,
    }  # fmt: skip
    assert report["days"] == [EXPECTED["days"][2]]
    assert report["handoff_reasons"] == [{"reason": "asked for a person", "count": 1}]
    assert [(i["intent"], i["count"], i["share"], i["trend"]) for i in report["top_intents"]] == [
        ("search_product", 3, 0.3333, None),  # one day has no halves to compare
        ("contact_human_agent", 1, 0.1111, None),
        ("continue_with_bot", 1, 0.1111, None),
        ("goodbye", 1, 0.1111, None),
        ("out_of_scope", 1, 0.1111, None),
        ("refine_search", 1, 0.1111, None),
        ("track_order", 1, 0.1111, None),
    ]
    assert [(q["query"], q["count"]) for q in report["zero_result_queries"]] == [
        ('=HYPERLINK("http://evil.example/x","hoodie")', 1),  # once each: the latest first
        ("Unicorn onesie", 1),  # ben's (11-02) is outside the range
        ("any in blue?", 1),
        ("do you have yoga pants in size XS?", 1),
    ]
    assert report["ratings"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0}


def test_an_empty_range_has_every_day_and_no_rates() -> None:
    report = build_report([], [], date(2026, 11, 1), date(2026, 11, 2)).as_json()
    assert report["days"] == [empty_day("2026-11-01"), empty_day("2026-11-02")]
    assert report["totals"]["conversations"] == 0
    rates = ("containment_rate", "handoff_rate", "fallback_rate", "zero_result_rate",
             "rated_share", "rating_average", "reply_p50_ms", "reply_p95_ms",
             "agent_wait_p50_s")  # fmt: skip
    assert all(report["totals"][name] is None for name in rates)
    assert report["handoff_reasons"] == report["top_intents"] == []
    assert report["zero_result_queries"] == []


def test_a_handoff_without_a_recorded_reason(known: list[Conversation]) -> None:
    """Conversations from before action_handoff set handoff_reason."""
    (cat,) = [c for c in known if c.conversation_id == "shopper-cat"]
    events = [e for t in cat.turns for e in t.events if e.get("name") != "handoff_reason"]
    (old,) = conversations_from_events("shopper-cat", events)
    report = build_report([old], [], date(2026, 11, 2), date(2026, 11, 2)).as_json()
    assert report["handoff_reasons"] == [{"reason": "not recorded", "count": 1}]


def test_load_report_reads_the_tracker_store_and_the_shops_handoffs(tmp_path: Path) -> None:
    tracker_url = f"sqlite:///{tmp_path / 'tracker.sqlite3'}"
    make_tracker(tracker_url)
    shop_url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    shop = create_engine(shop_url, poolclass=NullPool)
    Base.metadata.create_all(shop)
    shop.dispose()
    with session_scope(shop_url) as session:
        session.add_all(handoff_rows())
    tracker = create_engine(tracker_url, poolclass=NullPool)
    with session_scope(shop_url) as session:
        report = load_report(tracker, session, date(2026, 11, 1), date(2026, 11, 4))
    assert report.as_json() == EXPECTED


TODAY = date(2026, 11, 28)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((None, None), (date(2026, 11, 1), TODAY)),  # the last 28 days, today included
        (("", " "), (date(2026, 11, 1), TODAY)),  # empty query parameters are not given
        (("2026-11-10", None), (date(2026, 11, 10), TODAY)),
        ((None, "2026-10-31"), (date(2026, 10, 4), date(2026, 10, 31))),
        (("2026-11-03", "2026-11-03"), (date(2026, 11, 3), date(2026, 11, 3))),
        (("2025-11-28", "2026-11-28"), (date(2025, 11, 28), TODAY)),  # 366 days
    ],
)
def test_parse_range(given: tuple[str | None, str | None], expected: tuple[date, date]) -> None:
    assert parse_range(*given, today=TODAY) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (("11/01/2026", None), "Please give the start date as YYYY-MM-DD, for example 2026-11-01."),
        (("20261101", None), "Please give the start date as YYYY-MM-DD, for example 2026-11-01."),
        ((None, "2026-02-30"), "Please give the end date as YYYY-MM-DD, for example 2026-11-01."),
        (("2026-11-05", "2026-11-04"),
         "The start date (2026-11-05) is after the end date (2026-11-04)."),
        (("2026-12-01", None), "The start date (2026-12-01) is after the end date (2026-11-28)."),
        (("2025-11-27", "2026-11-28"),
         "Please choose at most 366 days; 2025-11-27 to 2026-11-28 is 367 days."),
    ],
)  # fmt: skip
def test_parse_range_says_politely_what_is_wrong(
    given: tuple[str | None, str | None], message: str
) -> None:
    with pytest.raises(ValueError) as error:
        parse_range(*given, today=TODAY)
    assert str(error.value) == message
