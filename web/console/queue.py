"""The handoff queue as the console shows it: `GET queue`, and the snapshot the app's sweep and
the agents' socket push (web/app.py)."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter
from sqlalchemy.orm import Session

from catalog import handoffs
from web import handoff
from web.console.deps import HubDep, SignedInAgent
from web.hub import PREVIEW_CHARS, Hub
from web.rasa_client import RasaUnavailable


async def queue_snapshot(hub: Hub) -> dict[str, Any]:
    """The open handoffs, oldest first, each with the shopper's last message as a preview."""

    def read(session: Session) -> dict[str, Any]:
        return {
            "conversations": [handoff.as_json(session, h) for h in handoffs.open_handoffs(session)]
        }

    queue = await hub.db(read)
    for entry in queue["conversations"]:
        conversation_id = entry["conversation_id"]
        if conversation_id not in hub.previews:  # not seen since this server started
            with contextlib.suppress(RasaUnavailable):
                shopper = [m for m in await hub.messages(conversation_id) if m["sender"] == "user"]
                hub.previews[conversation_id] = (
                    shopper[-1]["text"][:PREVIEW_CHARS] if shopper else ""
                )
        entry["preview"] = hub.previews.get(conversation_id, "")
    return queue


router = APIRouter()


@router.get("/queue")
async def queue(who: SignedInAgent, hub: HubDep) -> dict[str, Any]:
    return await queue_snapshot(hub)
