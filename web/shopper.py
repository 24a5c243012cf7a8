"""The shopper's socket.io channel: Rasa's socketio events, so rasa-webchat works too.

A socket joins the room of its conversation (the session id the widget keeps across
reloads); every push for the conversation goes to that room, so two tabs see the same chat.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from typing import Any

import socketio
from sqlalchemy.orm import Session

from web import handoff
from web.hub import TOO_LONG_TEXT, Hub, plain_room
from web.limits import SlidingWindow
from web.rasa_client import RasaUnavailable

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{22}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BURST = 8  # messages one chat may send within BURST_WINDOW_S
BURST_WINDOW_S = 10.0
PER_ADDRESS = 60  # messages from one network address, all its chats together, per minute
WIDGET_CLIENT = "shopdesk-widget"  # socket.io `auth.client` of web/static/widget.js
TOO_FAST_TEXT = "You're sending messages faster than I can read them. Please wait a moment."


def client_address(environ: dict[str, Any]) -> str:
    """The peer's address as the ASGI server saw it (not a header a client can forge)."""
    client = (environ.get("asgi.scope") or {}).get("client") or ()
    return str(client[0]) if client else str(environ.get("REMOTE_ADDR", ""))


def _signature(secret: bytes, nonce: str) -> str:
    digest = hmac.new(secret, nonce.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_session_id(secret: bytes) -> str:
    """`<random>.<signature>`: unguessable, and only this server can make one."""
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_signature(secret, nonce)}"


def session_id_from(data: Any, secret: bytes) -> str | None:
    """The client's session id if this server signed it, else None (a new conversation):
    a shopper can never pick someone else's conversation to read."""
    candidate = data.get("session_id") if isinstance(data, dict) else data
    if not isinstance(candidate, str) or not SESSION_ID.match(candidate):
        return None
    nonce, signature = candidate.split(".")
    return candidate if hmac.compare_digest(signature, _signature(secret, nonce)) else None


def register(sio: socketio.AsyncServer, hub: Hub, max_chars: int, secret: bytes) -> None:
    per_socket = SlidingWindow(BURST, BURST_WINDOW_S)
    per_address = SlidingWindow(PER_ADDRESS, 60.0)

    async def confirmed(sid: str) -> str | None:
        session = await sio.get_session(sid)
        return session.get("conversation_id") if session else None

    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        rich = isinstance(auth, dict) and auth.get("client") == WIDGET_CLIENT
        await sio.save_session(sid, {"rich": rich, "address": client_address(environ)})

    async def disconnect(sid: str, reason: Any = None) -> None:
        per_socket.clear(sid)

    async def session_request(sid: str, data: Any = None) -> None:
        conversation_id = session_id_from(data, secret) or new_session_id(secret)
        session = await sio.get_session(sid)
        rich = bool(session.get("rich"))
        await sio.save_session(sid, {**session, "conversation_id": conversation_id})
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
            await session_request(sid, data)
            conversation_id = await confirmed(sid)
            if conversation_id is None:
                return
        text = str(data.get("message") or "").strip() if isinstance(data, dict) else ""
        if not text:
            return
        if len(text) > max_chars:
            await hub.say_transient(conversation_id, TOO_LONG_TEXT.format(n=max_chars))
            return
        address = (await sio.get_session(sid)).get("address", "")
        if not per_socket.allow(sid) or not per_address.allow(address):
            await hub.say_transient(conversation_id, TOO_FAST_TEXT)
            return
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
