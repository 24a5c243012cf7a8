"""Business hours in the handoff: inside the shop's support hours a person is asked for as
before; outside them nothing is promised, the shopper hears when someone is back (the shop's
time zone) and is offered to leave a message or carry on with the bot."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from rasa_sdk.events import ActiveLoop, ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.handoff import (
    MESSAGE_OR_BOT_BUTTONS,
    OFFER_BUTTONS,
    ActionHandoff,
    ActionOfferHuman,
)
from catalog.db import session_scope
from catalog.models import Handoff
from catalog.policies import ShopPolicies, load_policies
from tests.actions.render import render

SHOP = load_policies(shop_url="https://shop.test")
WEDNESDAY_10_AM = datetime(2026, 12, 9, 18, 0, tzinfo=UTC)  # in Los Angeles (PST)
WEDNESDAY_7_AM = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)
WEDNESDAY_8_PM = datetime(2026, 12, 10, 4, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2026, 12, 12, 20, 0, tzinfo=UTC)
CHRISTMAS_EVE_6_PM = datetime(2026, 12, 25, 2, 0, tzinfo=UTC)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the actions' clock (core.clock's utc_now, as actions/handoff.py reads it)."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr("actions.handoff.utc_now", lambda: moment)

    return set_now


def with_shop(monkeypatch: pytest.MonkeyPatch, shop: ShopPolicies) -> None:
    monkeypatch.setattr("actions.handoff.policies", lambda: shop)


def handoffs(url: str) -> list[Handoff]:
    with session_scope(url) as session:
        return list(session.scalars(select(Handoff)).all())


def test_inside_hours_a_person_is_asked_for(order_book_env, tracker_from, at) -> None:
    at(WEDNESDAY_10_AM)
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, tracker_from("order_form"), {})
    [message] = dispatcher.messages
    assert render(message).startswith("I've asked a person from our support team")
    assert "within 5 minutes" in render(message)
    assert events[-1] == ConversationPaused() and len(handoffs(order_book_env)) == 1


@pytest.mark.parametrize(
    ("moment", "back"),
    [
        (WEDNESDAY_7_AM, "someone is back today at 9:00 PST."),
        (WEDNESDAY_8_PM, "someone is back tomorrow at 9:00 PST."),
        (SATURDAY_NOON, "someone is back on Monday at 9:00 PST."),
        (CHRISTMAS_EVE_6_PM, "someone is back on Monday at 9:00 PST."),  # Friday is a holiday
    ],
)
def test_outside_hours_no_person_is_promised(
    order_book_env, tracker_from, at, moment: datetime, back: str
) -> None:
    at(moment)
    dispatcher = CollectingDispatcher()
    events = ActionHandoff().run(dispatcher, tracker_from("order_form"), {})
    [message] = dispatcher.messages
    text = render(message)
    assert back in text and "take a message" in text
    assert "I've asked a person" not in text
    assert message["buttons"] == MESSAGE_OR_BOT_BUTTONS
    assert [b["payload"] for b in message["buttons"]] == ["/leave_message", "/continue_with_bot"]
    # nothing waits for an agent, the conversation is not paused, a form in progress stops
    assert ConversationPaused() not in events and ActiveLoop(None) in events
    assert SlotSet("handoff_status", "waiting") not in events
    assert handoffs(order_book_env) == []


def test_a_long_closure_names_the_date(order_book_env, tracker_from, at, monkeypatch) -> None:
    hours = SHOP.support.business_hours
    assert hours is not None
    holidays = hours.holidays | {datetime(2026, 12, day).date() for day in range(10, 32)}
    support = dataclasses.replace(
        SHOP.support, business_hours=dataclasses.replace(hours, holidays=holidays)
    )
    with_shop(monkeypatch, dataclasses.replace(SHOP, support=support))
    at(WEDNESDAY_8_PM)
    dispatcher = CollectingDispatcher()
    ActionHandoff().run(dispatcher, tracker_from("order_form"), {})
    assert "back on Monday 4 January at 9:00 PST" in render(dispatcher.messages[0])


def test_a_shop_with_no_open_day_offers_only_a_message(
    order_book_env, tracker_from, at, monkeypatch
) -> None:
    hours = SHOP.support.business_hours
    assert hours is not None
    never = dataclasses.replace(hours, by_day=((),) * 7)
    support = dataclasses.replace(SHOP.support, business_hours=never)
    with_shop(monkeypatch, dataclasses.replace(SHOP, support=support))
    at(WEDNESDAY_10_AM)
    dispatcher = CollectingDispatcher()
    ActionHandoff().run(dispatcher, tracker_from("order_form"), {})
    [message] = dispatcher.messages
    assert render(message).startswith("Our support team can't join this chat at the moment.")
    assert handoffs(order_book_env) == []


def test_without_hours_in_the_settings_a_person_is_asked_for_at_night(
    order_book_env, tracker_from, at, monkeypatch
) -> None:
    support = dataclasses.replace(SHOP.support, business_hours=None)
    with_shop(monkeypatch, dataclasses.replace(SHOP, support=support))
    at(WEDNESDAY_8_PM)
    dispatcher = CollectingDispatcher()
    ActionHandoff().run(dispatcher, tracker_from("order_form"), {})
    assert render(dispatcher.messages[0]).startswith("I've asked a person")


def test_the_offer_of_a_person_follows_the_hours(tracker_from, at) -> None:
    at(WEDNESDAY_10_AM)
    dispatcher = CollectingDispatcher()
    assert ActionOfferHuman().run(dispatcher, tracker_from("order_form"), {}) == []
    [offer] = dispatcher.messages
    assert render(offer).startswith("Would you like me to pass you to a person")
    assert offer["buttons"] == OFFER_BUTTONS
    at(SATURDAY_NOON)
    dispatcher = CollectingDispatcher()
    assert ActionOfferHuman().run(dispatcher, tracker_from("order_form"), {}) == []
    [closed] = dispatcher.messages
    assert "back on Monday at 9:00 PST" in render(closed)
    assert closed["buttons"] == MESSAGE_OR_BOT_BUTTONS
