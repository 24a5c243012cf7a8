"""Deleting an account starts erasure; the newsletter flag is real and reveals nothing."""

from __future__ import annotations

from sqlalchemy import select

from actions.account import ActionDeleteAccount, ActionNewsletter, newsletter_choice_in
from catalog.db import session_scope
from catalog.models import ErasureRequest, NewsletterSubscriber
from tests.actions.test_orders import run, verified


def subscribed(url: str, email: str) -> bool | None:
    with session_scope(url) as session:
        row = session.scalars(
            select(NewsletterSubscriber).where(NewsletterSubscriber.email == email)
        ).first()
        return None if row is None else row.subscribed


def test_what_the_shopper_wants_from_the_newsletter() -> None:
    assert newsletter_choice_in("please unsubscribe me") == "unsubscribe"
    assert newsletter_choice_in("I don't want your newsletter any more") == "unsubscribe"
    assert newsletter_choice_in("sign me up for the newsletter") == "subscribe"
    assert newsletter_choice_in("newsletter") is None


def test_subscribe_then_unsubscribe_flips_the_flag(order_book_env, tracker_from) -> None:
    slots = {"newsletter_choice": "subscribe", "newsletter_email": "new.shopper@example.com"}
    [text], _ = run(ActionNewsletter(), tracker_from("order_form", slots=slots))
    assert text.startswith("Done: new.shopper@example.com is subscribed")
    assert subscribed(order_book_env, "new.shopper@example.com") is True
    slots["newsletter_choice"] = "unsubscribe"
    run(ActionNewsletter(), tracker_from("order_form", slots=slots))
    assert subscribed(order_book_env, "new.shopper@example.com") is False


def test_unsubscribing_an_unknown_address_says_the_same(order_book_env, tracker_from) -> None:
    known = {"newsletter_choice": "unsubscribe", "newsletter_email": "emily.carter@example.com"}
    unknown = {"newsletter_choice": "unsubscribe", "newsletter_email": "nobody@example.com"}
    [known_text], _ = run(ActionNewsletter(), tracker_from("order_form", slots=known))
    [unknown_text], _ = run(ActionNewsletter(), tracker_from("order_form", slots=unknown))
    assert known_text.replace("emily.carter", "nobody") == unknown_text


def test_a_confirmed_deletion_starts_erasure(order_book_env, tracker_from) -> None:
    [text], _ = run(
        ActionDeleteAccount(), verified(tracker_from, "000000108", delete_confirmed=True)
    )
    assert "I've started deleting your account" in text
    with session_scope(order_book_env) as session:
        [request] = session.scalars(select(ErasureRequest)).all()
        assert (request.email, request.status) == ("mia.robinson@example.org", "pending")
        assert request.conversation_id == "shopper-orders-1"


def test_no_deletion_without_a_yes(order_book_env, tracker_from) -> None:
    [text], _ = run(
        ActionDeleteAccount(), verified(tracker_from, "000000106", delete_confirmed=False)
    )
    assert text == "OK, your account stays as it is."
    with session_scope(order_book_env) as session:
        assert session.scalars(select(ErasureRequest)).all() == []
