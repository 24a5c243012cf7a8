"""Attacks on the order checks, replayed over the public doors of the running stack.

- Rasa's raw syntax, `/track_order{...}`, `/rate_conversation{...}` or an internal intent typed
  by a shopper, used to skip the classifier and the forms; now only a button the bot itself
  offered in its last turn may be sent that way, over REST and over the widget alike.
- `/restart` (or a new session id) used to clear the count of failed checks, so a known
  e-mail could be tried against order after order; now failures are counted in the shop
  database per order number, e-mail and client, and a locked order stays locked.
- A cancellation through the bot leaves an audit row and an e-mail to the order's owner.
- "/restart" typed by a shopper no longer earns the "part of our system is not responding"
  apology.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import socketio
from sqlalchemy import select

from catalog.db import session_scope
from catalog.models import AuditEntry, Customer, NewsletterSubscriber, Order, OutboxEmail
from launcher.stack import Stack
from tests.actions.render import template
from tests.security.conftest import new_sender, shop_db_url, texts, tracker

# This file's attacker speaks from its own loopback address, so the per-client count of failed
# checks it runs up does not lock out the other tests (all on 127.0.0.1).
ATTACKER = "127.0.0.3"
# bot/shopdesk_rasa/channels.py NO_REPLY_TEXT (the Rasa side; not importable from this venv)
NO_REPLY_TEXT = "part of our system is not responding"
REPLY_TIMEOUT_S = 60
# The domain's answers (bot/domain.yml) the attacks must get, and nothing more.
LOCKED_TEXT = template("utter_verification_locked")
NO_MATCH_TEXT = template("utter_verification_no_match")


@pytest.fixture(scope="module")
def attacker() -> Iterator[httpx.Client]:
    transport = httpx.HTTPTransport(local_address=ATTACKER)
    with httpx.Client(transport=transport, timeout=REPLY_TIMEOUT_S) as client:
        yield client


def say(client: httpx.Client, stack: Stack, sender: str, text: str) -> list[str]:
    """One message over Rasa's public REST channel, as any HTTP client can send it."""
    response = client.post(stack.config.chat_url, json={"sender": sender, "message": text})
    response.raise_for_status()
    return texts(list(response.json()))


# Showcase orders of the demo order book (catalog/demo/order_book.py), the ones the stories use:
# their wording is what the classifier is known to read, so a test fails only for the attack.
SHIPPED = ("000000101", "james.nguyen@example.net")
UNSHIPPED = ("000000100", "emily.carter@example.com")


def showcase(stack: Stack, order: tuple[str, str], *statuses: str) -> tuple[str, str]:
    """The showcase order, checked against the live shop: this e-mail, one of these states."""
    with session_scope(shop_db_url(stack)) as session:
        found = session.execute(
            select(Customer.email, Order.status)
            .join(Customer, Order.customer_id == Customer.id)
            .where(Order.number == order[0])
        ).first()
    assert found is not None and found[0] == order[1] and found[1] in statuses, found
    return order


def fail_three_times(client: httpx.Client, stack: Stack, sender: str, number: str) -> list[str]:
    replies = say(client, stack, sender, f"where is order {number}?")
    for guess in ("wrong.one@example.com", "wrong.two@example.com", "wrong.three@example.com"):
        replies += say(client, stack, sender, guess)
        if any(LOCKED_TEXT in r for r in replies):
            break
        replies += say(client, stack, sender, number)
    return replies


def test_restart_after_three_wrong_emails_does_not_reset_the_lock(
    live: Stack, attacker: httpx.Client
) -> None:
    number, email = showcase(live, SHIPPED, "shipped")
    sender = new_sender()
    replies = fail_three_times(attacker, live, sender, number)
    assert replies.count(NO_MATCH_TEXT) == 2 and any(LOCKED_TEXT in r for r in replies), replies
    for reset in ("/restart", "/session_start", "/back"):
        say(attacker, live, sender, reset)
    # the right e-mail, after the "reset"
    shown = say(attacker, live, sender, f"where is order {number}?")
    shown += say(attacker, live, sender, email)
    assert not any(f"Your order {number}" in r for r in shown), shown
    assert any(LOCKED_TEXT in r for r in shown), shown
    # a brand-new conversation (a new session id) is no way round it either
    fresh = new_sender()
    shown = say(attacker, live, fresh, f"where is order {number}?")
    shown += say(attacker, live, fresh, email)
    assert not any(f"Your order {number}" in r for r in shown), shown
    assert any(LOCKED_TEXT in r for r in shown), shown


def test_raw_intent_syntax_over_rest_is_read_as_words(live: Stack, attacker: httpx.Client) -> None:
    """`/rate_conversation{...}` without the bot's rating buttons, and an intent only the server
    triggers, no longer reach Rasa as intents: no rating is stored, no timeout is played."""
    sender = new_sender()
    say(attacker, live, sender, "hello")
    say(attacker, live, sender, '/rate_conversation{"conversation_rating": 1}')
    say(attacker, live, sender, "/handoff_timeout")
    state = tracker(live, sender)
    assert state["slots"].get("conversation_rating") is None
    users = [e for e in state["events"] if e["event"] == "user"]
    assert all(not str(e.get("text") or "").startswith("/") for e in users), users
    assert {e["parse_data"]["intent"].get("name") for e in users}.isdisjoint(
        {"rate_conversation", "handoff_timeout"}
    )


def test_a_button_the_bot_offered_still_works(live: Stack, attacker: httpx.Client) -> None:
    sender = new_sender()
    response = attacker.post(live.config.chat_url, json={"sender": sender, "message": "bye"})
    buttons = [b for r in response.json() for b in r.get("buttons", [])]
    five = next(b["payload"] for b in buttons if b["payload"].startswith("/rate_conversation"))
    assert any("Thank you for rating" in r for r in say(attacker, live, sender, five))
    assert tracker(live, sender)["slots"].get("conversation_rating") is not None


def widget_says(client: socketio.SimpleClient, text: str) -> list[dict[str, Any]]:
    """Send a message over the widget's socket; the bot's messages until it stops typing."""
    client.emit("user_uttered", {"message": text})
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + REPLY_TIMEOUT_S
    typing_seen = False
    while time.monotonic() < deadline:
        event = client.receive(timeout=deadline - time.monotonic())
        if event[0] == "bot_uttered":
            received.append(event[1])
        elif event[0] == "typing":
            typing_seen = typing_seen or event[1]["on"]
            if typing_seen and not event[1]["on"]:
                return received
    raise AssertionError(f"no answer to {text!r} over the widget")


def test_raw_intent_syntax_over_the_widget_is_read_as_words(live: Stack) -> None:
    client = socketio.SimpleClient()
    client.connect(
        live.config.web_url, auth={"client": "shopdesk-widget"}, transports=["websocket"]
    )
    try:
        client.emit("session_request", {"session_id": None})
        while (event := client.receive(timeout=15))[0] != "session_confirm":
            pass
        conversation = event[1]["session_id"]
        widget_says(client, "hi")
        widget_says(client, '/rate_conversation{"conversation_rating": 1}')
        rated = tracker(live, conversation)["slots"].get("conversation_rating")
        replies = widget_says(client, "/restart")
    finally:
        client.disconnect()
    assert rated is None
    assert not any(NO_REPLY_TEXT in str(m.get("text")) for m in replies), replies
    events = all_events(live, conversation)
    assert not any(e["event"] == "restart" for e in events), events


def all_events(stack: Stack, conversation_id: str) -> list[dict[str, Any]]:
    """Every event, also those before a restart (the tracker API hides them by default)."""
    url = (
        f"{stack.config.rasa_url}/conversations/{conversation_id}/tracker"
        f"?include_events=ALL&token={stack.config.rasa_token}"
    )
    return list(httpx.get(url, timeout=30).json()["events"])


def test_restart_typed_by_a_shopper_gets_no_system_failure_apology(
    live: Stack, attacker: httpx.Client
) -> None:
    sender = new_sender()
    say(attacker, live, sender, "hello")
    for command in ("/restart", "/session_start", "/back"):
        assert NO_REPLY_TEXT not in " ".join(say(attacker, live, sender, command))


def test_a_cancel_through_the_bot_is_audited_and_told_to_the_owner(
    live: Stack, attacker: httpx.Client
) -> None:
    number, email = showcase(live, UNSHIPPED, "processing", "pending")
    sender = new_sender()
    say(attacker, live, sender, "I want to cancel an order")  # as the stories say it
    say(attacker, live, sender, number)
    asked = attacker.post(live.config.chat_url, json={"sender": sender, "message": email}).json()
    yes = next(b["payload"] for r in asked for b in r.get("buttons", []) if b["title"] == "Yes")
    assert any(f"order {number} is cancelled" in r for r in say(attacker, live, sender, yes))
    with session_scope(shop_db_url(live)) as session:
        audit = session.scalars(
            select(AuditEntry).where(AuditEntry.conversation_id == sender)
        ).all()
        mails = session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == email)).all()
        assert [(a.action, a.agent_id) for a in audit] == [("bot_cancel_order", None)]
        assert number in audit[0].detail and email not in audit[0].detail
        assert [m.kind for m in mails] == ["order_cancelled"] and number in mails[0].subject


def test_a_stranger_cannot_subscribe_or_unsubscribe_someone_elses_address(
    live: Stack, attacker: httpx.Client
) -> None:
    """Typing a victim's address changes nothing; the victim's mailbox gets a link, and only
    opening it changes the flag."""
    victim = f"victim.{new_sender()}@example.com"
    sender = new_sender()
    replies = say(attacker, live, sender, f"please subscribe {victim} to your newsletter")
    if not any("confirmation link" in r for r in replies):
        replies += say(attacker, live, sender, victim)
    assert any(f"confirmation link to {victim}" in r for r in replies), replies
    with session_scope(shop_db_url(live)) as session:
        assert (
            session.scalar(select(NewsletterSubscriber).where(NewsletterSubscriber.email == victim))
            is None
        )
        [mail] = session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == victim))
        assert mail.kind == "newsletter_confirm"
        link = next(word for word in mail.body.split() if "/newsletter/confirm?token=" in word)
    path = link[link.index("/newsletter/confirm") :]
    forged = httpx.get(f"{live.config.web_url}/newsletter/confirm?token=guessed", timeout=30)
    assert forged.status_code == 404 and "Nothing was changed" in forged.text
    opened = httpx.get(f"{live.config.web_url}{path}", timeout=30)
    assert opened.status_code == 200 and "now subscribed" in opened.text
    with session_scope(shop_db_url(live)) as session:
        row = session.scalar(
            select(NewsletterSubscriber).where(NewsletterSubscriber.email == victim)
        )
        assert row is not None and row.subscribed
