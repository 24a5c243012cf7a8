"""The shopper's REST channel: Rasa's RestInput that always answers.

If handling a message produced no reply at all (the action server is down, an action
crashed, the policy predicted nothing) the shopper gets a polite apology instead of silence.
While the conversation waits for a person (paused by actions/handoff.py) the bot stays silent
by design, and the shopper is told that their message is with the support team, unless the
web server's metadata says an agent is already in the chat (web/shopper.py).
It keeps the name "rest", so the URL and JSON contract are exactly Rasa's REST channel's.

The channel is public, so what a client sends is not trusted:
- Rasa reads a text that starts with "/" as an intent with entities (`/track_order{...}`) or a
  built-in command (`/restart`, `/back`, `/session_start`), skipping the classifier and the
  forms' checks. Such a text reaches Rasa only when it is the payload of a button the bot
  itself offered since the shopper's last message (read from the conversation's tracker), or
  comes from a tester holding Rasa's API token; any other is passed on without its slashes, as
  words for the classifier to read.
- Metadata keys the server decides (`client`, `agent_present`, `received_at`) are dropped
  unless the request carries Rasa's API token (the web server relaying the widget, or the
  story runner). `client` is a digest of the shopper's network address: the order checks
  count failures per client (actions/verification.py, catalog/attempts.py).
- `capabilities` (what the client renders: "cards", "buttons") is taken from anyone, as only
  known names: it decides nothing but the form of the answers to the very client that sent it
  (a sentence and product cards, or the numbered list; actions/channel.py), so claiming it
  gains nothing. The web server sets it for the widget's socket.io channel (web/shopper.py).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import time
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

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


# What the server decides about a message; a client's own values are dropped (docs/contracts.md).
CLIENT_KEY = "client"  # actions/verification.py CLIENT_METADATA_KEY
TRUSTED_KEYS = (CLIENT_KEY, "agent_present", "received_at")
# What the client renders, kept as known names only (actions/channel.py CAPABILITIES_KEY).
CAPABILITIES_KEY = "capabilities"
KNOWN_CAPABILITIES = ("cards", "buttons")  # actions/channel.py CARDS, BUTTONS
# A tester holding the API token (launcher/stories.py) may send Rasa's "/intent{...}" syntax.
RAW_INTENTS_KEY = "raw_intents"
BUILTIN_COMMAND = re.compile(r"^/(restart|back|session_start)\b")


def api_token() -> str:
    """Rasa's API token, which the web server and testers present: as `shopdesk_rasa.run`
    received it (it takes the variable out of the environment), else SHOPDESK_RASA_TOKEN."""
    from shopdesk_rasa import run

    return run.api_token() or os.environ.get("SHOPDESK_RASA_TOKEN", "").strip()


def from_token_holder(request: Request) -> bool:
    token = api_token()
    presented = request.headers.get("authorization", "")
    return bool(token) and hmac.compare_digest(presented.encode(), f"Bearer {token}".encode())


def known_capabilities(named: Any) -> list[str] | None:
    """The known capability names a client listed, each once and in a fixed order; None when
    it sent no list (then the key is dropped)."""
    if not isinstance(named, list):
        return None
    return [name for name in KNOWN_CAPABILITIES if name in named]


def client_digest(address: str) -> str:
    """The network address as the order checks count it: a digest, not the address."""
    return hashlib.sha256(f"shopdesk-client:{address}".encode()).hexdigest()[:32]


def issued_payloads(events: list[Any]) -> set[str]:
    """The payloads of the buttons the bot offered since the shopper's last message."""
    payloads: set[str] = set()
    for event in reversed(events):
        kind = getattr(event, "type_name", None)
        if kind == "user":
            break
        if kind == "bot":
            for button in (getattr(event, "data", None) or {}).get("buttons") or []:
                if isinstance(button, dict) and isinstance(button.get("payload"), str):
                    payloads.add(button["payload"])
    return payloads


def as_words(text: str) -> str:
    """A client's "/intent{...}" or "/restart" as plain words: no leading slashes."""
    return text.lstrip("/").strip()


def stamped(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """The message's metadata with the time the channel received it (epoch seconds), always
    ours: Rasa stamps the user event only after the classifier has read it, so the shop's
    reply times (docs/analytics.md) start here, before the classifier."""
    return {**(metadata or {}), "received_at": time.time()}


def clean_text(text: str) -> str:
    """One spelling of what the shopper typed: Unicode NFKC (full-width letters, ligatures),
    no control or invisible characters, no blank space at the ends."""
    return _INVISIBLE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


async def _tracker(sender_id: str) -> Any:
    """The conversation's tracker from Rasa's tracker store, or None if it cannot be read."""
    from sanic import Sanic

    try:
        agent = Sanic.get_app().ctx.agent
        return await agent.tracker_store.retrieve(sender_id)
    except Exception:
        logger.exception("could not read the conversation's tracker")
        return None


async def is_paused(sender_id: str) -> bool:
    """Whether the conversation waits for a person (Rasa predicts nothing while paused)."""
    tracker = await _tracker(sender_id)
    return bool(tracker is not None and tracker.is_paused())


async def was_offered(sender_id: str, payload: str) -> bool:
    """Whether the bot's latest turn offered a button with exactly this payload."""
    tracker = await _tracker(sender_id)
    return tracker is not None and payload in issued_payloads(list(tracker.events))


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


MALFORMED_TEXT = (
    'Please send a JSON object: {"sender": "<your conversation id>", "message": "<your text>"}; '
    "the sender has 1 to 255 printable characters."
)
MAX_SENDER_CHARS = 255  # Rasa's SQL tracker store: events.sender_id is VARCHAR(255)


def is_unicode(text: str) -> bool:
    """Whether the text can be stored: JSON's \\ud800 escapes make lone surrogates, which no
    database driver encodes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def well_formed(body: Any) -> bool:
    """A JSON object with a storable sender id and text strings."""
    if not isinstance(body, dict):
        return False
    sender, message = body.get("sender"), body.get("message")
    channel = body.get("input_channel", "")
    return (
        isinstance(sender, str)
        and 0 < len(sender) <= MAX_SENDER_CHARS
        and sender.isprintable()  # no NUL, control, surrogate or invisible characters
        and isinstance(message, str)
        and is_unicode(message)
        and isinstance(channel, str)
        and is_unicode(channel)
    )


async def refuse_malformed(request: Request) -> response.HTTPResponse | None:
    """A message that is not well formed gets 400 and a sentence, before Rasa reads it.

    Found by benchmarks/fuzz.py: Rasa's RestInput reads the body with `.get` and the text with
    `.strip` (a list, a number or an object there was a 500); a sender id the tracker store
    cannot write (a lone surrogate; on PostgreSQL also NUL or over 255 characters) made Rasa's
    SQL tracker store exit the whole process; and a missing sender put every such client in
    one shared conversation, "default"."""
    if request.method != "POST":
        return None
    if well_formed(request.json):  # not JSON at all: Sanic answers 400 itself
        return None
    return response.json({"error": MALFORMED_TEXT}, status=400)


class ShopperRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def get_metadata(self, request: Request) -> dict[str, Any]:
        """The client's metadata without the keys the server decides, plus the client's digest
        (the relayed shopper's address when the web server, holding the token, sends it);
        `capabilities` with known names only."""
        body = request.json if isinstance(request.json, dict) else {}
        sent = body.get("metadata")
        metadata = dict(sent) if isinstance(sent, dict) else {}
        trusted = from_token_holder(request)
        if not trusted:
            for key in (*TRUSTED_KEYS, RAW_INTENTS_KEY):
                metadata.pop(key, None)
        capabilities = known_capabilities(metadata.pop(CAPABILITIES_KEY, None))
        if capabilities is not None:
            metadata[CAPABILITIES_KEY] = capabilities
        relayed = metadata.get(CLIENT_KEY)
        address = relayed if trusted and isinstance(relayed, str) and relayed else request.ip
        metadata[CLIENT_KEY] = client_digest(str(address or ""))
        return metadata

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def answer_always(message: UserMessage) -> None:
            message.metadata = stamped(message.metadata)
            tester = message.metadata.pop(RAW_INTENTS_KEY, None) is True
            message.text = clean_text(message.text or "")
            if (
                message.text.startswith("/")
                and not tester
                and not await was_offered(message.sender_id, message.text)
            ):
                message.text = as_words(message.text)
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
            elif counter.replies == 0 and BUILTIN_COMMAND.match(message.text):
                pass  # a restart or a new session says nothing by design; nothing is broken
            elif counter.replies == 0:
                logger.error("no reply for a shopper message; sending the apology")
                await counter.inner.send_text_message(message.sender_id, NO_REPLY_TEXT)

        blueprint = super().blueprint(answer_always)
        blueprint.middleware(refuse_malformed, "request")
        return blueprint
