"""Agents' notes on a conversation, for colleagues; the shopper never sees them.

They work within the caller's transaction and keep the text as written (only trimmed); the
console shows it as text, never as HTML.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.models import Agent, AgentNote
from catalog.support import kept_text
from core.clock import utc_now

MAX_CONVERSATION_ID_CHARS = 64


def _conversation(conversation_id: str) -> str:
    if not conversation_id or len(conversation_id) > MAX_CONVERSATION_ID_CHARS:
        raise ValueError(f"{conversation_id!r} is not a conversation id")
    return conversation_id


def note_json(note: AgentNote) -> dict[str, Any]:
    """A Note as the console API answers it (docs/web.md)."""
    return {
        "id": note.id,
        "agent": note.agent.display_name,
        "text": note.text,
        "at": note.created_at.isoformat(),
    }


def add_note(
    session: Session,
    conversation_id: str,
    agent: Agent,
    text: str,
    now: datetime | None = None,
) -> AgentNote:
    """Keep an agent's note on the conversation; note_json() gives the API's shape."""
    note = AgentNote(
        conversation_id=_conversation(conversation_id),
        agent=agent,
        text=kept_text(text, "note"),
        created_at=now or utc_now(),
    )
    session.add(note)
    session.flush()
    return note


def notes_for(session: Session, conversation_id: str) -> list[dict[str, Any]]:
    """The conversation's notes, oldest first (they read as a thread)."""
    notes = session.scalars(
        select(AgentNote)
        .options(joinedload(AgentNote.agent))
        .where(AgentNote.conversation_id == conversation_id)
        .order_by(AgentNote.created_at, AgentNote.id)
    )
    return [note_json(note) for note in notes]
