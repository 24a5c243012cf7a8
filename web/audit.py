"""The audit log: who signed in, took, answered or closed what, for an admin to check.

It records facts, not content: `detail` is a short note (a username, a new status), never a
message's text or a password, so the log can be shown and kept without exposing shoppers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from catalog.audit import record
from catalog.models import AuditEntry

# What the console and the accounts command record; other short names are accepted too.
ACTIONS = (
    "login", "login_failed", "logout", "take", "reply", "note", "hand_back", "close",
    "create_agent", "disable_agent", "read_transcript", "export_csv",
    "enable_agent", "password_link", "password_set",  # the console's accounts admin
)  # fmt: skip
MAX_RECENT = 1000
__all__ = ["ACTIONS", "recent", "record"]


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
