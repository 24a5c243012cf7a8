"""Answers come from the shop's settings (shop.yml), so a shop changes them there; their
wording is bot/domain.yml's responses, which the settings fill."""

from __future__ import annotations

import dataclasses

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.shop_answers import ANSWERS, BUTTONS, ActionShopAnswer
from catalog.policies import ShopPolicies, load_policies
from tests.actions.conftest import with_text
from tests.actions.render import fill, placeholders, template
from tests.actions.test_orders import run

POLICIES = load_policies(shop_url="https://shop.test")


def said(intent: str, policies: ShopPolicies = POLICIES) -> str:
    """The answer to `intent` as the shopper reads it, rendered from the domain."""
    reply = ANSWERS[intent](policies)
    return fill(template(reply.response), reply.variables)


@pytest.mark.parametrize(
    ("intent", "facts"),
    [
        ("delivery_options", ["Standard (5 to 7 business days) from $16.00", "$5.00"]),
        ("delivery_period", ["Overnight: the next business day", "12:00 noon (PST)"]),
        ("check_payment_methods", ["Check or money order", "PayPal"]),
        ("check_refund_policy", ["within 30 days of delivery", "10 to 14 days"]),
        ("check_cancellation_fee", ["Cancelling an order is free as long as it has not shipped"]),
        ("recover_password", ["https://shop.test/customer/account/forgotpassword"]),
        ("contact_customer_service", ["support@luma.example.com", "1-800-555-0199"]),
        ("bot_challenge", ["a bot"]),
        (
            "promo_code",
            [
                "“Apply Discount Code”",
                "https://shop.test/checkout/cart",
                "one code per order",
                "items already on sale or gift cards",
                "can't be added to an order that is already placed",
            ],
        ),
        (
            "login_trouble",
            [
                "https://shop.test/customer/account/login",
                "case-sensitive",
                "cookies",
                "After 10 wrong passwords in a row the account is locked for 10 minutes",
                "https://shop.test/customer/account/forgotpassword",
            ],
        ),
        (
            "exchange_item",
            ["We don't swap items directly", "within 30 days", "I want to return an item"],
        ),
    ],
)
def test_answers_quote_the_shop_settings(intent: str, facts: list[str]) -> None:
    text = said(intent)
    for fact in facts:
        assert fact in text


def test_every_answer_is_a_sentence() -> None:
    for intent in ANSWERS:
        assert said(intent).rstrip().endswith((".", "?", "!")), intent


def test_every_answer_fills_exactly_the_variables_of_its_response() -> None:
    """A variable the response lacks is lost, one it needs but lacks shows as `{name}`."""
    for intent, answer in ANSWERS.items():
        reply = answer(POLICIES)
        assert set(reply.variables) == placeholders(reply.response), intent


def test_fees_are_written_in_the_shops_currency() -> None:
    euros = dataclasses.replace(POLICIES, currency="EUR")
    assert "from €16.00" in said("delivery_options", euros) and "$" not in said(
        "delivery_options", euros
    )


def test_an_intent_without_an_answer_gets_a_polite_reply(order_book_env, tracker_from) -> None:
    tracker = tracker_from("order_form", intent={"name": "search_product", "confidence": 0.9})
    [text], events = run(ActionShopAnswer(), tracker)
    assert text.startswith("Sorry, I can't answer that right now") and events == []


def test_promo_code_rules_follow_the_settings() -> None:
    """A shop with two codes per order, a minimum spend and late codes says so, nothing more."""
    promotions = dataclasses.replace(
        POLICIES.promotions,
        codes_per_order=2,
        minimum_spend_cents=50_00,
        not_valid_on=(),
        added_after_order=True,
    )
    text = said("promo_code", dataclasses.replace(POLICIES, promotions=promotions))
    assert "up to 2 codes per order" in text and "at least $50.00" in text
    assert "don't apply to" not in text and "can still apply it" in text


def test_a_shop_with_exchanges_hands_them_to_a_person() -> None:
    returns = dataclasses.replace(POLICIES.returns, exchanges=True)
    text = said("exchange_item", dataclasses.replace(POLICIES, returns=returns))
    assert "A person from our team arranges the exchange" in text
    assert "don't swap" not in text


def test_an_exchange_offers_a_return_or_a_person(order_book_env, tracker_from) -> None:
    tracker = tracker_from("order_form", intent={"name": "exchange_item", "confidence": 0.9})
    dispatcher = CollectingDispatcher()
    assert ActionShopAnswer().run(dispatcher, tracker, {}) == []
    [message] = [with_text(m) for m in dispatcher.messages]
    assert message["text"].startswith("We don't swap items directly")
    assert [b["payload"] for b in message["buttons"]] == ["/get_refund", "/contact_human_agent"]
    assert set(BUTTONS) <= set(ANSWERS)


def test_other_answers_carry_no_buttons(order_book_env, tracker_from) -> None:
    tracker = tracker_from("order_form", intent={"name": "promo_code", "confidence": 0.9})
    dispatcher = CollectingDispatcher()
    ActionShopAnswer().run(dispatcher, tracker, {})
    [message] = [with_text(m) for m in dispatcher.messages]
    assert message["text"].startswith("Enter a discount code") and message["buttons"] == []


def test_the_delivery_answer_follows_weekdays_only() -> None:
    """shop.yml `delivery.weekdays_only` (issue 21: it was read by nothing)."""
    assert "on weekdays" in said("delivery_options") and "weekdays only" in said("delivery_period")
    every_day = dataclasses.replace(
        POLICIES, delivery=dataclasses.replace(POLICIES.delivery, weekdays_only=False)
    )
    for intent in ("delivery_options", "delivery_period"):
        text = said(intent, every_day)
        assert "every day of the week" in text and "weekday" not in text, intent


def test_the_delivery_answer_names_the_shops_own_countries_and_regions() -> None:
    """No US territory, "$" or "Standard" is written into the answer: shop.yml says them."""
    shipped = said("delivery_options")
    assert "within the United States" in shipped
    assert "Alaska, Hawaii, Puerto Rico and Guam add $5.00 to Standard." in shipped
    german = dataclasses.replace(
        POLICIES,
        currency="EUR",
        delivery=dataclasses.replace(
            POLICIES.delivery,
            ships_to=("DE", "AT"),
            ships_to_names=("Germany", "Austria"),
            remote_regions=(),
            remote_region_names=(),
            methods=tuple(
                dataclasses.replace(m, name=name)
                for m, name in zip(
                    POLICIES.delivery.methods, ("DHL", "Express", "Kurier"), strict=True
                )
            ),
        ),
    )
    text = said("delivery_options", german)
    assert "within Germany and Austria" in text and "DHL (5 to 7 business days) from €16.00" in text
    for foreign in ("$", "Alaska", "Guam", "Standard", "United States"):
        assert foreign not in text
