"""The built-in order book as an `OrderSystem`, and the one place the connector is chosen.

`SqlOrderBook` is what the actions talk to when the shop runs no other system: every call is one
transaction and hands back frozen values (connectors.orders), so nothing the bot keeps is tied
to a database session. `connect()` / `order_system()` pick the connector from the shop's
settings; a remote one missing its address or token is a SettingsError with a sentence.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy import func, select

from catalog import order_system as order_system_module
from catalog.db import session_scope
from catalog.models import Refund as RefundRow
from catalog.models import Return as ReturnRow
from catalog.order_system import (
    BUILTIN_NAME,
    OrderSystemNotSetUp,
    SqlOrderBook,
    connect,
    order_system,
    product_source,
)
from connectors.errors import NotAllowed, ShopError
from connectors.orders import Address, Order, can_cancel, returnable_lines
from connectors.protocol import Capability, OrderSystem, ProductSource
from connectors.settings import BUILTIN, MAGENTO, OSCAR, SHOPIFY, ConnectorSettings
from connectors.statuses import OrderStatus, RefundStatus, ReturnStatus
from core.settings import SettingsError
from tests.catalog.test_demo_order_book import TODAY, order_book_db

NOW: Final = datetime.combine(TODAY, datetime.min.time()).replace(hour=10, tzinfo=UTC)
WINDOW: Final = 30
FEE_CENTS: Final = 500
NEW_ADDRESS: Final = Address("Emily Carter", "77 Lake Drive", "Madison", "WI", "53703")
EMAILS: Final = {
    "000000100": "emily.carter@example.com",
    "000000101": "james.nguyen@example.net",
    "000000102": "sophia.martinez@example.org",
    "000000103": "michael.brooks@example.com",
    "000000105": "daniel.kim@example.org",
    "000000107": "noah.patel@example.net",
}
REMOTE: Final = (OSCAR, SHOPIFY, MAGENTO)
API_URL: Final = "https://shop.example/api"
TOKEN: Final = "staff-token-0123456789"


@pytest.fixture
def book_url(luma_db_url: str, tmp_path: Path) -> str:
    return order_book_db(luma_db_url, tmp_path)


@pytest.fixture
def book(book_url: str) -> SqlOrderBook:
    return SqlOrderBook(book_url)


def found(book: SqlOrderBook, number: str) -> Order:
    order = book.find_order(number, EMAILS[number])
    assert order is not None
    return order


def count(url: str, model: type[RefundRow] | type[ReturnRow]) -> int:
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_it_is_an_order_system_with_every_change(book: SqlOrderBook) -> None:
    assert isinstance(book, OrderSystem)
    assert book.capabilities == frozenset(Capability)
    assert book.name == BUILTIN_NAME
    assert not isinstance(book, ProductSource)  # its products come from the importers


def test_order_numbers_are_read_as_the_book_writes_them(book: SqlOrderBook) -> None:
    assert [book.order_number(typed) for typed in ("#101", " 101 ", "000000101")] == [
        "000000101"
    ] * 3
    assert [book.order_number(typed) for typed in ("", "abc", "#", "10 1")] == [None] * 4


def test_an_order_is_found_only_with_its_customers_email(book: SqlOrderBook) -> None:
    order = book.find_order("000000101", "  James.Nguyen@Example.NET ")
    assert order is not None and order.number == "000000101"
    assert book.find_order("#101", EMAILS["000000101"]) == order
    refused = [
        book.find_order("000000101", EMAILS["000000100"]),  # another shopper's e-mail
        book.find_order("000000101", ""),
        book.find_order("000000999", EMAILS["000000101"]),  # no such order
        book.find_order("not a number", EMAILS["000000101"]),
    ]
    assert refused == [None] * len(refused)


def test_an_order_is_a_frozen_value_usable_after_its_session(book: SqlOrderBook) -> None:
    order = found(book, "000000101")  # its session is closed: everything was read with it
    assert (order.status, order.email, order.customer_name) == (
        OrderStatus.SHIPPED,
        EMAILS["000000101"],
        "James Nguyen",
    )
    assert order.lines and order.shipments and order.invoices and order.shipping_address
    assert order.shipments[-1].tracking_url and order.line(order.lines[0].line_id)
    with pytest.raises(dataclasses.FrozenInstanceError):
        order.status = OrderStatus.CANCELLED  # type: ignore[misc]
    refunded = found(book, "000000105")
    assert [(r.status, r.return_number) for r in refunded.refunds] == [
        (RefundStatus.PENDING, "R000000105-1")
    ]
    assert [r.status for r in refunded.returns] == [ReturnStatus.RECEIVED]


def test_cancelling_starts_the_refund(book: SqlOrderBook, book_url: str) -> None:
    order = found(book, "000000100")
    assert can_cancel(order)
    done = book.cancel(order, fee_cents=FEE_CENTS, now=NOW)
    assert done.fee_cents == FEE_CENTS
    assert done.order.status == OrderStatus.CANCELLED and not can_cancel(done.order)
    assert done.refund is not None
    assert (done.refund.amount_cents, done.refund.status, done.refund.created_at) == (
        order.total_cents - FEE_CENTS,
        RefundStatus.PENDING,
        NOW,
    )
    again = found(book, "000000100")  # committed: a new transaction sees it
    assert again.status == OrderStatus.CANCELLED and again.cancellation_fee_cents == FEE_CENTS
    assert [r.amount_cents for r in again.refunds] == [order.total_cents - FEE_CENTS]
    assert order.status == OrderStatus.PROCESSING  # the value read before is not changed


def test_a_shipped_order_is_not_cancelled(book: SqlOrderBook, book_url: str) -> None:
    shipped = found(book, "000000101")
    refunds = count(book_url, RefundRow)
    with pytest.raises(NotAllowed, match="has already shipped") as refusal:
        book.cancel(shipped, fee_cents=0, now=NOW)
    assert "000000101" in refusal.value.reason
    assert found(book, "000000101") == shipped and count(book_url, RefundRow) == refunds


def test_the_address_changes_before_shipping(book: SqlOrderBook) -> None:
    changed = book.change_address(found(book, "000000107"), NEW_ADDRESS, now=NOW)
    assert changed.shipping_address == NEW_ADDRESS
    assert found(book, "000000107").shipping_address == NEW_ADDRESS
    shipped = found(book, "000000101")
    with pytest.raises(NotAllowed, match="has already shipped"):
        book.change_address(shipped, NEW_ADDRESS, now=NOW)
    assert found(book, "000000101").shipping_address == shipped.shipping_address
    abroad = dataclasses.replace(NEW_ADDRESS, country="FR")
    with pytest.raises(NotAllowed, match="United States"):
        book.change_address(found(book, "000000100"), abroad, now=NOW)


def test_a_return_is_numbered_within_the_window(book: SqlOrderBook, book_url: str) -> None:
    order = found(book, "000000102")
    first, second = order.lines
    made = book.start_return(order, first.line_id, "too small", now=NOW, window_days=WINDOW)
    assert (made.number, made.line_id, made.qty, made.status, made.created_at) == (
        "R000000102-1",
        first.line_id,
        first.qty,
        ReturnStatus.REQUESTED,
        NOW,
    )
    now_left = found(book, "000000102")
    assert returnable_lines(now_left, TODAY, WINDOW) == [second]
    with pytest.raises(NotAllowed, match="already been returned"):
        book.start_return(now_left, first.line_id, "again", now=NOW, window_days=WINDOW)
    later = book.start_return(now_left, second.line_id, "", now=NOW, window_days=WINDOW)
    assert later.number == "R000000102-2"
    assert count(book_url, ReturnRow) >= 2


def test_a_return_is_refused_outside_the_window_or_for_another_line(
    book: SqlOrderBook, book_url: str
) -> None:
    before = count(book_url, ReturnRow)
    old = found(book, "000000103")
    with pytest.raises(NotAllowed, match="return window of order 000000103 closed on"):
        book.start_return(old, old.lines[0].line_id, "", now=NOW, window_days=WINDOW)
    late = NOW + timedelta(days=WINDOW + 1)  # order 102 was delivered five days ago
    recent = found(book, "000000102")
    with pytest.raises(NotAllowed, match="closed on"):
        book.start_return(recent, recent.lines[0].line_id, "", now=late, window_days=WINDOW)
    another_orders_line = found(book, "000000101").lines[0].line_id
    for line_id in ("999999999", another_orders_line, "not an id"):
        with pytest.raises(NotAllowed, match="is not part of order 000000102"):
            book.start_return(recent, line_id, "", now=NOW, window_days=WINDOW)
    assert count(book_url, ReturnRow) == before


def test_a_change_to_an_order_gone_since_is_a_shop_error(book: SqlOrderBook) -> None:
    ghost = dataclasses.replace(found(book, "000000100"), number="000000999")
    with pytest.raises(ShopError, match="000000999"):
        book.cancel(ghost, fee_cents=0, now=NOW)
    with pytest.raises(ShopError):
        book.change_address(ghost, NEW_ADDRESS, now=NOW)


def test_builtin_connects_to_the_database_given(book_url: str) -> None:
    chosen = ConnectorSettings.from_env({})
    assert chosen.orders == BUILTIN
    system = connect(chosen, book_url)
    assert isinstance(system, SqlOrderBook) and system.database_url == book_url


@pytest.mark.parametrize("name", REMOTE)
def test_a_remote_shop_needs_its_address_and_token(name: str, book_url: str) -> None:
    without_url = ConnectorSettings.from_env({"SHOPDESK_ORDERS": name})
    with pytest.raises(SettingsError, match="SHOPDESK_SHOP_API_URL") as missing_url:
        connect(without_url, book_url)
    assert str(missing_url.value).endswith(".") and name in str(missing_url.value)
    without_token = ConnectorSettings.from_env(
        {"SHOPDESK_ORDERS": name, "SHOPDESK_SHOP_API_URL": API_URL}
    )
    with pytest.raises(SettingsError, match="SHOPDESK_SHOP_API_TOKEN") as missing_token:
        connect(without_token, book_url)
    assert name in str(missing_token.value)


@pytest.mark.parametrize("name", REMOTE)
def test_a_remote_shop_with_its_settings_is_connected_without_calling_it(name: str) -> None:
    """Building the connector asks nothing of the shop (the address does not exist)."""
    chosen = ConnectorSettings.from_env(
        {
            "SHOPDESK_ORDERS": name,
            "SHOPDESK_SHOP_API_URL": API_URL,
            "SHOPDESK_SHOP_API_TOKEN": TOKEN,
        }
    )
    system = connect(chosen, "sqlite://")
    try:
        assert isinstance(system, OrderSystem) and not isinstance(system, SqlOrderBook)
        assert system.name != BUILTIN_NAME and TOKEN not in repr(vars(system))
    finally:
        close = getattr(system, "close", None)
        if close is not None:
            close()


def test_the_process_order_system_follows_the_settings(
    book_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPDESK_ORDERS", raising=False)
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", book_url)
    order_system_module._connected.cache_clear()
    system = order_system()
    assert isinstance(system, SqlOrderBook) and system.database_url == book_url
    assert order_system() is system  # built once for the process's settings
    assert product_source() is None
    assert system.find_order("101", EMAILS["000000101"]) is not None


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SHOPDESK_ORDERS": "woocommerce"}, "SHOPDESK_ORDERS"),
        ({"SHOPDESK_ORDERS": OSCAR}, "SHOPDESK_SHOP_API_URL"),
    ],
)
def test_an_order_system_that_cannot_be_built_is_a_settings_error_and_a_shop_error(
    environ: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The operator's commands read a SettingsError's sentence; the actions catch ShopError
    and apologise (tests/actions/test_order_system_paths.py)."""
    monkeypatch.delenv("SHOPDESK_SHOP_API_URL", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    order_system_module._connected.cache_clear()
    with pytest.raises(OrderSystemNotSetUp, match=named) as failed:
        order_system()
    assert isinstance(failed.value, SettingsError) and isinstance(failed.value, ShopError)
