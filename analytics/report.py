"""The shop's conversation metrics over a date range, for the analytics page and its CSV.

`build_report` is pure arithmetic over conversations (analytics/conversations.py) and the
shop's handoff rows, so tests check every number on a known set; `load_report` reads both
stores. Each number's definition is in docs/analytics.md. Every turn-level number (messages,
fallbacks, searches, reply times, intents) is counted on its conversation's day: the local
date of the conversation's first shopper message.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from analytics.conversations import RATINGS, Conversation, Turn, read_conversations
from catalog.models import Handoff
from catalog.statuses import HandoffStatus
from core.clock import local
from core.stats import percentile
from privacy.redaction import redact

DEFAULT_DAYS = 28
MAX_DAYS = 366
# Conversations carry Unix timestamps; the last day leaves room for the day after the range.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date.max - timedelta(days=1)
TOP_INTENTS = 10
TOP_QUERIES = 20
NO_REASON = "not recorded"  # a handoff from before action_handoff recorded its reason
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class HandoffRow(Protocol):
    """What the report reads of a handoff (catalog.models.Handoff)."""

    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def taken_at(self) -> datetime | None: ...


@lru_cache(maxsize=4096)
def redacted(text: str) -> str:
    """A shopper's text without personal data; cached, since the same searches come back and
    a phone-number check costs tens of milliseconds."""
    return " ".join(redact(text).split())


def rate(part: int, whole: int) -> float | None:
    """part / whole to 4 decimals; None when there is nothing to divide by."""
    return round(part / whole, 4) if whole else None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _average(values: Sequence[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def local_day(at: float) -> date:
    """The server's local date of an epoch timestamp: the day a person reading the page
    means (times are stored in UTC; core.clock)."""
    return local(datetime.fromtimestamp(at, UTC)).date()


def local_iso(at: float) -> str:
    return local(datetime.fromtimestamp(at, UTC)).replace(tzinfo=None).isoformat("T", "seconds")


def counted_intent(turn: Turn) -> str | None:
    """The intent a top-intents list counts: the shopper's words only."""
    return None if turn.internal or not turn.intent else turn.intent


@dataclass(frozen=True)
class Counts:
    """Numbers that add up over a set of conversations (one day, or the whole range)."""

    conversations: int
    contained: int
    handoffs: int
    shopper_messages: int
    fallbacks: int
    searches: int
    zero_result_searches: int
    ratings: list[int]
    replies: list[float]  # seconds, of shopper turns the bot answered

    @classmethod
    def of(cls, conversations: Sequence[Conversation]) -> Counts:
        return cls(
            conversations=len(conversations),
            contained=sum(c.contained for c in conversations),
            handoffs=sum(c.handed_off for c in conversations),
            shopper_messages=sum(c.shopper_messages for c in conversations),
            fallbacks=sum(c.fallbacks for c in conversations),
            searches=sum(c.searches for c in conversations),
            zero_result_searches=sum(len(c.zero_result_turns) for c in conversations),
            ratings=[c.rating for c in conversations if c.rating is not None],
            replies=[
                t.reply_seconds
                for c in conversations
                for t in c.shopper_turns
                if t.reply_seconds is not None
            ],
        )

    def reply_ms(self) -> dict[str, float | None]:
        return {
            "reply_p50_ms": _ms(percentile(self.replies, 50)),
            "reply_p95_ms": _ms(percentile(self.replies, 95)),
        }


@dataclass(frozen=True)
class Report:
    """The analytics of one date range (`end` included); `as_json` is the page's contract."""

    start: date
    end: date
    totals: dict[str, Any]
    days: list[dict[str, Any]]
    handoff_reasons: list[dict[str, Any]]
    top_intents: list[dict[str, Any]]
    zero_result_queries: list[dict[str, Any]]
    ratings: dict[str, int]

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "totals": self.totals,
            "days": self.days,
            "handoff_reasons": self.handoff_reasons,
            "top_intents": self.top_intents,
            "zero_result_queries": self.zero_result_queries,
            "ratings": self.ratings,
        }


def _day_row(day: date, counts: Counts) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "conversations": counts.conversations,
        "contained": counts.contained,
        "handoffs": counts.handoffs,
        "shopper_messages": counts.shopper_messages,
        "fallbacks": counts.fallbacks,
        "searches": counts.searches,
        "zero_result_searches": counts.zero_result_searches,
        "ratings": len(counts.ratings),
        "rating_average": _average(counts.ratings),
        **counts.reply_ms(),
    }


def _totals(counts: Counts, handoffs: Sequence[HandoffRow]) -> dict[str, Any]:
    waits = [
        (h.taken_at - h.created_at).total_seconds() for h in handoffs if h.taken_at is not None
    ]
    agent_wait = percentile(waits, 50)
    return {
        "conversations": counts.conversations,
        "contained": counts.contained,
        "containment_rate": rate(counts.contained, counts.conversations),
        "handoffs": counts.handoffs,
        "handoff_rate": rate(counts.handoffs, counts.conversations),
        "shopper_messages": counts.shopper_messages,
        "fallbacks": counts.fallbacks,
        "fallback_rate": rate(counts.fallbacks, counts.shopper_messages),
        "searches": counts.searches,
        "zero_result_searches": counts.zero_result_searches,
        "zero_result_rate": rate(counts.zero_result_searches, counts.searches),
        "ratings": len(counts.ratings),
        "rating_average": _average(counts.ratings),
        "rated_share": rate(len(counts.ratings), counts.conversations),
        **counts.reply_ms(),
        "agent_wait_p50_s": None if agent_wait is None else round(agent_wait, 1),
        "handoffs_timed_out": sum(h.status == HandoffStatus.TIMED_OUT for h in handoffs),
    }


def _handoff_reasons(conversations: Iterable[Conversation]) -> list[dict[str, Any]]:
    reasons = Counter(c.handoff_reason or NO_REASON for c in conversations if c.handed_off)
    ordered = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return [{"reason": reason, "count": count} for reason, count in ordered]


def _trend(daily: Sequence[int]) -> float | None:
    """Change from the range's first half to its second (the middle day of an odd range is in
    neither); None when the first half had none."""
    half = len(daily) // 2
    first, second = sum(daily[:half]), sum(daily[len(daily) - half :])
    return round((second - first) / first, 4) if first else None


def _top_intents(by_day: dict[date, list[Conversation]]) -> list[dict[str, Any]]:
    daily: dict[str, list[int]] = {}
    for index, conversations in enumerate(by_day.values()):
        for conversation in conversations:
            for turn in conversation.turns:
                intent = counted_intent(turn)
                if intent is not None:
                    daily.setdefault(intent, [0] * len(by_day))[index] += 1
    total = sum(sum(counts) for counts in daily.values())
    ordered = sorted(daily.items(), key=lambda item: (-sum(item[1]), item[0]))[:TOP_INTENTS]
    return [
        {
            "intent": intent,
            "count": sum(counts),
            "share": rate(sum(counts), total),
            "daily": counts,
            "trend": _trend(counts),
        }
        for intent, counts in ordered
    ]


def _zero_result_queries(conversations: Iterable[Conversation]) -> list[dict[str, Any]]:
    """The shopper's words of searches that found nothing, redacted; one row per text (case
    and spacing aside), shown as last written."""
    found: dict[str, dict[str, Any]] = {}
    for conversation in conversations:
        for turn in conversation.zero_result_turns:
            query = redacted(turn.text)
            row = found.setdefault(query.casefold(), {"query": query, "count": 0, "at": turn.at})
            row["count"] += 1
            if turn.at >= row["at"]:
                row.update(query=query, at=turn.at)
    ordered = sorted(found.values(), key=lambda row: (-row["count"], -row["at"], row["query"]))
    return [
        {"query": row["query"], "count": row["count"], "last_at": local_iso(row["at"])}
        for row in ordered[:TOP_QUERIES]
    ]


def build_report(
    conversations: Iterable[Conversation],
    handoffs: Iterable[HandoffRow],
    start: date,
    end: date,
) -> Report:
    """The report of `start`..`end` (both included) from conversations and handoff rows;
    those outside the range are left out, so callers may pass a superset."""
    by_day: dict[date, list[Conversation]] = {
        start + timedelta(days=n): [] for n in range((end - start).days + 1)
    }
    for conversation in conversations:
        day = local_day(conversation.started_at)
        if day in by_day:
            by_day[day].append(conversation)
    chosen = [c for day in by_day.values() for c in day]
    in_range = [h for h in handoffs if start <= local(h.created_at).date() <= end]
    ratings = Counter(c.rating for c in chosen if c.rating is not None)
    return Report(
        start=start,
        end=end,
        totals=_totals(Counts.of(chosen), in_range),
        days=[
            _day_row(day, Counts.of(day_conversations)) for day, day_conversations in by_day.items()
        ],
        handoff_reasons=_handoff_reasons(chosen),
        top_intents=_top_intents(by_day),
        zero_result_queries=_zero_result_queries(chosen),
        ratings={str(n): ratings[n] for n in RATINGS},
    )


def load_report(tracker_engine: Engine, session: Session, start: date, end: date) -> Report:
    """The report of `start`..`end` (both included): conversations from Rasa's tracker store,
    agents' waits from the shop's `handoffs` table."""
    # Local midnights as aware moments: the handoff rows hold UTC (catalog.db.UTCDateTime).
    since = datetime.combine(start, time()).astimezone()
    until = datetime.combine(end + timedelta(days=1), time()).astimezone()
    conversations = read_conversations(tracker_engine, since, until)
    handoffs = session.scalars(
        select(Handoff).where(Handoff.created_at >= since, Handoff.created_at < until)
    ).all()
    return build_report(conversations, handoffs, start, end)


def _parse_day(text: str | None, which: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"Please give the {which} date as YYYY-MM-DD, for example 2026-11-01."
        ) from None
    if not FIRST_DAY <= day <= LAST_DAY:  # the range's arithmetic would leave the calendar
        raise ValueError(f"Please give the {which} date between {FIRST_DAY} and {LAST_DAY}.")
    return day


def parse_range(from_text: str | None, to_text: str | None, today: date) -> tuple[date, date]:
    """The range a page asked for (`from`, `to`, both included, YYYY-MM-DD). Without `to` it
    ends today; without `from` it is the 28 days up to its end. ValueError with a sentence a
    person can act on."""
    given_start = _parse_day(from_text, "start")
    end = _parse_day(to_text, "end") or today
    start = given_start or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValueError(
            f"The start date ({start.isoformat()}) is after the end date ({end.isoformat()})."
        )
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ValueError(
            f"Please choose at most {MAX_DAYS} days; {start.isoformat()} to {end.isoformat()} "
            f"is {days} days."
        )
    return start, end
