"""Deleting an account starts erasure (audited, told to the account's address); the newsletter
flag is real, reveals nothing, and changes for an unverified address only by e-mailed link."""

from __future__ import annotations

from sqlalchemy import select

from actions.account import ActionDeleteAccount, ActionNewsletter, newsletter_choice_in
from catalog import newsletter
from catalog.db import session_scope
from catalog.models import AuditEntry, ErasureRequest, NewsletterSubscriber, OutboxEmail
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


def test_the_verified_address_subscribes_and_unsubscribes_at_once(
    order_book_env, tracker_from
) -> None:
    email = "james.nguyen@example.net"  # order 000000101's, verified in this conversation
    tracker = verified(
        tracker_from, "000000101", newsletter_choice="subscribe", newsletter_email=email
    )
    [text], _ = run(ActionNewsletter(), tracker)
    assert text.startswith(f"Done: {email} is subscribed")
    assert subscribed(order_book_env, email) is True
    tracker = verified(
        tracker_from, "000000101", newsletter_choice="unsubscribe", newsletter_email=email
    )
    run(ActionNewsletter(), tracker)
    assert subscribed(order_book_env, email) is False


def confirmation_token(body: str) -> str:
    return body.split("token=", 1)[1].split()[0]


def test_an_unverified_address_changes_only_through_the_emailed_link(
    order_book_env, tracker_from
) -> None:
    """Anyone can type a stranger's address: nothing changes until that mailbox confirms."""
    slots = {"newsletter_choice": "subscribe", "newsletter_email": "new.shopper@example.com"}
    [text], _ = run(ActionNewsletter(), tracker_from("order_form", slots=slots))
    assert "confirmation link to new.shopper@example.com" in text
    assert subscribed(order_book_env, "new.shopper@example.com") is None
    with session_scope(order_book_env) as session:
        [mail] = session.scalars(select(OutboxEmail)).all()
        assert (mail.to_address, mail.kind) == ("new.shopper@example.com", "newsletter_confirm")
        token = confirmation_token(mail.body)
        assert newsletter.confirm(session, token + "x") is None
        done = newsletter.confirm(session, token)
        assert done == newsletter.Confirmed("new.shopper@example.com", True)
        assert newsletter.confirm(session, token) is None  # used once only
    assert subscribed(order_book_env, "new.shopper@example.com") is True


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
        [entry] = session.scalars(select(AuditEntry)).all()
        assert (entry.action, entry.conversation_id) == ("bot_erasure_request", "shopper-orders-1")
        assert entry.agent_id is None and "000000108" in entry.detail
        [mail] = session.scalars(select(OutboxEmail)).all()
        assert (mail.to_address, mail.kind) == ("mia.robinson@example.org", "erasure_requested")
        assert f"E-{request.id}" in mail.body


def test_no_deletion_without_a_yes(order_book_env, tracker_from) -> None:
    [text], _ = run(
        ActionDeleteAccount(), verified(tracker_from, "000000106", delete_confirmed=False)
    )
    assert text == "OK, your account stays as it is."
    with session_scope(order_book_env) as session:
        assert session.scalars(select(ErasureRequest)).all() == []
