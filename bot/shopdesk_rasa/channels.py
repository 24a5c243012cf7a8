"""The shopper's REST channel: Rasa's RestInput that always answers.

If handling a message produced no reply at all (the action server is down, an action
crashed, the policy predicted nothing) the shopper gets a polite apology instead of silence.
While the conversation waits for a person (paused by actions/handoff.py) the bot stays silent
by design, and the shopper is told that their message is with the support team, unless the
web server's metadata says an agent is already in the chat (web/shopper.py).
It keeps the name "rest", so the URL and JSON contract are exactly Rasa's REST channel's.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

from shopdesk_rasa import speedups
from shopdesk_rasa.classifier_client import prefetch

speedups.install()

logger = logging.getLogger(__name__)

NO_REPLY_TEXT = (
    "Sorry, I can't answer that right now because part of our system is not responding. "
    "Please try again in a moment, or use our Contact Us page to reach our team."
)


WAITING_TEXT = "Your message is with our support team; a person will answer you here."
MAX_MESSAGE_CHARS = 1000
TOO_LONG_TEXT = (
    "That message is too long for me. Could you say it in fewer words "
    f"(at most {MAX_MESSAGE_CHARS} characters)?"
)
EMPTY_TEXT = "I didn't get any words there. What can I help you with?"
# Control characters (but tab and newline), and the invisible ones that can hide text.
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)


def stamped(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The message's metadata with the time the channel received it (epoch seconds), always
    ours: Rasa stamps the user event only after the classifier has read it, so the shop's
    reply times (docs/analytics.md) start here, before the classifier."""
    return {**(metadata or {}), "received_at": time.time()}


def clean_text(text: str) -> str:
    """One spelling of what the shopper typed: Unicode NFKC (full-width letters, ligatures),
    no control or invisible characters, no blank space at the ends."""
    return _INVISIBLE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


async def is_paused(sender_id: str) -> bool:
    """Whether the conversation waits for a person (Rasa predicts nothing while paused)."""
    from sanic import Sanic

    try:
        agent = Sanic.get_app().ctx.agent
        tracker = await agent.tracker_store.retrieve(sender_id)
    except Exception:
        logger.exception("could not read the conversation to see whether it is paused")
        return False
    return bool(tracker is not None and tracker.is_paused())


class _ReplyCounter(OutputChannel):
    """Passes replies on to the real output channel and counts them."""

    def __init__(self, inner: OutputChannel) -> None:
        self.inner = inner
        self.replies = 0

    def name(self) -> str:  # type: ignore[override]
        return self.inner.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.replies += 1
        await self.inner.send_response(recipient_id, message)


class ShopperRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def answer_always(message: UserMessage) -> None:
            message.metadata = stamped(message.metadata)
            message.text = clean_text(message.text or "")
            if not message.text or len(message.text) > MAX_MESSAGE_CHARS:
                # nothing reaches the bot or the conversation's record
                reply = TOO_LONG_TEXT if message.text else EMPTY_TEXT
                await message.output_channel.send_text_message(message.sender_id, reply)
                return
            counter = _ReplyCounter(message.output_channel)
            message.output_channel = counter
            try:
                # classified here, awaited, so Rasa's event loop serves other shoppers meanwhile
                await prefetch(message.text)
                await on_new_message(message)
            except Exception:
                logger.exception("handling a shopper message failed")
            if counter.replies == 0 and await is_paused(message.sender_id):
                # with an agent in the chat (the web server says so) the agent answers
                if not (message.metadata or {}).get("agent_present"):
                    await counter.inner.send_text_message(message.sender_id, WAITING_TEXT)
            elif counter.replies == 0:
                logger.error("no reply for a shopper message; sending the apology")
                await counter.inner.send_text_message(message.sender_id, NO_REPLY_TEXT)

        return super().blueprint(answer_always)
