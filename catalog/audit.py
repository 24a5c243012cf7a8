"""One writer of the audit log, for the console's people and for the bot alike.

It records facts, not content: `detail` is a short note (a username, a new status, an order
number), never a message's text or a password, so the log can be shown and kept without
exposing shoppers. The bot's own changes (cancel, address change, erasure request) have no
agent: `agent` is None and the action name starts with `bot_`.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from catalog.models import Agent, AuditEntry
from core.clock import utc_now

ACTION = re.compile(r"[a-z][a-z_]{0,31}")
MAX_DETAIL_CHARS = 500


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
        at=now or utc_now(),
        agent_id=agent.id if agent is not None else None,
        action=action,
        conversation_id=conversation_id[:64] if conversation_id else None,
        detail=" ".join(detail.split())[:MAX_DETAIL_CHARS],
    )
    session.add(entry)
    session.flush()
    return entry
