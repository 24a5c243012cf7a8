"""Conversations and turns, read from Rasa's tracker store: what the shop's metrics count.

Every metric of the analytics page (analytics/report.py) is defined on these two shapes, and
docs/analytics.md says each definition in words. The shapes are built from Rasa 3.6's own
event JSON (the `data` column of its `events` table), so they see exactly what Rasa recorded:

- a **conversation** is one Rasa session of one sender (a new one starts at each
  `action_session_start`, as Rasa's markers split them) in which the shopper wrote at least
  once; it belongs to the local time of the shopper's first message;
- a **turn** is one `user` event and every event after it until the next `user` event.

Messages the server injected through Rasa's `trigger_intent` (a timed-out handoff, web/hub.py)
are `user` events too; Rasa flags them `metadata.is_external` and writes their text as
`EXTERNAL: handoff_timeout`. They stay turns (the bot answers them), but are not the shopper's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlalchemy import Engine, select

from catalog.button_text import offered_in, user_text
from catalog.statuses import HandoffStatus
from tracker.events import events_table

# Intents that are not the shopper's words: the rating buttons' payload, the web server's
# trigger when no agent came, and the classifier being down (bot/domain.yml).
INTERNAL_INTENTS = frozenset({"rate_conversation", "handoff_timeout", "classifier_unavailable"})
FALLBACK_ACTION = "action_fallback"
FALLBACK_INTENT = "nlu_fallback"
SESSION_START_ACTION = "action_session_start"
HANDOFF_STATUS_SLOT = "handoff_status"
HANDOFF_WAITING = HandoffStatus.WAITING  # the slot's value while a shopper waits
HANDOFF_REASON_SLOT = "handoff_reason"
SEARCH_HITS_SLOT = "search_hits"
RATING_SLOT = "conversation_rating"
RATINGS = range(1, 6)


def _slot_events(events: Iterable[dict[str, Any]]) -> Iterator[tuple[str, Any]]:
    for event in events:
        if event.get("event") == "slot" and isinstance(event.get("name"), str):
            yield event["name"], event.get("value")


def _number(value: Any) -> float | None:
    """A slot's number; None for anything else (an unreadable slot is empty, never an error)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _is_agent(event: dict[str, Any]) -> bool:
    return bool((event.get("metadata") or {}).get("agent_name"))


@dataclass(frozen=True)
class Turn:
    """One shopper message and what followed it until the next one."""

    text: str  # the shopper's message (metadata.display_text for a "/..." button payload)
    intent: str  # parse_data.intent.name ("" if none)
    confidence: float
    at: float  # the user event's tracker timestamp (epoch seconds)
    entities: list[dict[str, Any]]
    actions: list[str]  # actions run in the turn, in order, without action_listen
    bot_texts: list[str]  # the bot's (not agents') texts in the turn
    reply_seconds: float | None
    slots: dict[str, Any]  # slots set in the turn, last value wins
    by_agent: bool  # an agent wrote in this turn
    events: list[dict[str, Any]]  # the raw events of the turn, user event first

    @cached_property
    def from_server(self) -> bool:
        """Injected through Rasa's trigger_intent (a timed-out handoff): not the shopper's."""
        return (self.events[0].get("metadata") or {}).get("is_external") is True

    @cached_property
    def internal(self) -> bool:
        """Not the shopper's words: injected, or an internal intent (a rating button...)."""
        return self.from_server or self.intent in INTERNAL_INTENTS

    @cached_property
    def fallback(self) -> bool:
        """The bot did not understand: action_fallback ran, or NLU said nlu_fallback."""
        return FALLBACK_ACTION in self.actions or self.intent == FALLBACK_INTENT

    @cached_property
    def search_hits(self) -> float | None:
        """How many products the turn's search found; None when the turn searched nothing."""
        return _number(self.slots.get(SEARCH_HITS_SLOT))

    @classmethod
    def from_events(
        cls, events: list[dict[str, Any]], offered: Mapping[str, str] | None = None
    ) -> Turn:
        """The turn of `events`: a `user` event, then what followed it. `offered`: the buttons
        the bot's turn before it offered (payload -> title), as web/messages.py reads them."""
        user = events[0]
        metadata = user.get("metadata") or {}
        parse = user.get("parse_data") or {}
        intent = parse.get("intent") or {}
        text = user_text(user, offered or {})  # a button's title only if the bot offered it
        at = float(user.get("timestamp") or 0.0)
        # Rasa stamps the user event after the classifier; the shopper channel notes when the
        # message arrived (bot/shopdesk_rasa/channels.py), so the reply time includes NLU.
        received = _number(metadata.get("received_at"))
        received = received if received is not None and at - 60 <= received <= at else at
        bot = [e for e in events[1:] if e.get("event") == "bot" and not _is_agent(e)]
        return cls(
            text=text,
            intent=str(intent.get("name") or ""),
            confidence=_number(intent.get("confidence")) or 0.0,
            at=at,
            entities=[e for e in _list(parse.get("entities")) if isinstance(e, dict)],
            actions=[
                str(e.get("name"))
                for e in events[1:]
                if e.get("event") == "action" and e.get("name") != "action_listen"
            ],
            bot_texts=[str(e["text"]) for e in bot if e.get("text")],
            reply_seconds=float(bot[-1].get("timestamp") or at) - received if bot else None,
            slots=dict(_slot_events(events[1:])),
            by_agent=any(e.get("event") == "bot" and _is_agent(e) for e in events[1:]),
            events=events,
        )


@dataclass(frozen=True)
class Conversation:
    """One Rasa session of one sender in which the shopper wrote at least once."""

    conversation_id: str  # Rasa's sender_id
    started_at: float  # first shopper message
    turns: list[Turn]

    @cached_property
    def shopper_turns(self) -> list[Turn]:
        """The turns the shopper started (the server's injected ones left out)."""
        return [turn for turn in self.turns if not turn.from_server]

    @cached_property
    def shopper_messages(self) -> int:
        return len(self.shopper_turns)

    def _slots(self) -> Iterator[tuple[str, Any]]:
        for turn in self.turns:
            yield from _slot_events(turn.events)

    @cached_property
    def handed_off(self) -> bool:
        """action_handoff set handoff_status "waiting" (a hand back resets it, so every event
        is looked at, not the turn's last value)."""
        return any(
            name == HANDOFF_STATUS_SLOT and value == HANDOFF_WAITING
            for name, value in self._slots()
        )

    @cached_property
    def handoff_reason(self) -> str | None:
        """Why the first handoff was asked for; None without a handoff or a recorded reason."""
        if not self.handed_off:
            return None
        for name, value in self._slots():
            if name == HANDOFF_REASON_SLOT and isinstance(value, str) and value.strip():
                return value.strip()
        return None

    @cached_property
    def fallbacks(self) -> int:
        """Shopper turns in which the bot did not understand."""
        return sum(turn.fallback for turn in self.shopper_turns)

    @cached_property
    def rating(self) -> int | None:
        """The shopper's last end-of-chat rating, 1-5."""
        rating = None
        for name, value in self._slots():
            number = _number(value) if name == RATING_SLOT else None
            if number is not None and round(number) in RATINGS:
                rating = round(number)
        return rating

    @cached_property
    def searches(self) -> int:
        """Shopper turns whose product search set search_hits (a refinement counts too)."""
        return sum(turn.search_hits is not None for turn in self.shopper_turns)

    @cached_property
    def zero_result_turns(self) -> list[Turn]:
        """Shopper turns whose search found nothing (search_hits 0)."""
        return [turn for turn in self.shopper_turns if turn.search_hits == 0]

    @cached_property
    def contained(self) -> bool:
        """Finished without a person."""
        return not self.handed_off

    @cached_property
    def went_well(self) -> bool:
        """Good enough to keep as a test story: no person, always understood, not rated
        badly, and at least two messages in the shopper's own words."""
        words = sum(not turn.internal for turn in self.turns)
        rating = self.rating
        return (
            self.contained
            and self.fallbacks == 0
            and (rating is None or rating >= 4)
            and words >= 2
        )


def _sessions(events: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rasa's sessions: a new one at each action_session_start (as Rasa's markers split
    them), or at a session_started that no action_session_start announced."""
    session: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        starts = kind == "action" and event.get("name") == SESSION_START_ACTION
        announced = bool(session) and session[-1].get("name") == SESSION_START_ACTION
        if kind == "session_started" and not announced:
            starts = True
        if starts and session:
            yield session
            session = []
        session.append(event)
    if session:
        yield session


def _turns(session: list[dict[str, Any]]) -> list[Turn]:
    starts = [i for i, event in enumerate(session) if event.get("event") == "user"]
    ends = [*starts[1:], len(session)]
    since = [0, *(start + 1 for start in starts)]  # where the bot's turn before each one begins
    return [
        Turn.from_events(session[start:end], offered_in(session[after:start]))
        for after, start, end in zip(since, starts, ends, strict=False)
    ]


def conversations_from_events(sender_id: str, events: list[dict[str, Any]]) -> list[Conversation]:
    """One sender's conversations, in order, from its events in Rasa's order (by id)."""
    conversations = []
    for session in _sessions(events):
        turns = _turns(session)
        shopper = [turn for turn in turns if not turn.from_server]
        if shopper:
            conversations.append(Conversation(sender_id, shopper[0].at, turns))
    return conversations


def read_conversations(engine: Engine, start: datetime, end: datetime) -> list[Conversation]:
    """Conversations whose first shopper message was in [start, end), naive local times.

    Every event of each sender who wrote in the range is read, so a session that began in
    the range is whole even when it went on after `end`. Nothing before Rasa made its table.
    """
    table = events_table(engine)
    if table is None:
        return []
    start_at, end_at = start.timestamp(), end.timestamp()
    writers = (
        select(table.c.sender_id)
        .where(
            table.c.type_name == "user",
            table.c.timestamp >= start_at,
            table.c.timestamp < end_at,
        )
        .distinct()
    )
    query = (
        select(table.c.sender_id, table.c.data)
        .where(table.c.sender_id.in_(writers))
        .order_by(table.c.sender_id, table.c.id)
    )
    by_sender: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as connection:
        for sender_id, data in connection.execute(query):
            try:
                event = json.loads(data)
            except (TypeError, ValueError):
                continue  # not Rasa's JSON: nothing to count
            if isinstance(event, dict):
                by_sender.setdefault(str(sender_id), []).append(event)
    found = [
        conversation
        for sender_id, events in by_sender.items()
        for conversation in conversations_from_events(sender_id, events)
        if start_at <= conversation.started_at < end_at
    ]
    return sorted(found, key=lambda conversation: conversation.started_at)
