"""What the shopper's channel can show, read from the message's metadata in one place.

A reply's form depends on where it is shown: the chat widget renders product cards and
buttons, so a product answer there is one short sentence and the cards; a terminal or a plain
REST client shows only text, so it gets the numbered list (actions/product_cards.py).

The web server says what its socket.io clients render with `metadata.capabilities` on every
message it relays (web/shopper.py); a message without it comes from a text-only client. The
REST channel keeps only known names (bot/shopdesk_rasa/channels.py); the list is not trusted
for anything but the form of the answer to the very client that sent it, so a public client
claiming it gains nothing (docs/contracts.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from rasa_sdk import Tracker

Capability = Literal["cards", "buttons"]
CARDS: Final[Capability] = "cards"  # renders `{"type": "product_cards"}` custom payloads
BUTTONS: Final[Capability] = "buttons"  # renders the bot's buttons as quick replies
KNOWN_CAPABILITIES: Final[tuple[Capability, ...]] = (CARDS, BUTTONS)
# bot/shopdesk_rasa/channels.py CAPABILITIES_KEY, web/shopper.py CAPABILITIES_KEY
CAPABILITIES_KEY: Final = "capabilities"


def capabilities_from(metadata: Mapping[str, Any] | None) -> frozenset[Capability]:
    """The known capabilities a message's metadata names; none for anything malformed."""
    named = (metadata or {}).get(CAPABILITIES_KEY)
    if not isinstance(named, Iterable) or isinstance(named, (str, bytes, Mapping)):
        return frozenset()
    said = {c for c in named if isinstance(c, str)}
    return frozenset(c for c in KNOWN_CAPABILITIES if c in said)


def channel_capabilities(tracker: Tracker) -> frozenset[Capability]:
    """What the channel of the shopper's latest message can show.

    Rasa copies the message's metadata into `tracker.latest_message["metadata"]`; the user
    event itself carries it too (actions/verification.py reads `client` there), so either
    will do, the first that has the key."""
    latest = tracker.latest_message if isinstance(tracker.latest_message, Mapping) else {}
    event = tracker.get_last_event_for("user") or {}
    for metadata in (latest.get("metadata"), event.get("metadata")):
        if isinstance(metadata, Mapping) and CAPABILITIES_KEY in metadata:
            return capabilities_from(metadata)
    return frozenset()


def shows_cards(tracker: Tracker) -> bool:
    return CARDS in channel_capabilities(tracker)
