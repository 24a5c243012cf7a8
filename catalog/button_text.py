"""What a shopper's button press shows in transcripts, exports and analytics.

A client sends a button's payload (`/affirm`) with the title it says the button had
(`metadata.display_text`). The title is the client's word, so it is shown only when the bot's
turn just before offered exactly that payload with exactly that title; otherwise the text that
was actually sent is shown. One rule for the console, the shopper's history, the data export
and analytics (issue 17).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MAX_DISPLAY_TEXT_CHARS = 200  # web/shopper.py keeps at most this much of `display_text`


def offered_buttons(event: Mapping[str, Any]) -> dict[str, str]:
    """The buttons a `bot` event (the bot's or an agent's) offered: payload -> title."""
    data = event.get("data")
    if not isinstance(data, Mapping):
        return {}
    buttons = data.get("buttons") or data.get("quick_replies") or []
    if not isinstance(buttons, list):
        return {}
    return {
        str(b["payload"]): str(b.get("title") or "")
        for b in buttons
        if isinstance(b, Mapping) and b.get("payload")
    }


def offered_in(events: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The buttons all the `bot` events among `events` offered (a later title wins)."""
    offered: dict[str, str] = {}
    for event in events:
        if event.get("event") == "bot":
            offered.update(offered_buttons(event))
    return offered


def user_text(event: Mapping[str, Any], offered: Mapping[str, str]) -> str:
    """What a `user` event shows: the text sent; for a button press, the button's title, when
    the preceding bot turn offered that payload with a title equal to the `display_text`."""
    text = str(event.get("text") or "")
    metadata = event.get("metadata")
    claimed = metadata.get("display_text") if isinstance(metadata, Mapping) else None
    title = offered.get(text)
    if not text.startswith("/") or not isinstance(claimed, str) or not title:
        return text
    if claimed.strip() != title.strip()[:MAX_DISPLAY_TEXT_CHARS].strip():
        return text
    return title


class ButtonTurns:
    """Reads a conversation's events in order and says what each shopper message shows: the
    buttons offered since the shopper last wrote are the only titles a press may show."""

    def __init__(self) -> None:
        self.offered: dict[str, str] = {}

    def user_text(self, event: Mapping[str, Any]) -> str:
        """The `user` event's text (see `user_text`); the next message starts a new turn."""
        text = user_text(event, self.offered)
        self.offered = {}
        return text

    def bot(self, event: Mapping[str, Any]) -> None:
        self.offered.update(offered_in([event]))
