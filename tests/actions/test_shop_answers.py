"""Answers come from the shop's settings (shop.yml), so a shop changes them there."""

from __future__ import annotations

import pytest

from actions.shop_answers import ANSWERS, ActionShopAnswer
from catalog.policies import load_policies
from tests.actions.test_orders import run

POLICIES = load_policies(shop_url="https://shop.test")


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
    ],
)
def test_answers_quote_the_shop_settings(intent: str, facts: list[str]) -> None:
    text = ANSWERS[intent](POLICIES)
    for fact in facts:
        assert fact in text


def test_every_answer_is_a_sentence() -> None:
    for intent, answer in ANSWERS.items():
        assert answer(POLICIES).rstrip().endswith((".", "?", "!")), intent


def test_an_intent_without_an_answer_gets_a_polite_reply(order_book_env, tracker_from) -> None:
    tracker = tracker_from("order_form", intent={"name": "search_product", "confidence": 0.9})
    [text], events = run(ActionShopAnswer(), tracker)
    assert text.startswith("Sorry, I can't answer that right now") and events == []
