"""Proving an order number and its e-mail: right, wrong, unknown, locked, another order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ValidateTrackOrderForm
from actions.verification import MAX_FAILURES
from tests.actions.render import render, template, texts

SHIPPED = ("000000101", "james.nguyen@example.net")


def validate_email(
    tracker_from: Callable[..., Tracker], number: str | None, email: str, **slots: Any
) -> tuple[list[str], dict[str, Any]]:
    tracker = tracker_from("order_form", slots={"order_number": number, **slots})
    dispatcher = CollectingDispatcher()
    result = ValidateTrackOrderForm().validate_email(email, dispatcher, tracker, {})
    return texts(dispatcher.messages), result


def test_the_order_is_verified_when_number_and_email_match(order_book_env, tracker_from) -> None:
    messages, slots = validate_email(tracker_from, *SHIPPED)
    assert messages == []
    assert slots["verified_order_number"] == "000000101"
    assert slots["verified_customer_email"] == "james.nguyen@example.net"
    assert slots["verification_failures"] == 0


def test_the_email_is_compared_without_case_and_spaces(order_book_env, tracker_from) -> None:
    _, slots = validate_email(tracker_from, "000000101", "  James.Nguyen@Example.NET ")
    assert slots["verified_order_number"] == "000000101"


def test_a_wrong_email_learns_nothing(order_book_env, tracker_from) -> None:
    """The reply to a wrong e-mail is the reply to an order that does not exist: no status,
    no items, no carrier, and the number is forgotten too."""
    wrong_messages, wrong = validate_email(tracker_from, "000000101", "thief@example.com")
    unknown_messages, unknown = validate_email(tracker_from, "000009999", "thief@example.com")
    assert wrong_messages == unknown_messages == [template("utter_verification_no_match")]
    assert wrong == unknown
    assert wrong["order_number"] is None and wrong["email"] is None
    assert wrong["verified_order_number"] is None
    for word in ("shipped", "UPS", "Ina Compression Short", "james", "000000101"):
        assert word not in " ".join(wrong_messages)


def test_the_third_failure_stops_the_checks(order_book_env, tracker_from) -> None:
    messages, slots = validate_email(
        tracker_from, "000000101", "thief@example.com", verification_failures=MAX_FAILURES - 1
    )
    assert slots["verification_failures"] == MAX_FAILURES
    assert messages == []  # the submit action says it is locked and offers a person
    tracker = tracker_from("order_form", slots=slots)
    required = asyncio.run(
        ValidateTrackOrderForm().required_slots([], CollectingDispatcher(), tracker, {})
    )
    assert required == []


def test_another_order_of_the_same_shopper_needs_no_second_email(
    order_book_env, tracker_from
) -> None:
    tracker = tracker_from(
        "order_form",
        slots={
            "order_number": "000000113",
            "email": "briannaj@example.net",
            "verified_order_number": "000000113",
            "verified_customer_email": "briannaj@example.net",
        },
    )
    slots = ValidateTrackOrderForm().validate_order_number(
        "131", CollectingDispatcher(), tracker, {}
    )
    assert slots["verified_order_number"] == "000000131"


def test_another_shoppers_order_asks_for_its_email_without_counting_a_failure(
    order_book_env, tracker_from
) -> None:
    tracker = tracker_from(
        "order_form",
        slots={
            "order_number": "000000101",
            "email": SHIPPED[1],
            "verified_order_number": "000000101",
            "verified_customer_email": SHIPPED[1],
        },
    )
    dispatcher = CollectingDispatcher()
    slots = ValidateTrackOrderForm().validate_order_number("000000102", dispatcher, tracker, {})
    assert slots == {"order_number": "000000102", "email": None, "verified_order_number": None}
    assert dispatcher.messages == []


def test_not_an_order_number(order_book_env, tracker_from) -> None:
    dispatcher = CollectingDispatcher()
    slots = ValidateTrackOrderForm().validate_order_number(
        "12ab", dispatcher, tracker_from("order_form"), {}
    )
    assert slots == {"order_number": None}
    assert render(dispatcher.messages[0]) == template("utter_order_number_invalid")


def test_not_an_email(order_book_env, tracker_from) -> None:
    messages, slots = validate_email(tracker_from, "000000101", "james at example dot net")
    assert slots == {"email": None}
    assert "doesn't look like an e-mail" in messages[0]


def test_digits_for_another_question_are_not_a_new_order(order_book_env, tracker_from) -> None:
    """A ZIP code typed for the new address is found as an order number too; it must not undo
    the verification of the order being changed."""
    tracker = tracker_from(
        "order_form",
        slots={
            "order_number": "10118",
            "email": "noah.patel@example.net",
            "verified_order_number": "000000107",
            "verified_customer_email": "noah.patel@example.net",
            "requested_slot": "postcode",
        },
    )
    slots = ValidateTrackOrderForm().validate_order_number(
        "10118", CollectingDispatcher(), tracker, {}
    )
    assert slots == {"order_number": "000000107"}


def test_a_zip_code_keeps_the_address_form_going(order_book_env, tracker_from) -> None:
    from actions.orders import ValidateChangeAddressForm

    tracker = tracker_from(
        "order_form",
        slots={
            "order_number": "10118",
            "email": "noah.patel@example.net",
            "verified_order_number": "000000107",
            "verified_customer_email": "noah.patel@example.net",
            "requested_slot": "postcode",
        },
    )
    required = asyncio.run(
        ValidateChangeAddressForm().required_slots([], CollectingDispatcher(), tracker, {})
    )
    assert "postcode" in required


def test_failures_are_counted_in_the_database_across_conversations(
    order_book_env, tracker_from
) -> None:
    """A new conversation (a new session id, `/restart`) starts with no failures in its slots;
    the shop database still remembers the order number's three failures and refuses even the
    right e-mail, so walking orders cannot go on."""
    for guess in ("a@example.com", "b@example.com", "c@example.com"):
        _, slots = validate_email(tracker_from, "000000101", guess)  # each a fresh conversation
    assert slots["verification_failures"] == MAX_FAILURES  # the third locked the number
    messages, slots = validate_email(tracker_from, *SHIPPED)
    assert messages == [] and slots["verified_order_number"] is None
    assert slots["verification_failures"] == MAX_FAILURES
    # another order, with its own right e-mail, is not locked by them
    _, other = validate_email(tracker_from, "000000108", "mia.robinson@example.org")
    assert other["verified_order_number"] == "000000108"


def test_one_email_tried_on_many_orders_is_locked(order_book_env, tracker_from) -> None:
    for number in ("000000102", "000000103", "000000104"):
        validate_email(tracker_from, number, "james.nguyen@example.net")
    _, slots = validate_email(tracker_from, *SHIPPED)  # its own order: locked as well
    assert slots["verified_order_number"] is None


def test_a_verified_conversation_is_linked_to_its_shopper(order_book_env, tracker_from) -> None:
    from catalog import subjects
    from catalog.db import session_scope

    validate_email(tracker_from, *SHIPPED)
    with session_scope(order_book_env) as session:
        assert subjects.conversations_of(session, SHIPPED[1]) == {"shopper-orders-1"}
        assert subjects.order_numbers_of(session, SHIPPED[1]) == {"000000101"}
