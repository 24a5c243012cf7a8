"""The Django Oscar connector against a real Oscar shop (django-oscar 3.2 + oscarapi 3.3, the
demo shop of connectors/oscar_demo/ with ShopDesk's demo data), over HTTP as over the internet.

Reads use the session's shared `oscar_shop`; changes, and taking a shop down and back, use a
shop of this module's own, so no other test finds an order changed or a shop stopped.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from catalog.db import session_scope
from catalog.demo.order_book import showcase
from catalog.models import Product
from catalog.order_system import SqlOrderBook
from connectors.errors import NotAllowed, ShopUnavailable
from connectors.orders import Address, Order, can_cancel
from connectors.oscar import OscarOrders, connect
from connectors.protocol import Capability
from connectors.settings import ConnectorSettings
from connectors.statuses import OrderStatus
from tests.connectors.conftest import start_oscar_shop

if TYPE_CHECKING:
    from launcher.oscar_shop import OscarShop

pytestmark = pytest.mark.live

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
NEW_ADDRESS = Address("Noah Patel", "3 Lakeside Drive", "Ann Arbor", "MI", "48104")


def connected(shop: OscarShop, monkeypatch: pytest.MonkeyPatch) -> OscarOrders:
    """The connector as the shop's settings choose it (URL and token file, as a user sets)."""
    for name, value in shop.settings().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SHOPDESK_SHOP_API_TOKEN", raising=False)
    monkeypatch.setenv("SHOPDESK_SHOP_API_RETRIES", "1")
    return connect(ConnectorSettings.from_env())


@pytest.fixture(scope="module")
def own_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OscarShop]:
    shop = start_oscar_shop(tmp_path_factory.mktemp("oscar_changes"))
    try:
        yield shop
    finally:
        shop.stop()


def found(connector: OscarOrders, number: str, email: str) -> Order:
    order = connector.find_order(number, email)
    assert order is not None, f"{number} not found"
    return order


def test_the_showcase_orders_read_as_in_the_built_in_order_book(
    oscar_shop: OscarShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    oscar = connected(oscar_shop, monkeypatch)
    builtin = SqlOrderBook(oscar_shop.catalog_url)
    for entry in showcase():
        ours = builtin.find_order(entry.number, entry.email)
        theirs = found(oscar, entry.number, entry.email.upper())
        assert ours is not None
        assert theirs.status == ours.status == entry.status, entry.number
        assert (theirs.email, theirs.currency, theirs.total_cents) == (
            ours.email, ours.currency, ours.total_cents,
        )  # fmt: skip
        assert [(x.name, x.qty, x.sku, x.price_cents) for x in theirs.lines] == [
            (x.name, x.qty, x.sku, x.price_cents) for x in ours.lines
        ], entry.number
        assert theirs.shipping_address == ours.shipping_address, entry.number
        assert [(s.carrier, s.tracking_number, s.eta) for s in theirs.shipments] == [
            (s.carrier, s.tracking_number, s.eta) for s in ours.shipments
        ], entry.number
        assert can_cancel(theirs) == can_cancel(ours), entry.number


def test_a_wrong_email_or_number_finds_nothing(
    oscar_shop: OscarShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    oscar = connected(oscar_shop, monkeypatch)
    first, second = showcase()[:2]
    assert oscar.find_order(first.number, second.email) is None
    assert oscar.find_order("000009999", first.email) is None
    assert oscar.order_number(f" #{first.number} ") == first.number


def test_the_shipped_showcase_order_has_its_tracking(
    oscar_shop: OscarShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    oscar = connected(oscar_shop, monkeypatch)
    shipped = next(e for e in showcase() if e.status == OrderStatus.SHIPPED)
    order = found(oscar, shipped.number, shipped.email)
    assert order.shipments and order.shipments[0].tracking_number
    assert order.shipments[0].carrier == shipped.carrier


def test_cancel_and_change_address_in_the_shop(
    own_shop: OscarShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    oscar = connected(own_shop, monkeypatch)
    assert {Capability.CANCEL, Capability.CHANGE_ADDRESS} <= oscar.capabilities
    unshipped = [e for e in showcase() if e.status == OrderStatus.PROCESSING]
    to_cancel, to_move = unshipped[0], unshipped[-1]
    shipped = next(e for e in showcase() if e.status == OrderStatus.SHIPPED)

    order = found(oscar, to_move.number, to_move.email)
    moved = oscar.change_address(order, NEW_ADDRESS, now=NOW)
    assert moved.shipping_address == NEW_ADDRESS
    assert found(oscar, to_move.number, to_move.email).shipping_address == NEW_ADDRESS

    order = found(oscar, to_cancel.number, to_cancel.email)
    cancellation = oscar.cancel(order, fee_cents=0, now=NOW)
    assert cancellation.order.status == OrderStatus.CANCELLED
    again = found(oscar, to_cancel.number, to_cancel.email)
    assert (again.status, again.shop_status) == (OrderStatus.CANCELLED, "Cancelled")
    with pytest.raises(NotAllowed, match="already cancelled"):
        oscar.cancel(again, fee_cents=0, now=NOW)

    on_its_way = found(oscar, shipped.number, shipped.email)
    with pytest.raises(NotAllowed, match="already shipped"):
        oscar.cancel(on_its_way, fee_cents=0, now=NOW)
    with pytest.raises(NotAllowed):
        oscar.change_address(on_its_way, NEW_ADDRESS, now=NOW)
    assert found(oscar, shipped.number, shipped.email).status == OrderStatus.SHIPPED


def test_the_shop_down_then_back(own_shop: OscarShop, monkeypatch: pytest.MonkeyPatch) -> None:
    oscar = connected(own_shop, monkeypatch)
    entry = showcase()[1]
    own_shop.stop()
    try:
        with pytest.raises(ShopUnavailable) as down:
            oscar.find_order(entry.number, entry.email)
        assert own_shop.token_file.read_text(encoding="utf-8").strip() not in str(down.value)
    finally:
        own_shop.start()
    assert found(oscar, entry.number, entry.email).number == entry.number


def test_the_shops_products_are_the_catalogs(
    oscar_shop: OscarShop, monkeypatch: pytest.MonkeyPatch
) -> None:
    oscar = connected(oscar_shop, monkeypatch)
    records = {record.sku: record for record in oscar.products()}
    with session_scope(oscar_shop.catalog_url) as session:
        rows = session.execute(select(Product.sku, Product.price_cents)).tuples()
        prices = {sku: cents for sku, cents in rows}
    assert oscar.skipped == []
    assert set(records) == set(prices)
    assert {sku: r.price_cents for sku, r in records.items()} == prices
    assert all(r.categories for r in records.values())
