"""The live side of conversations: shoppers' sockets, Rasa, and agents' console sockets.

Every change to a conversation (a shopper's message, an agent's reply, a handoff event) ends
with `sync`, which reads the conversation from Rasa's tracker and pushes the messages the
sockets have not had yet: to the shopper's sockets, and to the console sockets of the one agent
who holds the conversation (web/agent_feed.py), never to every agent. The tracker is the one
record: a page reload, a reconnect and the console all read the same numbered messages from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import socketio
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from catalog import handoffs
from catalog.db import session_scope
from tracker.events import TrackerEvents
from web.agent_feed import AgentFeed
from web.messages import conversation_messages, from_bot, plain
from web.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

UNAVAILABLE_TEXT = (
    "Sorry, I can't answer right now because part of our system is not responding. "
    "Please try again in a moment."
)
TOO_LONG_TEXT = (
    "That message is too long for me. Could you say it in fewer words (at most {n} characters)?"
)


# Paused by action_handoff, Rasa stopped without listening; rules expect every shopper turn to
# follow action_listen, so the bot listens again as it resumes.
RESUME_EVENTS = (
    {"event": "resume"},
    {"event": "action", "name": "action_listen"},
    {"event": "slot", "name": "handoff_status", "value": None},
)


def plain_room(conversation_id: str) -> str:
    """The sockets of a conversation that speak Rasa's plain socketio shape (rasa-webchat)."""
    return f"{conversation_id}#plain"


HANDOFF_TIMEOUT_INTENT = (
    "handoff_timeout"  # bot/domain.yml: the bot offers to go on or take a message
)


PREVIEW_CHARS = 140
V = TypeVar("V")


class Recent(OrderedDict[str, V]):
    """A dict that forgets its least recently written keys beyond `limit`, so a long-running
    server's memory does not grow with every conversation it has seen."""

    def __init__(self, limit: int = 10_000) -> None:
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: str, value: V) -> None:
        super().__setitem__(key, value)
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


class Hub:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        rasa: RasaClient,
        database_url: str,
        transcripts: TrackerEvents,
        agent_session_ttl_s: float,
        agent_session_max_age_s: float,
    ) -> None:
        self.sio = sio
        self.rasa = rasa
        self.database_url = database_url
        self.transcripts = transcripts
        # one lock per conversation, kept only while someone holds or waits for it
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # conversation -> highest seq pushed to its sockets; the shopper's last message
        self._pushed: Recent[int] = Recent()
        self.previews: Recent[str] = Recent()
        self.queue_changes = asyncio.Event()  # set when the agents' queue may have changed
        # console sockets, each checked against its session's idle and absolute lifetimes
        self.feed = AgentFeed(sio, self.db, agent_session_ttl_s, agent_session_max_age_s)

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    def conversation_lock(self, conversation_id: str) -> asyncio.Lock:
        """Held while a message of the conversation is on its way through Rasa: clearing the
        chat (web/shopper.py) waits for it, so no reply lands after the events are deleted."""
        return self._lock(conversation_id)

    async def db(self, work: Callable[[Any], T]) -> T:
        """Run one unit of work on the shop database off the event loop."""

        def unit() -> T:
            with session_scope(self.database_url) as session:
                return work(session)

        return await asyncio.to_thread(unit)

    async def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's messages, from Rasa's tracker store (tracker/events.py)."""
        try:
            events = await asyncio.to_thread(self.transcripts.events, conversation_id)
        except SQLAlchemyError as error:
            raise RasaUnavailable(f"the conversation store: {type(error).__name__}") from None
        return conversation_messages(events)

    async def sync(self, conversation_id: str) -> list[dict[str, Any]]:
        """Push the conversation's new messages to the shopper's sockets and to the sockets of
        the agent who holds it; other agents see the queue's preview, or read it (REST)."""
        messages = await self.messages(conversation_id)
        last = self._pushed.get(conversation_id, -1)
        new = [m for m in messages if m["seq"] > last]
        for message in new:
            await self.emit_to_shopper(conversation_id, message)
        if messages:
            self._pushed[conversation_id] = messages[-1]["seq"]
        holder = await self.holder(conversation_id) if new else None
        if holder is not None:
            await self.feed.to_agent(
                holder,
                "message",
                ({"conversation_id": conversation_id, "message": m} for m in new),
            )
        return new

    async def holder(self, conversation_id: str) -> int | None:
        """The id of the agent who has taken the conversation; None when nobody has, or when
        the shop database cannot say (then no agent is sent it: the console reads it again)."""

        def owner(session: Session) -> int | None:
            agent = handoffs.owner_of(session, conversation_id)
            return agent.id if agent is not None else None

        try:
            return await self.db(owner)
        except SQLAlchemyError as error:
            log.warning("could not look up who holds a conversation: %s", type(error).__name__)
            return None

    async def emit_to_shopper(self, conversation_id: str, message: dict[str, Any]) -> None:
        """To ShopDesk widgets as is; to other Rasa widgets in Rasa's own shape."""
        await self.sio.emit("bot_uttered", message, room=conversation_id)
        if shaped := plain(message):
            await self.sio.emit("bot_uttered", shaped, room=plain_room(conversation_id))

    async def say_transient(self, conversation_id: str, text: str) -> None:
        """A notice that is not part of the conversation's record (Rasa is down, too long)."""
        seq = self._pushed.get(conversation_id, -1)
        await self.emit_to_shopper(
            conversation_id, {"sender": "bot", "text": text, "seq": seq, "transient": True}
        )

    async def shopper_message(
        self, conversation_id: str, text: str, metadata: Mapping[str, Any], agent_present: bool
    ) -> None:
        async with self._lock(conversation_id):
            await self._baseline(conversation_id)
            self.previews[conversation_id] = text[:PREVIEW_CHARS]
            await self.sio.emit("typing", {"on": True}, room=conversation_id)
            try:
                replies = await self.rasa.send(
                    conversation_id, text, {**metadata, "agent_present": agent_present}
                )
                new = await self.sync(conversation_id)
            except RasaUnavailable as error:
                log.warning("Rasa did not answer a shopper message: %s", error)
                await self.say_transient(conversation_id, UNAVAILABLE_TEXT)
                return
            finally:
                await self.sio.emit("typing", {"on": False}, room=conversation_id)
            recorded_bot = [m for m in new if m["sender"] != "user"]
            if not recorded_bot and not agent_present:
                # replies the channel adds without recording them ("your message is with our team")
                for reply in replies:
                    message = from_bot(reply)
                    if message.get("text"):
                        await self.say_transient(conversation_id, message["text"])

    async def _baseline(self, conversation_id: str) -> None:
        """After a restart, what the sockets already have: everything before this change."""
        if conversation_id not in self._pushed:
            with contextlib.suppress(RasaUnavailable):
                self._pushed[conversation_id] = len(await self.messages(conversation_id)) - 1

    async def agent_says(
        self, conversation_id: str, text: str, agent_name: str, agent_id: int
    ) -> dict[str, Any] | None:
        """Record an agent's message in the tracker (as a bot turn) and push it."""
        async with self._lock(conversation_id):
            await self._baseline(conversation_id)
            await self.rasa.append_events(
                conversation_id,
                [
                    {
                        "event": "bot",
                        "text": text,
                        "metadata": {"agent_name": agent_name, "agent_id": agent_id},
                    }
                ],
            )
            new = await self.sync(conversation_id)
        return new[-1] if new else None

    async def resume_bot(
        self,
        conversation_id: str,
        notice: str,
        agent_name: str,
        agent_id: int,
        buttons: list[dict[str, str]] | None = None,
    ) -> None:
        """Give the conversation back to the bot, with the context (slots) it had; `buttons`
        go with the agent's notice (the rating, when the agent closes the chat)."""
        async with self._lock(conversation_id):
            await self._baseline(conversation_id)
            await self.rasa.append_events(
                conversation_id,
                [
                    {
                        "event": "bot",
                        "text": notice,
                        "data": {"buttons": buttons} if buttons else {},
                        "metadata": {"agent_name": agent_name, "agent_id": agent_id},
                    },
                    *RESUME_EVENTS,
                ],
            )
            await self.sync(conversation_id)

    async def time_out(self, conversation_id: str) -> None:
        """No agent came: the bot resumes and offers to go on or to take a message."""
        async with self._lock(conversation_id):
            await self._baseline(conversation_id)
            try:
                await self.rasa.append_events(
                    conversation_id,
                    list(RESUME_EVENTS),
                )
                await self.rasa.trigger_intent(conversation_id, HANDOFF_TIMEOUT_INTENT)
                await self.sync(conversation_id)
            except RasaUnavailable as error:
                log.warning("could not give a timed-out conversation back to the bot: %s", error)

    def queue_dirty(self) -> None:
        self.queue_changes.set()

    async def queue_changed(self, queue: dict[str, Any]) -> None:
        """The queue summary (statuses and previews) to every signed-in console."""
        await self.feed.to_everyone("queue", queue)
