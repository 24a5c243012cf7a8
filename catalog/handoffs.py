"""The handoff lifecycle in one place: who has a conversation (catalog.models.Handoff).

The action server opens a handoff (`request`: status `waiting`) and pauses the conversation;
from then on the agent console moves it on: `taken` by one agent, then `handed_back` to the bot
or `closed`; or `timed_out` when no agent took it in time (`expire_waiting`). Taking is one
conditional UPDATE, so two agents clicking at once cannot both get a conversation. How the
console shows a handoff is web's (web/handoff.py); when the bot offers one is the actions'
(actions/handoff.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.models import Agent, Handoff
from catalog.statuses import OPEN_HANDOFF, HandoffStatus
from catalog.text import one_line
from core.clock import utc_now


class HandoffError(ValueError):
    """An agent action that does not fit the handoff's state; the text is for the agent."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


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


def request(
    session: Session, conversation_id: str, reason: str, now: datetime | None = None
) -> Handoff:
    """Queue the conversation for an agent, once: an open hand-off of it is returned as is."""
    now = now or utc_now()
    existing = session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN_HANDOFF))
        .order_by(Handoff.created_at, Handoff.id)
        .limit(1)
    )
    if existing is not None:
        return existing
    handoff = Handoff(
        conversation_id=conversation_id,
        reason=one_line(reason, 255),
        status=HandoffStatus.WAITING,
        created_at=now,
        updated_at=now,
    )
    session.add(handoff)
    session.flush()
    return handoff
