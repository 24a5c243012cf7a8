"""One message format for the widget, the console and `rasa-webchat` (docs/web.md).

Bot replies come from Rasa in two shapes: the REST channel's replies (live) and the tracker's
`bot` events (history). Both become the socketio channel's shape: `text`, `quick_replies`
and, for product cards, a generic-template `attachment`, which rasa-webchat shows as a
carousel. Agents' messages are `bot` events with `metadata.agent_name`.

A shopper's message shows the text actually sent. The one exception is a button press: the
widget sends the button's payload ("/affirm") with its title as `display_text`, and the title
is shown, but only when the bot's turn just before offered that very payload with that title
(`user_text`). `display_text` comes from the shopper's side (widget, REST metadata), so it is
never shown on its own word: otherwise anyone could send "/deny" that reads "I love it".
"""

from __future__ import annotations

from typing import Any

from catalog.button_text import ButtonTurns

PRODUCT_CARDS = "product_cards"  # actions/product_cards.py CARDS_TYPE
MESSAGE_EVENTS = ("user", "bot")


def quick_replies(buttons: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {"content_type": "text", "title": str(b.get("title", "")), "payload": str(b["payload"])}
        for b in buttons
        if isinstance(b, dict) and b.get("payload")
    ]


def _subtitle(card: dict[str, Any]) -> str:
    parts = [str(card.get("price") or "")]
    if card.get("regular_price"):
        parts[0] += f" (was {card['regular_price']})"
    if card.get("rating") is not None and card.get("review_count"):
        parts.append(f"★ {card['rating']} ({card['review_count']})")
    if card.get("in_stock") is False:
        parts.append("out of stock")
    return " · ".join(p for p in parts if p)


def card_element(card: dict[str, Any]) -> dict[str, Any]:
    name = str(card.get("name", ""))
    buttons: list[dict[str, str]] = []
    if card.get("url"):
        buttons.append({"type": "web_url", "title": "View", "url": str(card["url"])})
    buttons.append(
        {"type": "postback", "title": "Tell me more", "payload": f"tell me more about the {name}"}
    )
    element = {
        "title": name,
        "subtitle": _subtitle(card),
        "sku": card.get("sku"),
        "buttons": buttons,
    }
    if card.get("image"):
        element["image_url"] = str(card["image"])
    if card.get("exact") is False:  # a close match: the widget marks it and says what it misses
        element["exact"] = False
    if misses := card_misses(card):
        element["misses"] = misses
    return element


def card_misses(card: dict[str, Any]) -> list[str]:
    """What a close match breaks, as the card lists it ("$56.00, over your $50.00")."""
    listed = card.get("misses")
    return [str(m) for m in listed if m] if isinstance(listed, list) else []


def carousel(products: list[dict[str, Any]]) -> dict[str, Any]:
    elements = [card_element(p) for p in products if isinstance(p, dict)]
    return {"type": "template", "payload": {"template_type": "generic", "elements": elements}}


def from_bot(data: dict[str, Any]) -> dict[str, Any]:
    """A widget message from a REST reply or a tracker event's `data` (same keys)."""
    message: dict[str, Any] = {}
    if data.get("text"):
        message["text"] = str(data["text"])
    buttons = data.get("buttons") or data.get("quick_replies")
    if buttons:
        message["quick_replies"] = quick_replies(list(buttons))
    custom = data.get("custom")
    if isinstance(custom, dict) and custom.get("type") == PRODUCT_CARDS:
        message["attachment"] = carousel(list(custom.get("products") or []))
    elif isinstance(data.get("attachment"), dict):
        message["attachment"] = data["attachment"]
    if data.get("image"):
        message["attachment"] = {"type": "image", "payload": {"src": str(data["image"])}}
    return message


def conversation_messages(
    events: list[dict[str, Any]], with_intents: bool = False
) -> list[dict[str, Any]]:
    """The shopper-visible messages of a tracker, numbered by `seq` from 0.

    `with_intents` (the console's view) adds to each shopper message how the bot read it:
    `intent` and `confidence`, for an agent to mark a misreading (docs/analytics.md)."""
    messages: list[dict[str, Any]] = []
    turns = ButtonTurns()
    for event in events:
        kind = event.get("event")
        if kind not in MESSAGE_EVENTS:
            continue
        metadata = event.get("metadata") or {}
        if kind == "user":
            message: dict[str, Any] = {"sender": "user", "text": turns.user_text(event)}
            if metadata.get("message_id"):
                message["message_id"] = str(metadata["message_id"])
            if with_intents:
                intent = (event.get("parse_data") or {}).get("intent") or {}
                message["intent"] = str(intent.get("name") or "")
                message["confidence"] = round(float(intent.get("confidence") or 0.0), 3)
        else:
            turns.bot(event)
            message = {
                "sender": "bot",
                **from_bot({"text": event.get("text"), **(event.get("data") or {})}),
            }
            if metadata.get("agent_name"):
                message["sender"] = "agent"
                message["agent_name"] = str(metadata["agent_name"])
        if not any(key in message for key in ("text", "attachment", "quick_replies")):
            continue
        message["seq"] = len(messages)
        message["at"] = event.get("timestamp")
        messages.append(message)
    return messages


def plain(message: dict[str, Any]) -> dict[str, Any] | None:
    """The message as Rasa's own socketio channel sends it, for clients such as rasa-webchat
    that show a message only when its keys are exactly Rasa's: no echo of the shopper's own
    messages, no numbering, and an agent's name in the text."""
    if message.get("sender") == "user":
        return None
    shaped: dict[str, Any] = {
        k: message[k] for k in ("text", "quick_replies", "attachment") if k in message
    }
    if "text" in shaped and message.get("agent_name"):
        shaped["text"] = f"{message['agent_name']}: {shaped['text']}"
    if "attachment" in shaped:
        shaped["attachment"] = with_misses_in_subtitles(shaped["attachment"])
    return shaped or None


def with_misses_in_subtitles(attachment: Any) -> Any:
    """A carousel whose cards say what they miss in their subtitle, the one line of text a
    card has in rasa-webchat (the ShopDesk widget shows `misses` as a note of its own)."""
    payload = attachment.get("payload") if isinstance(attachment, dict) else None
    if not isinstance(payload, dict) or not isinstance(payload.get("elements"), list):
        return attachment
    elements = payload["elements"]
    shaped = []
    for element in elements:
        if isinstance(element, dict) and element.get("misses"):
            notes = "; ".join(str(m) for m in element["misses"])
            subtitle = " · ".join(p for p in (str(element.get("subtitle") or ""), notes) if p)
            element = {**element, "subtitle": subtitle}
        shaped.append(element)
    return {**attachment, "payload": {**payload, "elements": shaped}}
