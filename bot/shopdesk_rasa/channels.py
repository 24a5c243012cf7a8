"""The shopper's REST channel: Rasa's RestInput that always answers.

If handling a message produced no reply at all (the action server is down, an action
crashed, the policy predicted nothing) the shopper gets a polite apology instead of silence.
It keeps the name "rest", so the URL and JSON contract are exactly Rasa's REST channel's.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

logger = logging.getLogger(__name__)

NO_REPLY_TEXT = (
    "Sorry, I can't answer that right now because part of our system is not responding. "
    "Please try again in a moment, or use our Contact Us page to reach our team."
)


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
            counter = _ReplyCounter(message.output_channel)
            message.output_channel = counter
            try:
                await on_new_message(message)
            except Exception:
                logger.exception("handling a shopper message failed")
            if counter.replies == 0:
                logger.error("no reply for a shopper message; sending the apology")
                await counter.inner.send_text_message(message.sender_id, NO_REPLY_TEXT)

        return super().blueprint(answer_always)
