"""The transcripts a shopper is given in an export: each conversation's messages, in order,
as the shopper saw them (who wrote, when, the text)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from catalog.button_text import ButtonTurns
from tracker.events import open_events, parse_event, select_in_chunks

SHOPPER, BOT, AGENT = "shopper", "bot", "agent"


def _when(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int | float):
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


def transcripts(tracker_url: str, conversations: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each conversation's messages in order: who (shopper, bot or agent), when (ISO, UTC)
    and the text. A button press reads as the button's title, as the shopper saw it."""
    found: dict[str, list[dict[str, Any]]] = {conversation: [] for conversation in conversations}
    if not conversations:
        return found
    with open_events(tracker_url) as store:
        if store is None:
            return found
        events = store.table
        query = (
            select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.type_name.in_(("user", "bot")))
            .order_by(events.c.sender_id, events.c.id)
        )
        rows = select_in_chunks(store.connection, query, events.c.sender_id, conversations)
        buttons: dict[str, ButtonTurns] = {}
        for sender_id, kind, timestamp, data in rows:
            event = parse_event(data)
            metadata = event.get("metadata") or {}
            if not isinstance(metadata, dict):
                metadata = {}
            text = str(event.get("text") or "")
            turns = buttons.setdefault(sender_id, ButtonTurns())
            if kind == "user":
                sender = SHOPPER
                text = turns.user_text(event)  # a button's title only if the bot offered it
            else:
                turns.bot(event)
                sender = AGENT if metadata.get("agent_name") else BOT
            if text:
                at = _when(timestamp if timestamp is not None else event.get("timestamp"))
                found[sender_id].append({"at": at, "sender": sender, "text": text})
    return found
