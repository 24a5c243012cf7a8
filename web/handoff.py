"""How the agent console shows a handoff, and the end-of-chat rating buttons it offers.

The lifecycle itself (request, take, finish, expire) is catalog/handoffs.py.

"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from catalog.models import Agent, Handoff
from core.clock import utc_now
from core.paths import DOMAIN_FILE


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
