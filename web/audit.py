"""The audit log: who signed in, took, answered or closed what, for an admin to check.

It records facts, not content: `detail` is a short note (a username, a new status), never a
message's text or a password, so the log can be shown and kept without exposing shoppers.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.models import Agent, AuditEntry
from catalog.support import local_now

# What the console and the accounts command record; other short names are accepted too.
ACTIONS = (
    "login", "login_failed", "logout", "take", "reply", "note", "hand_back", "close",
    "create_agent", "disable_agent",
)  # fmt: skip
ACTION = re.compile(r"[a-z][a-z_]{0,31}")
MAX_DETAIL_CHARS = 500
MAX_RECENT = 1000


def record(
    session: Session,
    action: str,
    agent: Agent | None = None,
    conversation_id: str | None = None,
    detail: str = "",
    now: datetime | None = None,
) -> AuditEntry:
    """Add one entry in the caller's transaction, so it stands or falls with what it records.

    `detail` is made one line and cut to 500 characters; ValueError for an action name that
    is not lower-case letters and underscores (at most 32).
    """
    if not ACTION.fullmatch(action):
        raise ValueError(f"an audit action is a-z and _, at most 32 characters, not {action!r}")
    entry = AuditEntry(
        at=now or local_now(),
        agent_id=agent.id if agent is not None else None,
        action=action,
        conversation_id=conversation_id[:64] if conversation_id else None,
        detail=" ".join(detail.split())[:MAX_DETAIL_CHARS],
    )
    session.add(entry)
    session.flush()
    return entry


def recent(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """The newest entries first, as the console's GET audit answers them (`at` in ISO)."""
    entries = session.scalars(
        select(AuditEntry)
        .options(joinedload(AuditEntry.agent))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(max(1, min(limit, MAX_RECENT)))
    )
    return [
        {
            "at": entry.at.isoformat(),
            "agent": entry.agent.display_name if entry.agent is not None else None,
            "action": entry.action,
            "conversation_id": entry.conversation_id,
            "detail": entry.detail,
        }
        for entry in entries
    ]
