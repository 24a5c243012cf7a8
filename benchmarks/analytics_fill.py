"""The analytics benchmark's data: copies of the analytics tests' known conversations.

The fixture (tests/analytics/fixtures/conversations.json, Rasa's own event JSON) is cut into
Rasa sessions, the templates; the Filler copies them under new sender ids, shifted to their
place in each day, with a letter counter on every search that found nothing, and `fill` writes
the copies into the tracker store's `events` table and the shop's `handoffs` table.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, insert

from analytics.conversations import (
    HANDOFF_STATUS_SLOT,
    HANDOFF_WAITING,
    SESSION_START_ACTION,
    conversations_from_events,
)
from catalog.statuses import HandoffStatus
from core.paths import PROJECT_ROOT
from tracker.writer import declare_events_table, event_row

FIXTURE = PROJECT_ROOT / "tests" / "analytics" / "fixtures" / "conversations.json"
DAY_STARTS_S = 30 * 60  # the first conversation of a day starts at 00:30 local
DAY_SPAN_S = 22 * 3600  # and they are spread evenly over the next 22 hours
WIDGET_OPENED_AFTER_S = 30.0  # a widget opening without a message, after the conversation
Row = dict[str, Any]


# --------------------------------------------------------------------------------------------
# The known conversations, session by session


@dataclass(frozen=True)
class HandoffShape:
    """The shop's `handoffs` row that a copied handoff gets, in seconds after its start."""

    reason: str
    status: str
    created_after_s: float
    taken_after_s: float | None


@dataclass(frozen=True)
class Template:
    """One Rasa session of the fixture: a conversation, or a widget opened with no message."""

    name: str  # fixture sender and session number, e.g. "shopper-ann#2"
    events: tuple[dict[str, Any], ...]
    anchor: float  # the first shopper message's timestamp (the first event's, without one)
    conversation: bool
    zero_result_users: frozenset[int]  # positions of user events whose search found nothing
    handoff: HandoffShape | None


def rasa_sessions(events: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """A sender's events cut at each action_session_start, as Rasa starts a session."""
    sessions: list[list[dict[str, Any]]] = []
    for event in events:
        starts = event.get("event") == "action" and event.get("name") == SESSION_START_ACTION
        if starts or not sessions:
            sessions.append([])
        sessions[-1].append(event)
    return sessions


def _handoff_shape(session: Sequence[dict[str, Any]], anchor: float) -> HandoffShape | None:
    """The handoff row the shop would hold for a session: created when the slot said
    "waiting", taken at an agent's first message, else timed out if the server said so."""
    created = next(
        (
            float(e["timestamp"])
            for e in session
            if e.get("event") == "slot"
            and e.get("name") == HANDOFF_STATUS_SLOT
            and e.get("value") == HANDOFF_WAITING
        ),
        None,
    )
    if created is None:
        return None
    reason = next(
        (str(e["value"]) for e in session if e.get("name") == "handoff_reason" and e.get("value")),
        "asked for a person",
    )
    taken = next(
        (
            float(e["timestamp"])
            for e in session
            if e.get("event") == "bot" and (e.get("metadata") or {}).get("agent_name")
        ),
        None,
    )
    timed_out = any((e.get("metadata") or {}).get("is_external") is True for e in session)
    status = (
        HandoffStatus.HANDED_BACK
        if taken is not None
        else HandoffStatus.TIMED_OUT
        if timed_out
        else HandoffStatus.WAITING
    )
    return HandoffShape(
        reason=reason,
        status=status,
        created_after_s=created - anchor,
        taken_after_s=None if taken is None else taken - anchor,
    )


def load_templates(path: Path = FIXTURE) -> list[Template]:
    """Every session of the fixture, sender by sender, in the fixture's order."""
    senders: dict[str, list[dict[str, Any]]] = json.loads(path.read_text(encoding="utf-8"))[
        "senders"
    ]
    templates = []
    for sender_id, events in senders.items():
        for number, session in enumerate(rasa_sessions(events), 1):
            found = conversations_from_events(sender_id, session)
            conversation = found[0] if found else None
            anchor = conversation.started_at if conversation else float(session[0]["timestamp"])
            zero_turns = conversation.zero_result_turns if conversation else []
            zero = {id(turn.events[0]) for turn in zero_turns}
            templates.append(
                Template(
                    name=f"{sender_id}#{number}",
                    events=tuple(session),
                    anchor=anchor,
                    conversation=conversation is not None,
                    zero_result_users=frozenset(i for i, e in enumerate(session) if id(e) in zero),
                    handoff=_handoff_shape(session, anchor) if conversation else None,
                )
            )
    if not any(t.conversation for t in templates):
        raise ValueError(f"{path} holds no conversation to copy")
    return templates


# --------------------------------------------------------------------------------------------
# Filling the tracker store


def letters(number: int) -> str:
    """A counter in lower-case letters ("aaa", "aab", ...): a new word for each number, with
    no digits, since five digits would open the phone-number check real queries rarely need."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = chr(ord("a") + digit) + word
        if not number:
            break
    return word.rjust(3, "a")


@dataclass
class Generated:
    """What was written, to check the report against and to describe the data."""

    conversations: int = 0
    conversations_by_day: dict[date, int] = field(default_factory=dict)
    widget_openings: int = 0
    senders: int = 0
    events: int = 0
    event_bytes: int = 0
    handoff_rows: int = 0
    zero_result_queries: int = 0
    query_texts: set[str] = field(default_factory=set)
    by_template: dict[str, int] = field(default_factory=dict)


@dataclass
class Filler:
    """Copies the templates, conversation after conversation, day after day."""

    templates: list[Template]
    seed: int
    generated: Generated = field(default_factory=Generated)
    _next: int = 0  # position in the templates' cycle
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def _sender_id(self) -> str:
        return uuid.UUID(int=self._rng.getrandbits(128), version=4).hex  # as the widget's

    def _copy(self, template: Template, at: float) -> tuple[str, list[Row], Row | None]:
        """One copy of `template` whose first shopper message is at `at`: its rows for Rasa's
        table and its handoff row (naive local times, as the shop stores them)."""
        sender_id = self._sender_id()
        shift = at - template.anchor
        rows = []
        for position, original in enumerate(template.events):
            event = dict(original)
            event["timestamp"] = float(original["timestamp"]) + shift
            if position in template.zero_result_users:
                event["text"] = f"{original.get('text') or ''} {letters(self._counter())}"
                event["parse_data"] = {**(original.get("parse_data") or {}), "text": event["text"]}
                self.generated.query_texts.add(event["text"])
            data = json.dumps(event)
            self.generated.event_bytes += len(data)
            rows.append(event_row(sender_id, event, data))
        handoff = None
        if template.handoff is not None:
            shape = template.handoff
            created = datetime.fromtimestamp(at + shape.created_after_s)
            handoff = {
                "conversation_id": sender_id,
                "reason": shape.reason,
                "status": shape.status,
                "created_at": created,
                "updated_at": created,
                "taken_at": None
                if shape.taken_after_s is None
                else datetime.fromtimestamp(at + shape.taken_after_s),
            }
        return sender_id, rows, handoff

    def _counter(self) -> int:
        self.generated.zero_result_queries += 1
        return self.generated.zero_result_queries

    def day(self, day: date, conversations: int) -> tuple[list[Row], list[Row]]:
        """One day's rows for Rasa's table, in Rasa's order (by time, senders interleaved),
        and its handoff rows."""
        midnight = datetime.combine(day, clock()).timestamp()
        rows: list[Row] = []
        handoffs: list[Row] = []
        placed = 0
        while placed < conversations:
            template = self.templates[self._next % len(self.templates)]
            self._next += 1
            at = midnight + DAY_STARTS_S + (placed + 0.5) * DAY_SPAN_S / conversations
            if not template.conversation:  # a widget opened, nobody wrote
                at += WIDGET_OPENED_AFTER_S
            _, copied, handoff = self._copy(template, at)
            rows += copied
            if handoff is not None:
                handoffs.append(handoff)
            self.generated.senders += 1
            self.generated.by_template[template.name] = (
                self.generated.by_template.get(template.name, 0) + 1
            )
            if template.conversation:
                placed += 1
            else:
                self.generated.widget_openings += 1
        rows.sort(key=lambda row: row["timestamp"])  # stable: each sender's order is kept
        self.generated.conversations += placed
        self.generated.conversations_by_day[day] = placed
        self.generated.events += len(rows)
        self.generated.handoff_rows += len(handoffs)
        return rows, handoffs


def fill(
    tracker: Engine,
    shop: Engine,
    filler: Filler,
    days: list[date],
    per_day: int,
    batch: int,
    say: Callable[[str], None],
) -> float:
    """Writes every day into both stores in batches of `batch` rows; seconds it took."""
    from catalog.models import Handoff

    table = declare_events_table(MetaData())
    started = time.perf_counter()
    for number, day in enumerate(days, 1):
        rows, handoffs = filler.day(day, per_day)
        for first in range(0, len(rows), batch):
            with tracker.begin() as connection:
                connection.execute(table.insert(), rows[first : first + batch])
        if handoffs:
            with shop.begin() as connection:
                connection.execute(insert(Handoff), handoffs)
        elapsed = time.perf_counter() - started
        say(
            f"  day {number}/{len(days)} {day.isoformat()}: {len(rows):,} events; "
            f"{filler.generated.events:,} in all, {filler.generated.events / elapsed:,.0f} rows/s"
        )
    return time.perf_counter() - started
