"""Rasa's replies and tracker events become the widget's messages (docs/web.md)."""

from __future__ import annotations

from typing import Any

from web.messages import conversation_messages, from_bot, plain

CARD = {
    "sku": "MH01", "name": "Chaz Kangeroo Hoodie", "price": "$52.00", "regular_price": None,
    "image": "https://shop.example/mh01.jpg", "url": "https://shop.example/mh01.html",
    "rating": 4.3, "review_count": 3, "in_stock": True,
}  # fmt: skip


def test_buttons_become_quick_replies_and_cards_a_carousel() -> None:
    message = from_bot(
        {
            "text": "Would you like a person?",
            "buttons": [{"title": "Yes, please", "payload": "/affirm"}],
            "custom": {"type": "product_cards", "products": [CARD]},
        }
    )
    assert message["quick_replies"] == [
        {"content_type": "text", "title": "Yes, please", "payload": "/affirm"}
    ]
    [element] = message["attachment"]["payload"]["elements"]
    assert message["attachment"]["payload"]["template_type"] == "generic"
    assert element["title"] == "Chaz Kangeroo Hoodie"
    assert element["subtitle"] == "$52.00 · ★ 4.3 (3)"
    assert element["image_url"] == "https://shop.example/mh01.jpg"
    assert {b["type"] for b in element["buttons"]} == {"web_url", "postback"}


def test_tracker_messages_are_numbered_and_agents_named() -> None:
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "/affirm",
         "metadata": {"message_id": "m1", "display_text": "Yes, please"}},
        {"event": "bot", "text": "I've asked a person.", "data": {}},
        {"event": "slot", "name": "handoff_status", "value": "waiting"},
        {"event": "bot", "text": "Hi, I'm Anna.", "metadata": {"agent_name": "Anna"}},
        {"event": "user", "text": "<b>hi</b>", "metadata": {}},
    ]  # fmt: skip
    messages = conversation_messages(events)
    assert [(m["seq"], m["sender"]) for m in messages] == [
        (0, "user"), (1, "bot"), (2, "agent"), (3, "user"),
    ]  # fmt: skip
    assert messages[0]["text"] == "Yes, please"  # the button's title, not its payload
    assert messages[0]["message_id"] == "m1"
    assert messages[2]["agent_name"] == "Anna"
    assert messages[3]["text"] == "<b>hi</b>"  # kept as text; the pages show it as text


def test_the_console_sees_how_the_bot_read_each_shopper_message() -> None:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "wheres my parcel",
         "parse_data": {"intent": {"name": "track_order", "confidence": 0.91234}}},
        {"event": "bot", "text": "What is the order number?", "data": {}},
        {"event": "user", "text": "hm", "parse_data": {}},
    ]  # fmt: skip
    console = conversation_messages(events, with_intents=True)
    assert [(m.get("intent"), m.get("confidence")) for m in console] == [
        ("track_order", 0.912), (None, None), ("", 0.0),
    ]  # fmt: skip
    assert all("intent" not in m for m in conversation_messages(events))  # not the widget's


def test_a_bot_event_without_content_is_not_a_message() -> None:
    assert conversation_messages([{"event": "bot", "text": None, "data": {}}]) == []


def test_other_rasa_widgets_get_rasa_shaped_messages_without_echoes() -> None:
    assert plain({"seq": 3, "sender": "user", "text": "hi"}) is None
    assert plain({"seq": 4, "sender": "bot", "text": "Hello!", "at": 1.0}) == {"text": "Hello!"}
    agent = plain({"seq": 5, "sender": "agent", "agent_name": "Anna", "text": "I'm here."})
    assert agent == {"text": "Anna: I'm here."}
    buttons = [{"content_type": "text", "title": "Yes", "payload": "/affirm"}]
    assert plain({"sender": "bot", "text": "OK?", "quick_replies": buttons}) == {
        "text": "OK?", "quick_replies": buttons
    }  # fmt: skip
