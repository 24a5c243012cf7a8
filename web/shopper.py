"""The shopper's socket.io channel: Rasa's socketio events, so rasa-webchat works too.

A socket joins the room of its conversation (the session id the widget keeps across
reloads); every push for the conversation goes to that room, so two tabs see the same chat.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import deque
from typing import Any

import socketio
from sqlalchemy.orm import Session

from web import handoff
from web.hub import TOO_LONG_TEXT, Hub, plain_room
from web.rasa_client import RasaUnavailable

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BURST = 8  # messages a shopper may send within BURST_WINDOW_S
BURST_WINDOW_S = 10.0
WIDGET_CLIENT = "shopdesk-widget"  # socket.io `auth.client` of web/static/widget.js
TOO_FAST_TEXT = "You're sending messages faster than I can read them. Please wait a moment."


def session_id_from(data: Any) -> str | None:
    candidate = data.get("session_id") if isinstance(data, dict) else data
    return candidate if isinstance(candidate, str) and SESSION_ID.match(candidate) else None


def register(sio: socketio.AsyncServer, hub: Hub, max_chars: int) -> None:
    recent: dict[str, deque[float]] = {}

    async def confirmed(sid: str) -> str | None:
        session = await sio.get_session(sid)
        return session.get("conversation_id") if session else None

    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        recent[sid] = deque()
        rich = isinstance(auth, dict) and auth.get("client") == WIDGET_CLIENT
        await sio.save_session(sid, {"rich": rich})

    async def disconnect(sid: str, reason: Any = None) -> None:
        recent.pop(sid, None)

    async def session_request(sid: str, data: Any = None) -> None:
        conversation_id = session_id_from(data) or uuid.uuid4().hex
        session = await sio.get_session(sid)
        rich = bool(session.get("rich"))
        await sio.save_session(sid, {"rich": rich, "conversation_id": conversation_id})
        await sio.enter_room(sid, conversation_id if rich else plain_room(conversation_id))
        await sio.emit("session_confirm", {"session_id": conversation_id}, to=sid)

    async def history(sid: str, data: Any = None) -> None:
        conversation_id = await confirmed(sid)
        if conversation_id is None:
            return
        after = data.get("after_seq", -1) if isinstance(data, dict) else -1
        after = after if isinstance(after, int) else -1
        try:
            messages = await hub.messages(conversation_id)
        except RasaUnavailable:
            messages = []
        await sio.emit("history", {"messages": [m for m in messages if m["seq"] > after]}, to=sid)

    async def user_uttered(sid: str, data: Any = None) -> None:
        conversation_id = await confirmed(sid)
        if conversation_id is None:  # rasa-webchat may send before session_confirm arrives
            conversation_id = session_id_from(data)
            if conversation_id is None:
                return
            await session_request(sid, {"session_id": conversation_id})
        text = str(data.get("message") or "").strip() if isinstance(data, dict) else ""
        if not text:
            return
        if len(text) > max_chars:
            await hub.say_transient(conversation_id, TOO_LONG_TEXT.format(n=max_chars))
            return
        stamps = recent.setdefault(sid, deque())
        now = time.monotonic()
        while stamps and now - stamps[0] > BURST_WINDOW_S:
            stamps.popleft()
        if len(stamps) >= BURST:
            await hub.say_transient(conversation_id, TOO_FAST_TEXT)
            return
        stamps.append(now)
        metadata: dict[str, Any] = {}
        message_id = data.get("message_id")
        if isinstance(message_id, str) and MESSAGE_ID.match(message_id):
            metadata["message_id"] = message_id
        display_text = data.get("display_text")
        if isinstance(display_text, str) and display_text.strip():
            metadata["display_text"] = display_text.strip()[:200]

        def status(session: Session) -> str | None:
            current = handoff.current(session, conversation_id)
            return current.status if current else None

        agent_present = await hub.db(status) == "taken"
        await hub.shopper_message(conversation_id, text, metadata, agent_present=agent_present)
        hub.queue_dirty()  # a new handoff, or a new preview of a waiting one

    for handler in (connect, disconnect, session_request, history, user_uttered):
        sio.on(handler.__name__, handler)
