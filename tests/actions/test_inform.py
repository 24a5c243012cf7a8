"""A bare answer with no form asking is a search, a pick, or a polite question back; and a
shopping request ends a form that was asking something else."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.inform import ActionRouteInform
from actions.products import ActionSearchProducts
from tests.actions.conftest import Chat
from tests.actions.render import template

UNCLEAR_TEXT = template("utter_unclear")


def texts(messages: list[dict[str, Any]]) -> str:
    return " ".join(str(m.get("text") or "") for m in messages)


def test_a_bare_product_word_is_a_search_not_an_order_question(chat: Chat) -> None:
    messages, events = chat.say(ActionRouteInform(), "hoodie", "inform")
    assert "Here is what I found for “hoodie”" in texts(messages)
    assert "order number" not in texts(messages).lower()
    assert chat.slots["shown_products"]
    assert not any(e.get("event") == "followup" for e in events)


def test_size_and_gender_alone_search_with_them_as_filters(chat: Chat) -> None:
    chat.say(ActionRouteInform(), "mens xl", "inform")
    assert chat.slots["search_request"]["filters"] == {"gender": "Men", "size": "XL"}


def test_a_kind_the_shop_lacks_is_answered_honestly(chat: Chat) -> None:
    messages, _ = chat.say(ActionRouteInform(), "kettlebells", "inform")
    assert "we don't carry kettlebells" in texts(messages)


def test_words_with_nothing_to_go_on_get_a_question_back(chat: Chat) -> None:
    messages, events = chat.say(ActionRouteInform(), "Calder", "inform")
    assert [m.get("text") for m in messages] == [UNCLEAR_TEXT]
    assert events == []


def test_a_search_ends_the_form_that_was_asking(tracker_from, catalog_env) -> None:
    tracker = tracker_from(
        "order_form",
        text="black hoodie for men",
        intent={"name": "search_product", "confidence": 0.95},
        entities=[],
    )
    events = ActionSearchProducts().run(CollectingDispatcher(), tracker, {})
    assert {"event": "active_loop", "name": None} in [
        {"event": e.get("event"), "name": e.get("name")} for e in events
    ]
    assert any(e.get("name") == "requested_slot" and e.get("value") is None for e in events)


def test_without_a_form_a_search_changes_no_loop(chat: Chat) -> None:
    _, events = chat.say(ActionSearchProducts(), "black hoodie", "search_product")
    assert not any(e.get("event") == "active_loop" for e in events)


def test_an_unsure_reading_that_names_products_is_searched(chat: Chat) -> None:
    from actions.handoff import ActionFallback

    messages, _ = chat.say(ActionFallback(), "hoodie", "nlu_fallback")
    assert "Here is what I found for “hoodie”" in texts(messages)
    messages, _ = chat.say(ActionFallback(), "under 30 bucks", "nlu_fallback")
    assert chat.slots["search_request"]["filters"]["price_max_cents"] == 3000
    # no hoodie under $30: the nearest hoodies, cheapest first, each saying it is over
    assert "nothing that fits everything" in texts(messages)
    prices = [
        card["price_cents"] for m in messages if m.get("custom") for card in m["custom"]["products"]
    ]
    assert prices == sorted(prices) and "over your $30.00" in texts(messages)


def test_an_unsure_reading_of_nonsense_still_asks_to_rephrase(chat: Chat) -> None:
    from actions.handoff import ActionFallback

    messages, _ = chat.say(ActionFallback(), "blorp snazzle wib", "nlu_fallback")
    assert texts(messages) == template("utter_rephrase")


def test_a_price_or_stock_question_about_a_product_is_answered_from_the_catalog(
    chat: Chat,
) -> None:
    from actions.product_details import ActionProductQuestion

    messages, _ = chat.say(
        ActionProductQuestion(), "how much is the zing jump rope", "product_question"
    )
    assert texts(messages).startswith("The Zing Jump Rope costs $12.00")
    messages, _ = chat.say(
        ActionProductQuestion(),
        "what colours does the breathe easy tank come in",
        "product_question",
    )
    assert "Breathe-Easy Tank" in texts(messages) and "is in stock in colours" in texts(messages)


def test_a_product_question_read_as_out_of_scope_is_answered(chat: Chat) -> None:
    from actions.shop_answers import ActionShopAnswer

    messages, _ = chat.say(ActionShopAnswer(), "what is the juliana tee made of", "out_of_scope")
    assert "Juliana Short-Sleeve Tee" in texts(messages)
    messages, _ = chat.say(ActionShopAnswer(), "do u sell protein powder", "out_of_scope")
    assert "we don't carry protein powder" in texts(messages)
    messages, _ = chat.say(ActionShopAnswer(), "who won the world cup", "out_of_scope")
    assert "can't help with that" in texts(messages)


def test_a_search_the_catalog_could_not_answer_keeps_the_form(tracker_from, monkeypatch) -> None:
    from actions import catalog_access

    monkeypatch.setenv("SHOPDESK_DATABASE_URL", "sqlite:////nonexistent/dir/shop.sqlite3")
    catalog_access.settings.cache_clear()
    try:
        tracker = tracker_from(
            "order_form",
            text="do you have a black hoodie?",
            intent={"name": "search_product", "confidence": 0.95},
            entities=[],
        )
        dispatcher = CollectingDispatcher()
        events = ActionSearchProducts().run(dispatcher, tracker, {})
    finally:
        catalog_access.settings.cache_clear()
    assert [m["response"] for m in dispatcher.messages] == [catalog_access.UNAVAILABLE_RESPONSE]
    assert not any(e.get("event") == "active_loop" for e in events)


def test_a_kind_only_counts_when_it_is_asked_for(chat: Chat) -> None:
    from actions.shop_answers import ActionShopAnswer

    messages, _ = chat.say(ActionShopAnswer(), "'; DROP TABLE orders; --", "out_of_scope")
    assert "can't help with that" in texts(messages)
    messages, _ = chat.say(ActionShopAnswer(), "my sunglasses broke on holiday", "out_of_scope")
    assert "can't help with that" in texts(messages)


def test_a_question_about_a_kind_of_product_is_a_search(chat: Chat) -> None:
    from actions.product_details import ActionProductQuestion

    messages, _ = chat.say(
        ActionProductQuestion(), "whats the cheapest jacket you have", "product_question"
    )
    assert "Here is what I found for “cheapest jacket”" in texts(messages)
    messages, _ = chat.say(ActionProductQuestion(), "is it waterproof", "product_question")
    assert "Which product do you mean" in texts(messages)  # no kind named: it asks which
