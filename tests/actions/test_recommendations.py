"""More like this, what goes with it, and picks for a customer, replayed as conversations."""

import os
from typing import Any

from sqlalchemy import select

from actions.products import ActionSearchProducts
from actions.recommendations import (
    ActionComplementaryProducts,
    ActionRecommendForMe,
    ActionSimilarProducts,
    extra_wish,
)
from catalog.db import session_scope
from catalog.models import Product, ProductLink
from catalog.search import SearchRequest, search
from tests.actions.render import template

WHICH_TEXT = template("utter_which_product")


def cards_of(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    [payload] = [m["custom"] for m in messages if m.get("custom")]
    return list(payload["products"])


def text_of(messages: list[dict[str, Any]]) -> str:
    """What the shopper reads, every message's text on its own line."""
    return "\n".join(str(m["text"]) for m in messages if m.get("text"))


def test_more_like_this_gives_products_of_the_same_kind(chat) -> None:
    chat.slots["focused_product"] = "MH01"
    messages, _ = chat.say(ActionSimilarProducts(), "more like this", "similar_products")
    cards = cards_of(messages)
    assert "MH01" not in [c["sku"] for c in cards]
    assert sum("Hoodie" in c["name"] or "Sweatshirt" in c["name"] for c in cards) >= 3
    assert chat.slots["shown_products"] == [c["sku"] for c in cards]


def test_like_this_but_for_running_keeps_only_running_products(chat) -> None:
    chat.slots["focused_product"] = "MJ03"
    messages, _ = chat.say(
        ActionSimilarProducts(), "something like this but for running", "similar_products"
    )
    assert text_of(messages).startswith("Products like the Montana Wind Jacket for “running”")
    with session_scope(os.environ["SHOPDESK_DATABASE_URL"]) as session:
        running = {h.sku for h in search(session, SearchRequest(text="running", limit=200)).hits}
    assert cards_of(messages) and {c["sku"] for c in cards_of(messages)} <= running


def test_the_wish_leaves_out_the_pointing_words() -> None:
    assert extra_wish("something like this but for running", "Montana Wind Jacket") == "running"
    assert extra_wish("more like this", "Montana Wind Jacket") == ""
    assert extra_wish("like the second one but in cotton", "Montana Wind Jacket") == "cotton"


def test_more_like_this_without_a_product_asks_which(chat) -> None:
    messages, _ = chat.say(ActionSimilarProducts(), "more like this", "similar_products")
    assert text_of(messages) == WHICH_TEXT


def test_what_goes_with_it_starts_with_the_shops_cross_sells(chat) -> None:
    with session_scope(os.environ["SHOPDESK_DATABASE_URL"]) as session:
        wh01 = session.scalars(select(Product.id).where(Product.sku == "WH01")).one()
        linked = session.execute(
            select(ProductLink.kind, Product.sku)
            .join(Product, Product.id == ProductLink.linked_product_id)
            .where(ProductLink.product_id == wh01)
            .order_by(ProductLink.position)
        ).all()
    cross_sells = [sku for kind, sku in linked if kind == "crosssell"]
    assert cross_sells, "the Luma fixture links WH01 to cross-sells"
    chat.slots["focused_product"] = "WH01"
    messages, _ = chat.say(
        ActionComplementaryProducts(), "what goes with it?", "complementary_products"
    )
    skus = [c["sku"] for c in cards_of(messages)]
    assert skus[: len(cross_sells[:5])] == cross_sells[:5]
    assert set(skus) <= {sku for _, sku in linked}


def test_recommend_for_me_without_a_verified_customer_offers_best_sellers(chat) -> None:
    messages, _ = chat.say(ActionRecommendForMe(), "recommend something for me", "recommend_for_me")
    assert text_of(messages).startswith("Here are our best sellers.")
    assert "verified your account" in text_of(messages)
    assert len(cards_of(messages)) == 5


def test_recommend_for_a_verified_customer_uses_their_orders(chat) -> None:
    chat.slots["verified_customer_email"] = "roni_cost@example.com"
    messages, _ = chat.say(ActionRecommendForMe(), "recommend something for me", "recommend_for_me")
    assert text_of(messages).startswith("Based on your orders, Veronica, you might like:")
    skus = [c["sku"] for c in cards_of(messages)]
    assert skus and not {"WS03", "WS08"} & set(skus)


def test_the_first_search_then_more_like_the_first(chat) -> None:
    chat.say(ActionSearchProducts(), "yoga pants for women", "search_product")
    first = chat.slots["shown_products"][0]
    messages, _ = chat.say(ActionSimilarProducts(), "more like the first one", "similar_products")
    assert first not in [c["sku"] for c in cards_of(messages)]
    assert all(
        "Pant" in c["name"] or "Legging" in c["name"] or "Capri" in c["name"]
        for c in cards_of(messages)[:3]
    )
