"""The shopper's socket.io channel: Rasa's socketio events, so rasa-webchat works too.

A socket joins the room of its conversation (the session id the widget keeps across
reloads); every push for the conversation goes to that room, so two tabs see the same chat.

A stranger reaches this channel without signing in, so everything it does is limited
(web/limits.py): connections, session requests, history reads and messages, per network
address, per socket and per conversation. A refused event is answered with `rate_limited`
(and, for a message, a polite notice in the chat), never silently dropped.

A shared computer must not hand the next person the last one's chat: a conversation idle for
`SHOPDESK_SHOPPER_IDLE_MINUTES` is not resumed (its browser gets a new, empty one), and the
shopper can clear the chat, which deletes its events from Rasa's tracker store.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypedDict

import socketio
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog import handoffs
from catalog.statuses import HandoffStatus
from privacy.conversations import delete_conversation
from tracker.events import TrackerEvents
from web import proxies
from web.hub import TOO_LONG_TEXT, Hub, plain_room
from web.limits import EventLimits, Rule, ShopperChannelSettings
from web.rasa_client import RasaUnavailable

log = logging.getLogger(__name__)

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{22}$")
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
BURST = 8  # messages of one socket, or of one conversation in all its tabs, per BURST_WINDOW_S
BURST_WINDOW_S = 10.0
# Per socket and per conversation, per minute. The widget asks for a session and its history
# once per (re)connection, and a new socket is a new sid, so these leave room for many tabs.
SESSION_REQUESTS_PER_SOCKET = 10
SESSION_REQUESTS_PER_CONVERSATION = 60
HISTORY_PER_SOCKET = 20
HISTORY_PER_CONVERSATION = 120
CLEARS_PER_SOCKET = 5
WIDGET_CLIENT = "shopdesk-widget"  # socket.io `auth.client` of web/static/widget/connection.js
# What every client of this channel renders: the ShopDesk widget and rasa-webchat both show
# the product cards' carousel and quick replies, so product answers come as a sentence and
# cards, without the numbered list of links (actions/channel.py, actions/product_cards.py).
CAPABILITIES_KEY: Final = "capabilities"  # actions/channel.py CAPABILITIES_KEY
SOCKET_CAPABILITIES: Final = ("cards", "buttons")  # actions/channel.py CARDS, BUTTONS
TOO_FAST_TEXT = "You're sending messages faster than I can read them. Please wait a moment."
NOT_CLEARED_TEXT = "Sorry, I could not clear the chat just now. Please try again in a moment."
RATE_LIMITED = "rate_limited"  # the event a refused client gets: {"event", "retry_after", "text"}
CHAT_CLEARED = "chat_cleared"  # {"cleared": bool, "session_id"?: the new id, "text"?}
IDLE, CLEARED = "idle", "cleared"  # session_confirm's `reason` for a new session


def client_address(environ: dict[str, Any]) -> str:
    """The socket's client address, by the same rule as every HTTP request (web/proxies.py):
    the peer, or the client a trusted proxy names; never a header the client wrote itself.
    (engine.io's REMOTE_ADDR is always 127.0.0.1, so only the ASGI scope will do.)"""
    return proxies.client_address(environ.get("asgi.scope") or {})


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


def last_activity(transcripts: TrackerEvents, conversation_id: str) -> float | None:
    """When the conversation's latest event happened (epoch seconds, as Rasa stamps them);
    None when it has none (a new or cleared chat)."""
    table = transcripts.table()
    if table is None:
        return None
    query = select(func.max(table.c.timestamp)).where(table.c.sender_id == conversation_id)
    with transcripts.engine.connect() as connection:
        latest = connection.scalar(query)
    return float(latest) if latest is not None else None


def event_rules(channel: ShopperChannelSettings) -> dict[str, Rule]:
    """The windows of the shopper channel, named `<event>/<per what>`."""
    connects = channel.connects_per_minute
    return {
        "connect/address": Rule(connects),
        "session_request/address": Rule(connects),
        "session_request/socket": Rule(SESSION_REQUESTS_PER_SOCKET),
        "session_request/conversation": Rule(SESSION_REQUESTS_PER_CONVERSATION),
        "history/address": Rule(2 * connects),
        "history/socket": Rule(HISTORY_PER_SOCKET),
        "history/conversation": Rule(HISTORY_PER_CONVERSATION),
        "user_uttered/address": Rule(channel.messages_per_minute),
        "user_uttered/socket": Rule(BURST, BURST_WINDOW_S),
        "user_uttered/conversation": Rule(BURST, BURST_WINDOW_S),
        "clear_chat/address": Rule(connects),
        "clear_chat/socket": Rule(CLEARS_PER_SOCKET),
    }


def _room(conversation_id: str, rich: bool) -> str:
    return conversation_id if rich else plain_room(conversation_id)


def register(
    sio: socketio.AsyncServer,
    hub: Hub,
    max_chars: int,
    secret: bytes,
    tracker_url: str,
    channel: ShopperChannelSettings | None = None,
) -> None:
    """The shopper's events on the default namespace; `tracker_url` is Rasa's tracker store,
    where "clear this chat" deletes the conversation's events."""
    channel = channel or ShopperChannelSettings()
    rules = event_rules(channel)
    limits = EventLimits(rules)

    async def confirmed(sid: str) -> str | None:
        session = await sio.get_session(sid)
        return session.get("conversation_id") if session else None

    async def address_of(sid: str) -> str:
        return str((await sio.get_session(sid) or {}).get("address", ""))

    async def refused(sid: str, event: str, conversation_id: str | None = None) -> bool:
        """Count the event in its windows (per address, socket and conversation); when one is
        full, send the client `rate_limited` with how long to wait, and answer True."""
        counted = [(f"{event}/address", await address_of(sid)), (f"{event}/socket", sid)]
        if conversation_id is not None and f"{event}/conversation" in rules:
            counted.append((f"{event}/conversation", conversation_id))
        wait = limits.check(counted)
        if wait is None:
            return False
        notice = {"event": event, "retry_after": wait, "text": TOO_FAST_TEXT}
        await sio.emit(RATE_LIMITED, notice, to=sid)
        return True

    async def idle(conversation_id: str) -> bool:
        """Whether the conversation was left alone longer than the idle setting."""
        try:
            latest = await asyncio.to_thread(last_activity, hub.transcripts, conversation_id)
        except SQLAlchemyError as error:  # Rasa cannot answer either; the next request checks
            log.warning("could not read when a conversation was last active: %s", error)
            return False
        return latest is not None and time.time() - latest > channel.idle_s

    async def join(sid: str, conversation_id: str, reason: str | None = None) -> None:
        """Put the socket in the conversation (out of the one it was in) and confirm it;
        `reason` says why it is a new one ("idle", "cleared"), so the widget can say so."""
        session = await sio.get_session(sid)
        rich = bool(session.get("rich"))
        if previous := session.get("conversation_id"):
            await sio.leave_room(sid, _room(previous, rich))
        await sio.save_session(sid, {**session, "conversation_id": conversation_id})
        await sio.enter_room(sid, _room(conversation_id, rich))
        confirm: dict[str, Any] = {"session_id": conversation_id, "idle_s": channel.idle_s}
        if reason:
            confirm["reason"] = reason
        await sio.emit("session_confirm", confirm, to=sid)

    async def start_over(conversation_id: str, reason: str) -> str:
        """Move every socket of the conversation (all its tabs) to a new, empty one."""
        fresh = new_session_id(secret)
        for room in (conversation_id, plain_room(conversation_id)):
            for member, _ in list(sio.manager.get_participants("/", room)):
                await join(member, fresh, reason)
        return fresh

    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        address = client_address(environ)
        wait = limits.check([("connect/address", address)])
        if wait is not None:
            raise socketio.exceptions.ConnectionRefusedError(
                {"message": TOO_FAST_TEXT, "retry_after": wait}
            )
        rich = isinstance(auth, dict) and auth.get("client") == WIDGET_CLIENT
        await sio.save_session(sid, {"rich": rich, "address": address})

    async def disconnect(sid: str, reason: Any = None) -> None:
        limits.forget(sid)

    async def session_request(sid: str, data: Any = None) -> None:
        requested = session_id_from(data, secret)
        if await refused(sid, "session_request", requested):
            return
        if requested is not None and await idle(requested):
            log.info("an idle conversation was not resumed; its browser gets a new one")
            await join(sid, new_session_id(secret), IDLE)
            return
        await join(sid, requested or new_session_id(secret))

    async def history(sid: str, data: Any = None) -> None:
        conversation_id = await confirmed(sid)
        if conversation_id is None or await refused(sid, "history", conversation_id):
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
        message = data if isinstance(data, dict) else {}
        text = str(message.get("message") or "").strip()
        if not text:
            return
        if len(text) > max_chars:
            await hub.say_transient(conversation_id, TOO_LONG_TEXT.format(n=max_chars))
            return
        if await refused(sid, "user_uttered", conversation_id):
            await hub.say_transient(conversation_id, TOO_FAST_TEXT)
            return
        if await idle(conversation_id):  # a page left open: the message starts a new chat
            conversation_id = await start_over(conversation_id, IDLE)
        metadata = message_metadata(message)
        agent_present = await taken(conversation_id)
        await hub.shopper_message(conversation_id, text, metadata, agent_present=agent_present)
        hub.queue_dirty()  # a new handoff, or a new preview of a waiting one

    async def taken(conversation_id: str) -> bool:
        def status(session: Session) -> str | None:
            current = handoffs.current(session, conversation_id)
            return current.status if current else None

        return await hub.db(status) == HandoffStatus.TAKEN

    async def clear_chat(sid: str, data: Any = None) -> None:
        conversation_id = await confirmed(sid)
        if conversation_id is None or await refused(sid, "clear_chat"):
            return
        async with hub.conversation_lock(conversation_id):  # a reply on its way lands first
            try:
                deleted = await asyncio.to_thread(delete_conversation, tracker_url, conversation_id)
            except SQLAlchemyError as error:
                log.warning("could not clear a shopper's chat: %s", error)
                await sio.emit(CHAT_CLEARED, {"cleared": False, "text": NOT_CLEARED_TEXT}, to=sid)
                return
            hub.previews.pop(conversation_id, None)
            fresh = await start_over(conversation_id, CLEARED)
        log.info("a shopper cleared their chat (%d events deleted)", deleted)
        await sio.emit(CHAT_CLEARED, {"cleared": True, "session_id": fresh}, room=fresh)

    handlers: tuple[Callable[..., Awaitable[None]], ...] = (
        connect,
        disconnect,
        session_request,
        history,
        user_uttered,
        clear_chat,
    )
    for handler in handlers:
        sio.on(handler.__name__, handler)


class RelayedMetadata(TypedDict, total=False):
    """The metadata the web server sends Rasa with a shopper's message (docs/contracts.md)."""

    message_id: str  # the widget's own id for the message, to show it once
    display_text: str  # the button title the widget showed in place of the payload
    capabilities: list[str]  # what the channel renders: SOCKET_CAPABILITIES


def message_metadata(data: dict[str, Any]) -> RelayedMetadata:
    """What the widget may say about its message (its id, the button title it showed), and
    what this channel renders, which the server says, not the client."""
    metadata: RelayedMetadata = {CAPABILITIES_KEY: list(SOCKET_CAPABILITIES)}
    message_id = data.get("message_id")
    if isinstance(message_id, str) and MESSAGE_ID.match(message_id):
        metadata["message_id"] = message_id
    display_text = data.get("display_text")
    if isinstance(display_text, str) and display_text.strip():
        metadata["display_text"] = display_text.strip()[:200]
    return metadata
