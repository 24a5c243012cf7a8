"""Searching, refining and paging through products, replayed as conversations."""

import os
import re
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.product_cards import CARDS_TYPE
from actions.products import ActionRefineSearch, ActionSearchProducts, ActionShowMore
from catalog.db import session_scope
from catalog.models import Category, Product, Variant, product_categories
from tests.actions.conftest import Chat
from tests.actions.render import fill, template

LINE = re.compile(
    r"^(\d+)\. (.+?) — \$(\d+\.\d\d)(?: \(was .+?\))?( — .+)? — (https://shop\.test/\S+)$"
)
HOODIES = "Men/Tops/Hoodies & Sweatshirts"
CLOSE_MATCHES = fill(template("utter_close_matches"), {"products": ""})


def cards_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    [payload] = [m["custom"] for m in messages if m.get("custom")]
    assert payload["type"] == CARDS_TYPE
    return list(payload["products"])


def text_of(messages: list[dict[str, Any]]) -> str:
    """What the shopper reads, every message's text on its own line."""
    return "\n".join(str(m["text"]) for m in messages if m.get("text"))


def in_category(db_url: str, skus: list[str], path: str) -> set[str]:
    with session_scope(db_url) as session:
        found = session.scalars(
            select(Product.sku)
            .join(product_categories, product_categories.c.product_id == Product.id)
            .join(Category, Category.id == product_categories.c.category_id)
            .where(Product.sku.in_(skus), Category.path == path)
        ).all()
    return set(found)


def chat_db(chat: Chat) -> str:
    return os.environ["SHOPDESK_DATABASE_URL"]


def test_a_search_with_filters_answers_with_text_and_cards_and_remembers_it(chat) -> None:
    messages, _ = chat.say(
        ActionSearchProducts(), "black hoodie for men under 60", "search_product"
    )
    lines = text_of(messages).splitlines()
    assert lines[0].startswith("Here is what I found for")
    assert all(LINE.match(line) for line in lines[1:] if line != CLOSE_MATCHES), lines
    cards = [card for card in cards_of(messages) if card["exact"]]
    assert 1 <= len(cards) <= 5
    for card in cards:
        assert card["price_cents"] <= 6000 and card["in_stock"] and "Black" in card["colors"]
        assert card["url"].startswith("https://shop.test/") and card["image"].startswith("https")
    assert in_category(chat_db(chat), [c["sku"] for c in cards], HOODIES) == {
        c["sku"] for c in cards
    }
    assert chat.slots["shown_products"][: len(cards)] == [c["sku"] for c in cards]
    remembered = chat.slots["search_request"]
    assert remembered["filters"] == {"gender": "Men", "color": "Black", "price_max_cents": 6000}
    assert remembered["offset"] == len(cards_of(messages))
    assert chat.slots["search_hits"] == len(cards_of(messages))  # for the shop's analytics


def test_cheaper_keeps_the_search_and_lowers_the_price(chat) -> None:
    first, _ = chat.say(ActionSearchProducts(), "women's jackets", "search_product")
    cheapest = min(c["price_cents"] for c in cards_of(first))
    messages, _ = chat.say(ActionRefineSearch(), "something cheaper", "refine_search")
    cards = [card for card in cards_of(messages) if card["exact"]]
    assert cards and all(c["price_cents"] < cheapest for c in cards)
    assert chat.slots["search_request"]["filters"]["gender"] == "Women"
    assert text_of(messages).startswith("Here are cheaper options")


def test_nothing_cheaper_is_said_and_the_list_stays(chat) -> None:
    chat.say(ActionSearchProducts(), "black hoodie for men under 60", "search_product")
    before = dict(chat.slots)
    for _ in range(6):  # cheaper and cheaper, until there is nothing cheaper
        messages, events = chat.say(ActionRefineSearch(), "cheaper", "refine_search")
        if chat.slots["search_hits"] == 0:
            break
        before = dict(chat.slots)
        assert chat.slots["search_request"]["keep"] == ["price_max_cents"]
    assert text_of(messages).startswith("Sorry, I have nothing that fits that as well.")
    assert events == [SlotSet("search_hits", 0.0)]  # a search with zero results, nothing else
    assert chat.slots == {**before, "search_hits": 0.0}


def test_in_red_replaces_the_colour_and_keeps_the_rest(chat) -> None:
    chat.say(ActionSearchProducts(), "black tees for women", "search_product")
    messages, _ = chat.say(ActionRefineSearch(), "in red", "refine_search")
    assert all("Red" in c["colors"] for c in cards_of(messages) if c["exact"])
    assert chat.slots["search_request"]["filters"] == {"gender": "Women", "color": "Red"}


def test_size_in_stock_is_a_filter(chat) -> None:
    chat.say(ActionSearchProducts(), "hoodies for men", "search_product")
    messages, _ = chat.say(ActionRefineSearch(), "only ones in size XL", "refine_search")
    with session_scope(chat_db(chat)) as session:
        for card in [c for c in cards_of(messages) if c["exact"]]:
            sizes = session.scalars(
                select(Variant.size)
                .join(Product)
                .where(Product.sku == card["sku"], Variant.qty > 0)
            ).all()
            assert "XL" in sizes


def test_show_more_pages_on_without_repeating(chat) -> None:
    first, _ = chat.say(ActionSearchProducts(), "tees", "search_product")
    second, _ = chat.say(ActionShowMore(), "show more", "show_more")
    first_skus = [c["sku"] for c in cards_of(first)]
    second_skus = [c["sku"] for c in cards_of(second)]
    assert len(second_skus) == 5 and not set(first_skus) & set(second_skus)
    assert text_of(second).splitlines()[1].startswith("6. ")
    assert chat.slots["search_request"]["offset"] == 10


def test_nothing_found_says_so_and_offers_best_sellers(chat) -> None:
    messages, _ = chat.say(ActionSearchProducts(), "do you have a zzqx flibber?", "search_product")
    assert text_of(messages).startswith("Sorry, I couldn't find anything matching “zzqx flibber”")
    assert "most popular" in text_of(messages)
    assert len(cards_of(messages)) == 3
    assert chat.slots["search_hits"] == 0  # best sellers shown, but the search found nothing


def test_a_relaxed_filter_is_named(chat) -> None:
    messages, _ = chat.say(ActionSearchProducts(), "purple watch", "search_product")
    assert "left out the colour" in text_of(messages)
    assert cards_of(messages)


def test_a_typo_is_corrected_and_said(chat) -> None:
    messages, _ = chat.say(ActionSearchProducts(), "a jakcet for women", "search_product")
    assert "“jakcet” as “jacket”" in text_of(messages)
    assert all("Jacket" in c["name"] or "Shell" in c["name"] for c in cards_of(messages)[:3])


def test_show_more_without_a_search_asks_what_to_find(chat) -> None:
    messages, events = chat.say(ActionShowMore(), "more", "show_more")
    assert "What would you like me to look for" in text_of(messages) and events == []


def test_a_broken_database_gets_a_polite_answer(tmp_path, monkeypatch, tracker_from) -> None:
    from actions import catalog_access

    monkeypatch.setenv("SHOPDESK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    catalog_access.settings.cache_clear()
    dispatcher = CollectingDispatcher()
    ActionSearchProducts().run(dispatcher, tracker_from("search_black_hoodie"), {})
    catalog_access.settings.cache_clear()
    assert dispatcher.messages[0]["response"] == catalog_access.UNAVAILABLE_RESPONSE


def test_a_corrupt_slot_is_treated_as_no_search(chat) -> None:
    chat.slots["search_request"] = {"filters": "garbage", "offset": "x"}
    messages, _ = chat.say(ActionShowMore(), "show more", "show_more")
    assert "What would you like me to look for" in text_of(messages)
