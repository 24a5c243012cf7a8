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


OFFER: dict[str, Any] = {
    "event": "bot", "text": "Would you like a person?",
    "data": {"buttons": [{"title": "Yes, please", "payload": "/affirm"},
                         {"title": "No, thanks", "payload": "/deny"}]},
}  # fmt: skip


def test_tracker_messages_are_numbered_and_agents_named() -> None:
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_listen"},
        OFFER,
        {"event": "user", "text": "/affirm",
         "metadata": {"message_id": "m1", "display_text": "Yes, please"}},
        {"event": "bot", "text": "I've asked a person.", "data": {}},
        {"event": "slot", "name": "handoff_status", "value": "waiting"},
        {"event": "bot", "text": "Hi, I'm Anna.", "metadata": {"agent_name": "Anna"}},
        {"event": "user", "text": "<b>hi</b>", "metadata": {}},
    ]  # fmt: skip
    messages = conversation_messages(events)
    assert [(m["seq"], m["sender"]) for m in messages] == [
        (0, "bot"), (1, "user"), (2, "bot"), (3, "agent"), (4, "user"),
    ]  # fmt: skip
    assert messages[1]["text"] == "Yes, please"  # the button's title, not its payload
    assert messages[1]["message_id"] == "m1"
    assert messages[3]["agent_name"] == "Anna"
    assert messages[4]["text"] == "<b>hi</b>"  # kept as text; the pages show it as text


def pressed(payload: str, display_text: str) -> dict[str, Any]:
    return {"event": "user", "text": payload, "metadata": {"display_text": display_text}}


def test_a_lying_display_text_shows_what_was_really_sent() -> None:
    """The shopper's side sends `display_text`: only a title the bot offered for exactly that
    payload, just before, is shown in its place; anything else shows the payload sent."""
    events: list[dict[str, Any]] = [
        OFFER,
        pressed("/deny", "I love it"),  # a payload offered, under another title
        OFFER,
        pressed("/restart", "Yes, please"),  # an offered title on a payload never offered
        pressed("/affirm", "Yes, please"),  # offered, but in a turn before the last message
        {"event": "bot", "text": "Hi, I'm Anna.", "metadata": {"agent_name": "Anna"}},
        pressed("/affirm", "Yes, please"),  # the agent's turn offered no buttons
        {"event": "user", "text": "hello", "metadata": {"display_text": "goodbye"}},
    ]  # fmt: skip
    shown = [m["text"] for m in conversation_messages(events) if m["sender"] == "user"]
    assert shown == ["/deny", "/restart", "/affirm", "/affirm", "hello"]


def test_an_agents_rating_buttons_show_their_titles() -> None:
    closing = {"event": "bot", "text": "Anna has closed this chat. How did we do?",
               "data": {"buttons": [{"title": "5 ★", "payload": '/rate_conversation{"rating":5}'}]},
               "metadata": {"agent_name": "Anna"}}  # fmt: skip
    events = [closing, pressed('/rate_conversation{"rating":5}', "5 ★")]
    assert conversation_messages(events)[-1]["text"] == "5 ★"


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


CLOSE = {**CARD, "sku": "MH02", "name": "Teton Pullover Hoodie", "image": None, "exact": False,
         "misses": ["$56.00, over your $50.00", "no XS in stock"]}  # fmt: skip


def test_a_close_match_card_keeps_what_it_misses_and_has_no_image_url() -> None:
    message = from_bot({"custom": {"type": "product_cards", "products": [CARD, CLOSE]}})
    exact, close = message["attachment"]["payload"]["elements"]
    assert "exact" not in exact and "misses" not in exact  # only keys that apply
    assert close["exact"] is False
    assert close["misses"] == ["$56.00, over your $50.00", "no XS in stock"]
    assert close["subtitle"] == "$52.00 · ★ 4.3 (3)"  # the widget shows the misses apart
    assert "image_url" not in close  # the widget draws its placeholder


def test_rasa_webchat_reads_what_a_close_match_misses_in_its_subtitle() -> None:
    message = from_bot({"custom": {"type": "product_cards", "products": [CARD, CLOSE]}})
    shaped = plain({"sender": "bot", "seq": 1, **message})
    assert shaped is not None
    exact, close = shaped["attachment"]["payload"]["elements"]
    assert exact["subtitle"] == "$52.00 · ★ 4.3 (3)"
    assert close["subtitle"] == "$52.00 · ★ 4.3 (3) · $56.00, over your $50.00; no XS in stock"
    # the message the ShopDesk widget gets is left as it was
    assert message["attachment"]["payload"]["elements"][1]["subtitle"] == "$52.00 · ★ 4.3 (3)"
