"""Who has a conversation: the handoff queue in the shop database (catalog.models.Handoff).

The action server opens a handoff (status `waiting`) and pauses the conversation; from then
on the agent console moves it on: `taken` by one agent, then `handed_back` to the bot or
`closed`; or `timed_out` when no agent took it in time. Taking is one conditional UPDATE, so
two agents clicking at once cannot both get a conversation.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Agent, Handoff
from catalog.statuses import OPEN_HANDOFF, HandoffStatus
from core.clock import utc_now
from core.paths import DOMAIN_FILE


class HandoffError(ValueError):
    """An agent action that does not fit the handoff's state; the text is for the agent."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def as_json(session: Session, handoff: Handoff, now: datetime | None = None) -> dict[str, Any]:
    now = now or utc_now()
    agent = session.get(Agent, handoff.agent_id) if handoff.agent_id else None
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "status": handoff.status,
        "reason": handoff.reason,
        "agent": agent.display_name if agent else None,
        "agent_id": agent.id if agent else None,
        "created_at": handoff.created_at.isoformat(),
        "waiting_s": max(0, round((now - handoff.created_at).total_seconds())),
    }


def open_handoffs(session: Session) -> list[Handoff]:
    return list(
        session.scalars(
            select(Handoff)
            .where(Handoff.status.in_(OPEN_HANDOFF))
            .order_by(Handoff.created_at, Handoff.id)
        )
    )


def current(session: Session, conversation_id: str) -> Handoff | None:
    """The conversation's open handoff, else its latest one (for the console's header)."""
    return session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id)
        .order_by(
            Handoff.status.in_(OPEN_HANDOFF).desc(), Handoff.created_at.desc(), Handoff.id.desc()
        )
        .limit(1)
    )


def owner_of(session: Session, conversation_id: str) -> Agent | None:
    """The agent who has the conversation now, if one has."""
    handoff = current(session, conversation_id)
    if handoff is None or handoff.status != HandoffStatus.TAKEN or handoff.agent_id is None:
        return None
    return session.get(Agent, handoff.agent_id)


def take(session: Session, conversation_id: str, agent: Agent) -> Handoff:
    handoff = current(session, conversation_id)
    if handoff is None or handoff.status not in OPEN_HANDOFF:
        raise HandoffError("This conversation is not waiting for a person.")
    if handoff.status == HandoffStatus.TAKEN:
        if handoff.agent_id == agent.id:
            return handoff
        holder = session.get(Agent, handoff.agent_id) if handoff.agent_id else None
        raise HandoffError(f"{holder.display_name if holder else 'Another agent'} already has it.")
    now = utc_now()
    won = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == HandoffStatus.WAITING)
        .values(status=HandoffStatus.TAKEN, agent_id=agent.id, taken_at=now, updated_at=now)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise HandoffError("Another agent took this conversation a moment ago.")
    session.refresh(handoff)
    return handoff


def require_owner(session: Session, conversation_id: str, agent: Agent) -> Handoff:
    handoff = current(session, conversation_id)
    if handoff is None or handoff.status != HandoffStatus.TAKEN:
        raise HandoffError("Take the conversation over first.")
    if handoff.agent_id != agent.id:
        raise HandoffError("Another agent has this conversation.", status=403)
    return handoff


def finish(session: Session, conversation_id: str, agent: Agent, status: str) -> Handoff:
    """Hand back to the bot or close: only the agent who has it (or an admin) may."""
    handoff = current(session, conversation_id)
    if handoff is None or handoff.status not in OPEN_HANDOFF:
        raise HandoffError("This conversation is not with a person.")
    someone_else = handoff.agent_id != agent.id and agent.role != "admin"
    if handoff.status == HandoffStatus.TAKEN and someone_else:
        raise HandoffError("Another agent has this conversation.", status=403)
    now = utc_now()
    handoff.status = status
    handoff.closed_at = now
    handoff.updated_at = now
    if handoff.agent_id is None:
        handoff.agent_id = agent.id
    session.flush()
    return handoff


def expire_waiting(session: Session, timeout_s: float, now: datetime | None = None) -> list[str]:
    """Time out the handoffs no agent took in time; the conversations they belonged to."""
    now = now or utc_now()
    expired = []
    for handoff in open_handoffs(session):
        waited = (now - handoff.created_at).total_seconds()
        if handoff.status == HandoffStatus.WAITING and waited >= timeout_s:
            handoff.status = HandoffStatus.TIMED_OUT
            handoff.closed_at = now
            handoff.updated_at = now
            expired.append(handoff.conversation_id)
    session.flush()
    return expired


DOMAIN = DOMAIN_FILE
RATED_RESPONSE = "utter_goodbye"  # its buttons are the end-of-chat rating (docs/analytics.md)


@lru_cache(maxsize=4)
def _rating_buttons(path: Path, modified_ns: int) -> tuple[tuple[str, str], ...]:
    domain = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    variants = (domain.get("responses") or {}).get(RATED_RESPONSE) or [{}]
    return tuple(
        (str(button["title"]), str(button["payload"]))
        for button in variants[0].get("buttons") or []
        if isinstance(button, dict) and str(button.get("payload", "")).startswith("/rate_")
    )


def rating_buttons(path: Path = DOMAIN) -> list[dict[str, str]]:
    """The bot's own rating buttons (utter_goodbye's), offered again when an agent closes a
    chat, so conversations people handled are rated the same way; [] if the domain has none."""
    try:
        modified = path.stat().st_mtime_ns
    except OSError:
        return []
    return [{"title": t, "payload": p} for t, p in _rating_buttons(path, modified)]
