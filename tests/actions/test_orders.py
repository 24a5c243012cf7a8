"""Order tasks on a verified order: status, refunds, invoices, cancelling, a new address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.orders import (
    ActionCancelOrder,
    ActionChangeAddress,
    ActionInvoice,
    ActionOrderStatus,
    ActionRefundStatus,
    ValidateChangeAddressForm,
)
from catalog.db import session_scope
from catalog.models import Order
from tests.actions.render import template, texts

EMAILS = {
    "000000100": "emily.carter@example.com",
    "000000101": "james.nguyen@example.net",
    "000000102": "sophia.martinez@example.org",
    "000000103": "michael.brooks@example.com",
    "000000105": "daniel.kim@example.org",
    "000000106": "ava.thompson@example.com",
    "000000107": "noah.patel@example.net",
    "000000108": "mia.robinson@example.org",
}


def verified(tracker_from: Callable[..., Tracker], number: str, **slots: Any) -> Tracker:
    email = EMAILS[number]
    return tracker_from(
        "order_form",
        slots={
            "order_number": number,
            "email": email,
            "verified_order_number": number,
            "verified_customer_email": email,
            **slots,
        },
    )


def run(action: Any, tracker: Tracker) -> tuple[list[str], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = action.run(dispatcher, tracker, {})
    return texts(dispatcher.messages), events


def order(url: str, number: str) -> Order:
    with session_scope(url) as session:
        found = session.scalars(select(Order).where(Order.number == number)).one()
        session.expunge(found)
        return found


def test_a_shipped_order_tells_carrier_tracking_and_eta(order_book_env, tracker_from) -> None:
    [text], _ = run(ActionOrderStatus(), verified(tracker_from, "000000101"))
    assert text.startswith("Your order 000000101 has shipped and is on its way.")
    assert "UPS, tracking number 1Z" in text and "expected delivery:" in text


def test_nothing_is_told_without_verification(order_book_env, tracker_from) -> None:
    tracker = tracker_from("order_form", slots={"order_number": "000000101"})
    [text], _ = run(ActionOrderStatus(), tracker)
    assert "shipped" not in text and "order number and the e-mail" in text


def test_a_locked_conversation_is_offered_a_person(order_book_env, tracker_from) -> None:
    tracker = tracker_from("order_form", slots={"verification_failures": 3.0})
    [text], events = run(ActionOrderStatus(), tracker)
    assert text == template("utter_verification_locked")
    assert events[-1] == FollowupAction("action_offer_human")


def test_refunds_pending_and_processed(order_book_env, tracker_from) -> None:
    [pending], _ = run(ActionRefundStatus(), verified(tracker_from, "000000105"))
    assert "is being processed" in pending
    [paid], _ = run(ActionRefundStatus(), verified(tracker_from, "000000106"))
    assert "was refunded to your original payment method on" in paid
    [none], _ = run(ActionRefundStatus(), verified(tracker_from, "000000101"))
    assert none.startswith("There is no refund on order 000000101.")


def test_the_invoice_of_a_paid_order(order_book_env, tracker_from) -> None:
    [text], _ = run(ActionInvoice(), verified(tracker_from, "000000102"))
    assert "INV000000102" in text and "https://shop.test/sales/order/history" in text


def test_a_confirmed_cancellation_cancels_and_refunds(order_book_env, tracker_from) -> None:
    [text], events = run(
        ActionCancelOrder(), verified(tracker_from, "000000100", cancel_confirmed=True)
    )
    assert text.startswith("Done: order 000000100 is cancelled. A refund of $")
    assert events == [SlotSet("cancel_confirmed", None)]
    assert order(order_book_env, "000000100").status == "cancelled"


def test_no_to_the_confirmation_changes_nothing(order_book_env, tracker_from) -> None:
    [text], _ = run(
        ActionCancelOrder(), verified(tracker_from, "000000107", cancel_confirmed=False)
    )
    assert text == "OK, I've left order 000000107 as it is."
    assert order(order_book_env, "000000107").status == "processing"


def test_a_shipped_order_is_not_cancelled(order_book_env, tracker_from) -> None:
    [text], _ = run(ActionCancelOrder(), verified(tracker_from, "000000101", cancel_confirmed=True))
    assert "has already shipped, so it can't be cancelled" in text
    assert order(order_book_env, "000000101").status == "shipped"


def test_the_address_form_asks_for_an_address_only_before_shipping(
    order_book_env, tracker_from
) -> None:
    import asyncio

    form = ValidateChangeAddressForm()
    unshipped = asyncio.run(
        form.required_slots([], CollectingDispatcher(), verified(tracker_from, "000000107"), {})
    )
    shipped = asyncio.run(
        form.required_slots([], CollectingDispatcher(), verified(tracker_from, "000000101"), {})
    )
    assert unshipped[-1] == "address_confirmed" and "street" in unshipped
    assert shipped == ["order_number", "email"]


def test_a_new_address_is_validated_field_by_field(order_book_env, tracker_from) -> None:
    form = ValidateChangeAddressForm()
    tracker = verified(tracker_from, "000000107")
    dispatcher = CollectingDispatcher()
    assert form.validate_postcode("9410", dispatcher, tracker, {}) == {"postcode": None}
    assert dispatcher.messages  # says what a ZIP code looks like
    assert form.validate_region("California", dispatcher, tracker, {}) == {"region": "CA"}
    assert form.validate_postcode("94103", dispatcher, tracker, {}) == {"postcode": "94103"}


def test_a_confirmed_address_is_written_to_the_order(order_book_env, tracker_from) -> None:
    address = {"street": "1200 Market Street", "city": "San Francisco", "region": "CA"}
    tracker = verified(
        tracker_from, "000000107", postcode="94103", address_confirmed=True, **address
    )
    [text], _ = run(ActionChangeAddress(), tracker)
    assert text == (
        "Done: order 000000107 will be shipped to 1200 Market Street, San Francisco, CA 94103."
    )
    changed = order(order_book_env, "000000107")
    assert (changed.ship_street, changed.ship_city, changed.ship_postcode) == (
        "1200 Market Street",
        "San Francisco",
        "94103",
    )


def test_a_whole_address_in_one_message_fills_every_field(order_book_env, tracker_from) -> None:
    form = ValidateChangeAddressForm()
    tracker = verified(tracker_from, "000000107", requested_slot="street")
    tracker.latest_message.update(
        {"text": "88 lake drive, seattle WA 98101", "intent": {"name": "inform", "confidence": 0.9}}
    )
    found = form.extract_street(CollectingDispatcher(), tracker, {})
    assert found == {
        "street": "88 lake drive",
        "city": "seattle",
        "region": "WA",
        "postcode": "98101",
    }
    dispatcher = CollectingDispatcher()
    assert form.validate_city("seattle", dispatcher, tracker, {}) == {"city": "Seattle"}


def test_one_line_addresses_as_people_type_them() -> None:
    from catalog.addresses import split_one_line

    assert split_one_line("221 Oak Lane, apartment 3B, Portland, OR 97201") == {
        "street": "221 Oak Lane, apartment 3B",
        "city": "Portland",
        "region": "OR",
        "postcode": "97201",
    }
    assert split_one_line("6146 Honey Bluff Parkway, Calder, Michigan 49628 USA") == {
        "street": "6146 Honey Bluff Parkway",
        "city": "Calder",
        "region": "Michigan",
        "postcode": "49628",
    }
    assert split_one_line("88 lake drive") is None  # a street alone is the street
    assert split_one_line("Calder, Michigan 49628") is None
