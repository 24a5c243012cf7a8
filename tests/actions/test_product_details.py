"""Picking, comparing and asking about products already shown, replayed as conversations."""

import os
from typing import Any

from sqlalchemy import func, select

from actions.product_details import (
    ActionCheckAvailability,
    ActionCompareProducts,
    ActionProductQuestion,
    ActionProductReviews,
    ActionSelectProduct,
)
from actions.products import ActionSearchProducts
from catalog.db import session_scope
from catalog.models import Product, Review, Variant
from tests.actions.render import template

WHICH_TEXT = template("utter_which_product")


def text_of(messages: list[dict[str, Any]]) -> str:
    """What the shopper reads, every message's text on its own line."""
    return "\n".join(str(m["text"]) for m in messages if m.get("text"))


def names(skus: list[str]) -> list[str]:
    with session_scope(os.environ["SHOPDESK_DATABASE_URL"]) as session:
        found = dict(session.execute(select(Product.sku, Product.name)).tuples().all())
    return [found[sku] for sku in skus]


def test_the_second_one_is_the_second_product_shown(chat) -> None:
    chat.say(ActionSearchProducts(), "men's jackets", "search_product")
    shown = chat.slots["shown_products"]
    messages, _ = chat.say(ActionSelectProduct(), "tell me about the second one", "select_product")
    assert chat.slots["focused_product"] == shown[1]
    assert text_of(messages).startswith(f"The {names([shown[1]])[0]} costs $")
    [payload] = [m["custom"] for m in messages if m.get("custom")]
    assert [card["sku"] for card in payload["products"]] == [shown[1]]


def test_the_last_one_and_an_out_of_range_position(chat) -> None:
    chat.say(ActionSearchProducts(), "watches", "search_product")
    shown = chat.slots["shown_products"]
    chat.say(ActionSelectProduct(), "the last one", "select_product")
    assert chat.slots["focused_product"] == shown[-1]
    chat.slots["focused_product"] = None
    messages, _ = chat.say(ActionSelectProduct(), "number 9", "select_product")
    assert (
        text_of(messages)
        == f"I showed {len(shown)} products in the last list. Which one do you mean?"
    )


def test_compare_the_first_two(chat) -> None:
    chat.say(ActionSearchProducts(), "yoga bags", "search_product")
    shown = chat.slots["shown_products"]
    messages, _ = chat.say(ActionCompareProducts(), "compare the first two", "compare_products")
    text = text_of(messages)
    first, second = names(shown[:2])
    assert text.startswith("Here is how they compare:")
    assert f"• {first}: $" in text and f"• {second}: $" in text
    assert text.index(first) < text.index(second)


def test_compare_needs_a_list(chat) -> None:
    messages, _ = chat.say(ActionCompareProducts(), "compare them", "compare_products")
    assert "at least two products" in text_of(messages)


def test_what_is_it_made_of_is_answered_from_the_material(chat) -> None:
    chat.slots["focused_product"] = "MH01"
    messages, _ = chat.say(ActionProductQuestion(), "what is it made of?", "product_question")
    assert "material: Wool" in text_of(messages)


def test_is_it_waterproof_quotes_the_product_page(chat) -> None:
    chat.slots["focused_product"] = "MJ01"
    messages, _ = chat.say(ActionProductQuestion(), "is it waterproof?", "product_question")
    text = text_of(messages)
    assert "Rainy" in text or "rain" in text.lower()
    assert "Beaumont Summit Kit" in text


def test_a_question_the_page_cannot_answer_gets_an_honest_answer(chat) -> None:
    chat.slots["focused_product"] = "MH01"
    messages, _ = chat.say(
        ActionProductQuestion(), "does it come with a warranty?", "product_question"
    )
    assert "don't say anything about that" in text_of(messages)


def test_a_question_without_a_product_asks_which(chat) -> None:
    messages, events = chat.say(ActionProductQuestion(), "is it waterproof?", "product_question")
    assert text_of(messages) == WHICH_TEXT and events == []


def test_reviews_are_summarised_with_the_true_count_and_average(chat) -> None:
    with session_scope(os.environ["SHOPDESK_DATABASE_URL"]) as session:
        count, average = session.execute(
            select(func.count(Review.id), func.avg(Review.rating))
            .join(Product)
            .where(Product.sku == "24-MB01")
        ).one()
    assert count >= 2
    chat.slots["focused_product"] = "24-MB01"
    messages, _ = chat.say(
        ActionProductReviews(), "what do people say about it?", "product_reviews"
    )
    text = text_of(messages)
    assert f"has {count} reviews, {average:.1f} out of 5 on average." in text
    assert "★ from" in text


def test_do_you_have_it_in_a_size_follows_the_stock(chat) -> None:
    chat.slots["focused_product"] = "MH01"
    with session_scope(os.environ["SHOPDESK_DATABASE_URL"]) as session:
        xl = session.scalars(
            select(Variant.qty).join(Product).where(Product.sku == "MH01", Variant.size == "XL")
        ).all()
    messages, _ = chat.say(ActionCheckAvailability(), "do you have it in XL?", "check_availability")
    text = text_of(messages)
    if any(q > 0 for q in xl):
        assert text.startswith("Yes, the Chaz Kangeroo Hoodie is in stock in")
    else:
        assert text.startswith("Sorry, the Chaz Kangeroo Hoodie is")


def test_a_size_the_product_is_not_made_in(chat) -> None:
    chat.slots["focused_product"] = "24-MB01"  # a bag: no sizes
    messages, _ = chat.say(
        ActionCheckAvailability(), "do you have it in size M?", "check_availability"
    )
    assert "is not made in M" in text_of(messages)
