"""Returns: which line the shopper means, the return record, and the policy window."""

from __future__ import annotations

from sqlalchemy import select

from actions.returns import ActionSubmitReturn, ValidateReturnForm, chosen_line
from catalog.db import session_scope
from catalog.models import Return
from connectors.orders import OrderLine as ShopLine
from tests.actions.test_orders import run, verified


def lines(names: list[str]) -> list[ShopLine]:
    return [ShopLine(str(n), name, 1, f"S{n}", 100) for n, name in enumerate(names, 1)]


def test_the_line_by_position_name_or_last() -> None:
    items = lines(["Aim Analog Watch", "Chaz Kangeroo Hoodie"])
    assert chosen_line("2", [], items) is items[1]
    assert chosen_line("the first one", [1], items) is items[0]
    assert chosen_line("the last one", [-1], items) is items[1]
    assert chosen_line("the hoodie", [], items) is items[1]  # a clear part of one name
    assert chosen_line("chaz kangeroo hoodie", [], items) is items[1]
    assert chosen_line("3", [], items) is None


def test_the_line_by_its_name_as_shoppers_write_it() -> None:
    items = lines(["Quest Lumaflex™ Band", "Sprite Yoga Strap 6 foot", "Hero Hoodie"])
    for answer in ["Quest Lumaflex™ Band", "quest lumaflex band", "the band", "lumaflx band",
                   "Quest Lumaflex Band please", "number 1"]:  # fmt: skip
        assert chosen_line(answer, [], items) is items[0], answer
    assert chosen_line("the yoga strap", [], items) is items[1]
    assert chosen_line("something else", [], items) is None


def test_an_answer_that_fits_two_lines_is_not_guessed() -> None:
    items = lines(["Chaz Kangeroo Hoodie", "Hero Hoodie"])
    assert chosen_line("the hoodie", [], items) is None
    assert chosen_line("the hero one", [], items) is items[1]


def test_a_return_gets_a_number_and_instructions(order_book_env, tracker_from) -> None:
    form = ValidateReturnForm()
    tracker = verified(tracker_from, "000000102")
    from rasa_sdk.executor import CollectingDispatcher

    item = form.validate_return_item("Chaz Kangeroo Hoodie", CollectingDispatcher(), tracker, {})
    tracker = verified(
        tracker_from, "000000102", return_item=item["return_item"], return_reason="Too small"
    )
    [text], _ = run(ActionSubmitReturn(), tracker)
    assert text.startswith("Your return R000000102-1 for Chaz Kangeroo Hoodie is registered.")
    with session_scope(order_book_env) as session:
        created = session.scalars(select(Return).where(Return.number == "R000000102-1")).one()
        assert (created.status, created.reason) == ("requested", "Too small")


def test_only_delivered_orders_within_the_window_ask_for_an_item(
    order_book_env, tracker_from
) -> None:
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    def required(number: str) -> list[str]:
        tracker = verified(tracker_from, number)
        form = ValidateReturnForm()
        return asyncio.run(form.required_slots([], CollectingDispatcher(), tracker, {}))

    assert required("000000102") == ["order_number", "email", "return_item", "return_reason"]
    assert required("000000103") == ["order_number", "email"]  # delivered 60 days ago
    assert required("000000101") == ["order_number", "email"]  # on its way
    [text], _ = run(ActionSubmitReturn(), verified(tracker_from, "000000103", return_item="1"))
    assert "was delivered more than 30 days ago" in text
    [text], _ = run(ActionSubmitReturn(), verified(tracker_from, "000000101", return_item="1"))
    assert "hasn't been delivered yet" in text
