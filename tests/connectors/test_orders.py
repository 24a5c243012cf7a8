"""The shop rules every connector shares, on orders built by hand (no database, no shop).

An order can be cancelled or redirected until a parcel is handed to a carrier; a line can be
returned from delivery to the last day of the window, until all of it was returned (a rejected
return gives it back); e-mails match without regard to case or spaces.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from typing import Final

import pytest

from connectors.orders import (
    Address,
    Order,
    OrderLine,
    ReturnRequest,
    Shipment,
    can_cancel,
    delivered_on,
    latest_shipment,
    return_deadline,
    returnable_lines,
    returned_qty,
    same_email,
)
from connectors.statuses import NOT_SHIPPED, OrderStatus, ReturnStatus

WINDOW: Final = 30
PLACED: Final = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
SHIPPED_AT: Final = datetime(2025, 6, 3, 14, 0, tzinfo=UTC)
DELIVERED_AT: Final = datetime(2025, 6, 6, 11, 30, tzinfo=UTC)
DELIVERED_DAY: Final = DELIVERED_AT.date()
JACKET: Final = OrderLine("1", "Jupiter All-Weather Trainer", 1, "MJ06-M-Blue", 5600)
TEES: Final = OrderLine("2", "Tiberius Gym Tank", 2, "MT03-S-Red", 1800)
UPS: Final = Shipment("UPS", "1Z999AA10123456784", shipped_at=SHIPPED_AT)
ARRIVED: Final = dataclasses.replace(UPS, delivered_at=DELIVERED_AT)


def order(
    status: OrderStatus, *shipments: Shipment, returns: tuple[ReturnRequest, ...] = ()
) -> Order:
    return Order(
        number="1001",
        email="Roni_Cost@Example.com",
        status=status,
        currency="USD",
        total_cents=JACKET.price_cents + TEES.qty * TEES.price_cents,
        lines=(JACKET, TEES),
        placed_at=PLACED,
        shipments=shipments,
        returns=returns,
    )


def returned(
    line: OrderLine, qty: int, status: ReturnStatus = ReturnStatus.REQUESTED
) -> ReturnRequest:
    return ReturnRequest(f"R1001-{line.line_id}", line.line_id, qty, status)


@pytest.mark.parametrize(
    ("stored", "typed", "same"),
    [
        ("roni_cost@example.com", "roni_cost@example.com", True),
        ("Roni_Cost@Example.com", "  RONI_COST@example.COM ", True),
        ("roni_cost@example.com", "roni.cost@example.com", False),
        ("roni_cost@example.com", "", False),
        ("", "", False),  # an order stored without an e-mail is nobody's to prove
        ("", "  ", False),
        ("jürgen@example.de", "JÜRGEN@example.de", True),
        ("jurgen@example.de", "jürgen@example.de", False),
    ],
)
def test_emails_match_without_case_or_spaces(stored: str, typed: str, same: bool) -> None:
    assert same_email(stored, typed) is same


def test_the_latest_parcel_is_the_last_shipped() -> None:
    later = Shipment("USPS", "9400100000000000000000", shipped_at=SHIPPED_AT + timedelta(1))
    label_only = Shipment(None, None)
    assert latest_shipment(order(OrderStatus.SHIPPED, later, UPS, label_only)) == later
    assert latest_shipment(order(OrderStatus.PROCESSING, label_only)) == label_only
    assert latest_shipment(order(OrderStatus.PROCESSING)) is None


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_an_order_not_yet_shipped_can_be_cancelled(status: OrderStatus) -> None:
    assert can_cancel(order(status)) is (status in NOT_SHIPPED)


def test_a_parcel_with_a_carrier_stops_a_cancel_even_if_the_status_lags() -> None:
    assert not can_cancel(order(OrderStatus.PROCESSING, UPS))
    assert not can_cancel(order(OrderStatus.PROCESSING, Shipment("UPS", "1Z999AA10123456784")))
    assert not can_cancel(order(OrderStatus.PENDING, Shipment(None, None, shipped_at=SHIPPED_AT)))
    assert can_cancel(order(OrderStatus.PROCESSING, Shipment(None, None)))  # a label only


def test_delivery_is_the_last_parcels_arrival_and_never_for_a_cancelled_order() -> None:
    second = dataclasses.replace(ARRIVED, delivered_at=DELIVERED_AT + timedelta(days=2))
    assert delivered_on(order(OrderStatus.DELIVERED, ARRIVED, second)) == DELIVERED_DAY + timedelta(
        2
    )
    assert delivered_on(order(OrderStatus.SHIPPED, UPS)) is None
    assert delivered_on(order(OrderStatus.CANCELLED, ARRIVED)) is None


def test_the_window_runs_from_delivery_to_its_last_day_inclusive() -> None:
    delivered = order(OrderStatus.DELIVERED, ARRIVED)
    last_day = DELIVERED_DAY + timedelta(days=WINDOW)
    assert return_deadline(delivered, WINDOW) == last_day
    assert returnable_lines(delivered, DELIVERED_DAY, WINDOW) == [JACKET, TEES]
    assert returnable_lines(delivered, last_day, WINDOW) == [JACKET, TEES]
    assert returnable_lines(delivered, last_day + timedelta(days=1), WINDOW) == []
    assert returnable_lines(delivered, last_day, 0) == []
    assert returnable_lines(delivered, DELIVERED_DAY, 0) == [JACKET, TEES]


@pytest.mark.parametrize(
    "status", [OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.SHIPPED]
)
def test_nothing_is_returnable_before_delivery(status: OrderStatus) -> None:
    undelivered = order(status, UPS) if status == OrderStatus.SHIPPED else order(status)
    assert return_deadline(undelivered, WINDOW) is None
    assert returnable_lines(undelivered, DELIVERED_DAY, WINDOW) == []


def test_a_line_is_returnable_until_all_of_it_was_returned() -> None:
    today = DELIVERED_DAY + timedelta(days=1)
    some = order(OrderStatus.DELIVERED, ARRIVED, returns=(returned(TEES, 1),))
    assert returned_qty(some, TEES) == 1
    assert returnable_lines(some, today, WINDOW) == [JACKET, TEES]
    whole = order(OrderStatus.DELIVERED, ARRIVED, returns=(returned(TEES, 1), returned(TEES, 1)))
    assert returnable_lines(whole, today, WINDOW) == [JACKET]
    rejected = order(
        OrderStatus.DELIVERED, ARRIVED, returns=(returned(JACKET, 1, ReturnStatus.REJECTED),)
    )
    assert returned_qty(rejected, JACKET) == 0
    assert returnable_lines(rejected, today, WINDOW) == [JACKET, TEES]


def test_lines_are_found_by_their_connector_key() -> None:
    placed = order(OrderStatus.PROCESSING)
    assert placed.line("2") == TEES and placed.line("3") is None


def test_values_are_frozen_and_compare_by_content() -> None:
    placed = order(OrderStatus.PROCESSING)
    with pytest.raises(dataclasses.FrozenInstanceError):
        placed.status = OrderStatus.CANCELLED  # type: ignore[misc]
    noted = dataclasses.replace(placed, extra={"oscar_id": "7"})
    assert noted == placed  # `extra` is for agents and logs, not part of the order's identity


def test_an_address_on_one_line() -> None:
    address = Address("Veronica Costello", "6146 Honey Bluff Parkway", "Calder", "MI", "49628-7978")
    assert address.one_line() == (
        "Veronica Costello, 6146 Honey Bluff Parkway, Calder, MI 49628-7978, US"
    )
    assert dataclasses.replace(address, country="CA").one_line().endswith(", CA")


def test_a_delivery_day_is_a_date() -> None:
    assert isinstance(delivered_on(order(OrderStatus.DELIVERED, ARRIVED)), date)
