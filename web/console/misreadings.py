"""Agents' verdicts that the bot misread a shopper's message (docs/agent-console.md).

An agent reading a transcript marks a shopper's message as misunderstood and names the intent
the bot should have read: one of the domain's, or a new one. `python -m learning` turns these
into training examples, so the message text is taken from the tracker (never from the client)
and stored redacted: no e-mail address or phone number leaves the transcript this way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from analytics.conversations import INTERNAL_INTENTS  # never typed: not for agents to pick
from catalog.models import Agent, NluCorrection
from core.clock import utc_now
from core.paths import DOMAIN_FILE
from privacy.redaction import redact
from web import audit
from web.messages import conversation_messages

DOMAIN = DOMAIN_FILE
NEW_INTENT = re.compile(r"[a-z][a-z0-9_]{2,63}")
MAX_TEXT_CHARS = 2000  # NluCorrection.text


class CorrectionError(ValueError):
    """A request to mark a message that cannot be honoured; the message says why, politely."""


@lru_cache(maxsize=4)
def _domain_intents(path: Path, modified_ns: int) -> tuple[str, ...]:
    """Every intent the domain file names; cached until the file changes (a retrained bot)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names: list[str] = []
    for entry in data.get("intents") or []:
        # Rasa allows `- greet` and `- greet: {use_entities: [...]}`
        name = next(iter(entry), None) if isinstance(entry, dict) else entry
        if isinstance(name, str) and name not in names:
            names.append(name)
    return tuple(names)


def domain_intents(path: Path = DOMAIN) -> tuple[str, ...]:
    """All of bot/domain.yml's intents, internal ones included, in the file's order."""
    try:
        modified = path.stat().st_mtime_ns
    except OSError:
        raise CorrectionError(
            f"The bot's domain ({path.name}) cannot be read, so there is no list of intents."
        ) from None
    return _domain_intents(path, modified)


def choosable_intents(path: Path = DOMAIN) -> list[str]:
    """The intents an agent may pick as the right reading of a message, sorted."""
    return sorted(set(domain_intents(path)) - INTERNAL_INTENTS)


@dataclass(frozen=True)
class ShopperMessage:
    """A shopper's message as the tracker recorded it: what the console calls message `seq`."""

    seq: int
    text: str
    at: float
    predicted_intent: str


def numbered_events(
    events: list[dict[str, Any]],
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each console message with the tracker event it came from, numbered as the console
    numbers them. `conversation_messages` decides per event whether it is a message, so asking
    it one event at a time keeps both numberings the same by construction."""
    pairs: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for event in events:
        shown = conversation_messages([event], with_intents=True)
        if shown:
            pairs.append(({**shown[0], "seq": len(pairs)}, event))
    return pairs


def _refusal(message: dict[str, Any], event: dict[str, Any]) -> str | None:
    """Why this console message cannot be marked as misread; None when it can."""
    seq = message["seq"]
    if message["sender"] != "user":
        writer = "bot" if message["sender"] == "bot" else "agent"
        return (
            "Only a shopper's message can be marked as misunderstood; "
            f"message {seq} was written by the {writer}."
        )
    if (event.get("metadata") or {}).get("is_external") is True:
        # the server's trigger_intent (a timed-out handoff), not the shopper's words
        return f"Message {seq} was sent by the shop's server, not typed by the shopper."
    text = str(event.get("text") or "")
    if not text.strip() or text.startswith("/"):
        return f"Message {seq} was a button press, not typed text: the bot did not have to read it."
    at = event.get("timestamp")
    if isinstance(at, bool) or not isinstance(at, int | float):
        return f"Message {seq} has no time in the tracker, so it cannot be marked."
    return None


def markable(events: list[dict[str, Any]]) -> set[int]:
    """The `seq`s of the shopper messages an agent may mark (typed, not button presses)."""
    return {m["seq"] for m, event in numbered_events(events) if _refusal(m, event) is None}


def shopper_message(events: list[dict[str, Any]], seq: Any) -> ShopperMessage:
    """The shopper's message numbered `seq`; CorrectionError when it is not one."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise CorrectionError("Say which message you mean: `seq` is the message's number.")
    pairs = numbered_events(events)
    if seq >= len(pairs):
        raise CorrectionError(f"This conversation has no message number {seq}.")
    message, event = pairs[seq]
    refusal = _refusal(message, event)
    if refusal is not None:
        raise CorrectionError(refusal)
    text = str(event["text"])
    return ShopperMessage(seq, text, float(event["timestamp"]), str(message.get("intent") or ""))


def chosen_intent(data: dict[str, Any], path: Path = DOMAIN) -> tuple[str, bool]:
    """The intent the agent chose and whether it is new, from `intent` or `new_intent`."""
    existing = data.get("intent")
    new = data.get("new_intent")
    if (existing in (None, "")) == (new in (None, "")):
        raise CorrectionError(
            "Choose the right intent from the list, or type a new intent name (one of the two)."
        )
    if existing not in (None, ""):
        if not isinstance(existing, str) or existing not in choosable_intents(path):
            raise CorrectionError(
                "That intent is not one the bot knows; choose one from the list, "
                "or type it as a new intent."
            )
        return existing, False
    name = new.strip().lower() if isinstance(new, str) else ""
    if not NEW_INTENT.fullmatch(name):
        raise CorrectionError(
            "A new intent name has 3 to 64 characters: lower-case letters, digits and _, "
            "starting with a letter (for example gift_wrapping)."
        )
    if name in INTERNAL_INTENTS:
        raise CorrectionError(f"{name} is the bot's own intent and cannot be chosen.")
    if name in domain_intents(path):
        raise CorrectionError(f"{name} already exists: please pick it from the list.")
    return name, True


def as_json(correction: NluCorrection, seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "intent": correction.correct_intent,
        "predicted_intent": correction.predicted_intent,
        "is_new_intent": correction.is_new_intent,
        "agent": correction.agent.display_name if correction.agent is not None else None,
        "at": correction.created_at.isoformat(),
    }


def mark(
    session: Session,
    conversation_id: str,
    events: list[dict[str, Any]],
    data: dict[str, Any],
    agent: Agent,
    now: datetime | None = None,
    domain: Path = DOMAIN,
) -> dict[str, Any]:
    """Store (or replace) the verdict on one shopper message and audit it; its JSON."""
    message = shopper_message(events, data.get("seq"))
    intent, is_new = chosen_intent(data, domain)
    if intent == message.predicted_intent:
        raise CorrectionError(
            f"The bot already read this message as {intent}; choose the intent it should have read."
        )
    text = redact(message.text)[:MAX_TEXT_CHARS]  # the first use loads the redactor (~1 s)
    correction = session.scalar(
        select(NluCorrection).where(
            NluCorrection.conversation_id == conversation_id,
            NluCorrection.message_at == message.at,
        )
    )
    if correction is None:
        correction = NluCorrection(conversation_id=conversation_id, message_at=message.at)
        session.add(correction)
    correction.text = text
    correction.predicted_intent = message.predicted_intent[:64]
    correction.correct_intent = intent
    correction.is_new_intent = is_new
    correction.agent = agent
    correction.created_at = now or utc_now()
    session.flush()
    audit.record(
        session, "mark_misread", agent=agent, conversation_id=conversation_id,
        detail=f"message {message.seq}: {message.predicted_intent or '(none)'} -> {intent}"
        + (" (new intent)" if is_new else ""),
    )  # fmt: skip
    return as_json(correction, message.seq)


def unmark(
    session: Session, conversation_id: str, events: list[dict[str, Any]], seq: int, agent: Agent
) -> bool:
    """Withdraw the verdict on a shopper message; whether there was one."""
    message = shopper_message(events, seq)
    correction = session.scalar(
        select(NluCorrection).where(
            NluCorrection.conversation_id == conversation_id,
            NluCorrection.message_at == message.at,
        )
    )
    if correction is None:
        return False
    session.delete(correction)
    audit.record(
        session, "unmark_misread", agent=agent, conversation_id=conversation_id,
        detail=f"message {seq}",
    )  # fmt: skip
    return True


def corrections_for(
    session: Session, conversation_id: str, messages: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The conversation's verdicts for the console: by the shopper messages' `seq` (their
    `at` is the tracker timestamp a verdict is stored under)."""
    seq_at = {m["at"]: m["seq"] for m in messages if m.get("sender") == "user" and m.get("at")}
    found = session.scalars(
        select(NluCorrection)
        .options(joinedload(NluCorrection.agent))
        .where(NluCorrection.conversation_id == conversation_id)
    )
    answer = [
        {
            "seq": seq_at[c.message_at],
            "intent": c.correct_intent,
            "is_new_intent": c.is_new_intent,
            "agent": c.agent.display_name if c.agent is not None else None,
        }
        for c in found
        if c.message_at in seq_at
    ]
    return sorted(answer, key=lambda entry: int(entry["seq"]))
