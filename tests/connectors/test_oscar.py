"""Contract tests of the Django Oscar connector on payloads shaped as django-oscar-api 3.3.0's
serializers produce them (tests/connectors/fixtures/oscar/, each naming its serializer), served
over real HTTP by tests/connectors/replay.py: the connector's own client, token header, retries
and error handling are what is exercised. tests/connectors/test_oscar_live.py runs the same
connector against a real Oscar shop.
"""

from __future__ import annotations

import copy
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.errors import NotAllowed, ShopError, ShopUnavailable, Unsupported
from connectors.http import ShopClient
from connectors.orders import Address, can_cancel
from connectors.oscar import DEFAULT_STATUSES, OSCAR_KEY, OscarOrders, connect
from connectors.protocol import Capability, OrderSystem, ProductSource
from connectors.settings import ConnectorSettings
from connectors.statuses import OrderStatus, RefundStatus
from tests.connectors.replay import Received, ReplayServer, Route, fixture, replaying

PLATFORM = "oscar"
TOKEN = "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6"
NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
EMILY = "emily.carter@example.com"  # 000000100, paid, not shipped
JAMES = "james.nguyen@example.net"  # 000000101, shipped
SOPHIA = "sophia.martinez@example.org"  # 000000102, delivered
NEW_ADDRESS = Address("Emily Carter", "3 Lakeside Drive", "Ann Arbor", "MI", "48104")

ORDERS = r"/api/admin/orders/"
ORDER_3 = r"/api/admin/orders/3/"
ORDER_4 = r"/api/admin/orders/4/"
LINES_3 = r"/api/admin/orders/3/lines/"


def recorded(name: str) -> Any:
    return copy.deepcopy(fixture(PLATFORM, name))


def order_data(number: str) -> dict[str, Any]:
    found: dict[str, Any] = next(o for o in recorded("admin_orders") if o["number"] == number)
    return found


def filtered(request: Received) -> tuple[int, Any]:
    """The demo shop's `?number=` filter over the recorded orders."""
    number = parse_qs(urlsplit(request.path).query).get("number", [None])[0]
    orders = recorded("admin_orders")
    return 200, [o for o in orders if number is None or o["number"] == number]


def shop_routes() -> list[Route]:
    """A shop like ShopDesk's demo one: filter by number, lines with titles, shipping events."""
    routes = [
        Route("GET", ORDERS, filtered),
        Route("GET", r"/api/admin/orders/\d+/lines/", (200, recorded("admin_order_lines_demo"))),
    ]
    for pk, number in ((3, "000000100"), (4, "000000101"), (5, "000000102")):
        routes.append(Route("GET", rf"/api/admin/orders/{pk}/", (200, order_data(number))))
    return routes


@pytest.fixture
def shop() -> Iterator[ReplayServer]:
    with replaying(*shop_routes()) as server:
        yield server


def oscar(server: ReplayServer, **kwargs: Any) -> OscarOrders:
    client = ShopClient(
        "Django Oscar", f"{server.url}/api", {"Authorization": f"Token {TOKEN}"}, retries=1
    )
    return OscarOrders(client, api_path="/api", **kwargs)


def patches(server: ReplayServer) -> list[Received]:
    return [r for r in server.requests if r.method == "PATCH"]


# --- finding and verifying ---------------------------------------------------------------------


def test_it_is_an_order_system_and_a_product_source(shop: ReplayServer) -> None:
    connector = oscar(shop)
    assert isinstance(connector, OrderSystem)
    assert isinstance(connector, ProductSource)
    assert Capability.START_RETURN not in connector.capabilities


def test_finds_an_order_by_number_and_email(shop: ReplayServer) -> None:
    order = oscar(shop).find_order("000000100", " Emily.Carter@Example.com ")
    assert order is not None
    assert order.number == "000000100"
    assert order.status == OrderStatus.PROCESSING
    assert order.shop_status == "Being processed"
    assert (order.currency, order.total_cents) == ("USD", 7900)
    assert order.placed_at == datetime(2026, 11, 28, 14, 2, 11, 520000, tzinfo=UTC)
    assert order.customer_name == "Emily Carter"
    assert order.shipping_address == Address(
        "Emily Carter", "12 Orchard Lane", "Springfield", "IL", "62704", "US"
    )
    assert [
        (line.line_id, line.name, line.qty, line.sku, line.price_cents) for line in order.lines
    ] == [
        ("4", "Chaz Kangeroo Hoodie", 1, "MH01-M-Black", 5200),
        ("5", "Fusion Backpack", 2, "24-MB02", 1100),
    ]
    assert order.shipments == ()
    assert can_cancel(order)
    assert order.extra[OSCAR_KEY] == "/admin/orders/3/"
    asked = [r.path for r in shop.requests]
    assert asked[0] == "/api/admin/orders/?number=000000100"


def test_a_wrong_email_and_an_unknown_number_look_the_same(shop: ReplayServer) -> None:
    connector = oscar(shop)
    assert connector.find_order("000000100", JAMES) is None
    assert connector.find_order("000000999", EMILY) is None
    assert connector.find_order("000000100", "") is None
    # the wrong e-mail learns nothing more: the order's lines were never asked for
    assert not any("/lines/" in r.path for r in shop.requests)


def test_order_numbers_are_taken_as_typed_without_hash_or_spaces() -> None:
    with replaying() as server:
        connector = oscar(server)
        assert connector.order_number(" #000000100 ") == "000000100"
        assert connector.order_number("100001") == "100001"
        assert connector.order_number("") is None
        assert connector.order_number("100 OR 1=1") is None
        assert connector.order_number("1" * 129) is None
        assert connector.order_number("12ab") is None  # Oscar's own numbers are digits
        assert server.requests == []  # nothing is looked up


def test_a_stock_oscarapi_shop_paginated_without_a_number_filter() -> None:
    """oscarapi 3.3.0 as shipped: no filter (all orders come back), DRF pagination, lines as
    a hyperlink with the default fields (titles and SKUs from the products)."""
    with replaying(
        Route("GET", ORDERS, (200, recorded("admin_orders_page1")),
              when=lambda r: "page=2" not in r.path),
        Route("GET", ORDERS, (200, recorded("admin_orders_page2")),
              when=lambda r: "page=2" in r.path),
        Route("GET", LINES_3, (200, recorded("admin_order_lines_stock"))),
        Route("GET", r"/api/products/1/", (200, recorded("product_1"))),
        Route("GET", r"/api/products/2/", (200, recorded("product_2"))),
    ) as server:  # fmt: skip
        order = oscar(server).find_order("000000100", EMILY)
    assert order is not None and order.number == "000000100"
    assert [(line.line_id, line.name, line.sku, line.price_cents) for line in order.lines] == [
        ("4", "Chaz Kangeroo Hoodie", "MH01", 5200),
        ("5", "Fusion Backpack", "24-MB02", 1100),  # 22.00 for two
    ]
    assert order.shipments == ()


def test_a_link_to_another_host_path_is_refused() -> None:
    data = order_data("000000100")
    data["lines"] = "http://elsewhere.example/steal/lines/"
    with (
        replaying(Route("GET", ORDERS, (200, [data]))) as server,
        pytest.raises(ShopError, match="outside its API"),
    ):
        oscar(server).find_order("000000100", EMILY)


# --- statuses and parcels ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("oscar_status", "expected"),
    [
        ("Pending", OrderStatus.PENDING),
        ("Being processed", OrderStatus.PROCESSING),
        ("Shipped", OrderStatus.SHIPPED),
        ("Delivered", OrderStatus.DELIVERED),
        ("Cancelled", OrderStatus.CANCELLED),
        ("Returned", OrderStatus.RETURNED),
        ("Refunded", OrderStatus.REFUNDED),
        ("new", OrderStatus.PENDING),  # oscarapi's default initial status
        ("Complete", OrderStatus.SHIPPED),  # Oscar's sandbox, after dispatch
        ("being PROCESSED", OrderStatus.PROCESSING),
    ],
)
def test_oscar_statuses_map_onto_shopdesks(oscar_status: str, expected: OrderStatus) -> None:
    data = order_data("000000100")
    data["status"] = oscar_status
    with replaying(Route("GET", ORDERS, (200, [data])), *shop_routes()) as server:
        order = oscar(server).find_order("000000100", EMILY)
    assert order is not None
    assert (order.status, order.shop_status) == (expected, oscar_status)


def test_an_unknown_status_is_an_error_unless_the_shop_maps_it() -> None:
    data = order_data("000000100")
    data["status"] = "Awaiting stock"
    with replaying(Route("GET", ORDERS, (200, [data])), *shop_routes()) as server:
        with pytest.raises(ShopError, match="Awaiting stock"):
            oscar(server).find_order("000000100", EMILY)
        extended = oscar(server, statuses={"Awaiting stock": OrderStatus.PROCESSING})
        order = extended.find_order("000000100", EMILY)
    assert order is not None and order.status == OrderStatus.PROCESSING
    assert "awaiting stock" not in DEFAULT_STATUSES  # the default table is not changed


def test_shipping_events_are_parcels_with_tracking(shop: ReplayServer) -> None:
    connector = oscar(shop)
    shipped = connector.find_order("000000101", JAMES)
    assert shipped is not None and shipped.status == OrderStatus.SHIPPED
    (parcel,) = shipped.shipments
    assert (parcel.carrier, parcel.tracking_number) == ("UPS", "1Z999AA10123456784")
    assert parcel.tracking_url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert parcel.eta == date(2026, 12, 10)
    assert parcel.shipped_at == datetime(2026, 12, 3, 16, 20, tzinfo=UTC)
    assert parcel.delivered_at is None
    assert not can_cancel(shipped)

    delivered = connector.find_order("000000102", SOPHIA)
    assert delivered is not None
    (parcel,) = delivered.shipments
    assert parcel.delivered_at == datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def test_an_unusable_answer_is_a_shop_error() -> None:
    data = order_data("000000100")
    data["total_incl_tax"] = "lots"
    with (
        replaying(Route("GET", ORDERS, (200, [data])), *shop_routes()) as server,
        pytest.raises(ShopError, match="total_incl_tax"),
    ):
        oscar(server).find_order("000000100", EMILY)
    with (
        replaying(Route("GET", ORDERS, (200, {"orders": []}))) as server,
        pytest.raises(ShopError, match="neither a list nor a page"),
    ):
        oscar(server).find_order("000000100", EMILY)


# --- changes -----------------------------------------------------------------------------------


def test_cancel_patches_the_cancelled_status_once(shop: ReplayServer) -> None:
    connector = oscar(shop)
    order = connector.find_order("000000100", EMILY)
    assert order is not None
    cancelled = order_data("000000100") | {"status": "Cancelled"}
    shop.add(Route("PATCH", ORDER_3, (200, cancelled)))

    result = connector.cancel(order, fee_cents=500, now=NOW)

    (patch,) = patches(shop)
    assert patch.path == "/api/admin/orders/3/"
    assert patch.body == {"status": "Cancelled"}
    assert result.order.status == OrderStatus.CANCELLED
    assert result.fee_cents == 500
    assert result.refund is not None  # it was paid ("Being processed")
    assert (result.refund.amount_cents, result.refund.status) == (7400, RefundStatus.PENDING)


def test_cancelling_an_unpaid_order_starts_no_refund(shop: ReplayServer) -> None:
    pending = order_data("000000100") | {"status": "Pending"}
    shop.add(Route("GET", ORDER_3, (200, pending)))
    shop.add(Route("GET", ORDERS, (200, [pending])))
    shop.add(Route("PATCH", ORDER_3, (200, pending | {"status": "Cancelled"})))
    connector = oscar(shop)
    order = connector.find_order("000000100", EMILY)
    assert order is not None
    assert connector.cancel(order, fee_cents=0, now=NOW).refund is None


def test_a_shipped_order_is_not_cancelled_and_nothing_is_sent(shop: ReplayServer) -> None:
    connector = oscar(shop)
    order = connector.find_order("000000101", JAMES)
    assert order is not None
    with pytest.raises(NotAllowed, match="already shipped"):
        connector.cancel(order, fee_cents=0, now=NOW)
    with pytest.raises(NotAllowed, match="already shipped"):
        connector.change_address(order, NEW_ADDRESS, now=NOW)
    assert patches(shop) == []


def test_the_decision_reads_the_order_as_the_shop_has_it_now(shop: ReplayServer) -> None:
    connector = oscar(shop)
    order = connector.find_order("000000100", EMILY)
    assert order is not None and can_cancel(order)
    shop.add(Route("GET", ORDER_3, (200, order_data("000000100") | {"status": "Shipped"})))
    with pytest.raises(NotAllowed):
        connector.cancel(order, fee_cents=0, now=NOW)
    assert patches(shop) == []


def test_a_change_the_pipeline_refuses_is_not_allowed(shop: ReplayServer) -> None:
    connector = oscar(shop)
    order = connector.find_order("000000100", EMILY)
    assert order is not None
    shop.add(Route("PATCH", ORDER_3, (409, recorded("error_conflict"))))
    with pytest.raises(NotAllowed) as refused:
        connector.cancel(order, fee_cents=0, now=NOW)
    assert "000000100" in refused.value.reason
    assert "Traceback" not in refused.value.reason
    assert len(patches(shop)) == 1


def test_a_stock_oscarapi_shop_cannot_change_orders(shop: ReplayServer) -> None:
    """405: the admin order API is read-only; the bot says so and offers a person, and the
    connector stops declaring the change."""
    connector = oscar(shop)
    order = connector.find_order("000000100", EMILY)
    assert order is not None
    shop.add(Route("PATCH", ORDER_3, (405, recorded("error_method_not_allowed"))))
    with pytest.raises(Unsupported):
        connector.cancel(order, fee_cents=0, now=NOW)
    assert Capability.CANCEL not in connector.capabilities
    with pytest.raises(Unsupported):
        connector.cancel(order, fee_cents=0, now=NOW)
    assert len(patches(shop)) == 1


def test_declared_capabilities_are_the_only_changes_made(shop: ReplayServer) -> None:
    connector = oscar(shop, capabilities=frozenset())
    order = connector.find_order("000000100", EMILY)
    assert order is not None
    with pytest.raises(Unsupported):
        connector.cancel(order, fee_cents=0, now=NOW)
    with pytest.raises(Unsupported):
        connector.change_address(order, NEW_ADDRESS, now=NOW)
    with pytest.raises(Unsupported):
        connector.start_return(order, "4", "too small", now=NOW, window_days=30)
    assert patches(shop) == []


def test_change_address_patches_oscars_address_fields(shop: ReplayServer) -> None:
    connector = oscar(shop)
    order = connector.find_order("000000100", EMILY)
    assert order is not None
    moved = order_data("000000100")
    moved["shipping_address"] |= {
        "line1": "3 Lakeside Drive", "line4": "Ann Arbor", "state": "MI", "postcode": "48104",
    }  # fmt: skip
    shop.add(Route("PATCH", ORDER_3, (200, moved)))

    changed = connector.change_address(order, NEW_ADDRESS, now=NOW)

    (patch,) = patches(shop)
    assert patch.body == {
        "shipping_address": {
            "first_name": "Emily", "last_name": "Carter", "line1": "3 Lakeside Drive",
            "line2": "", "line4": "Ann Arbor", "state": "MI", "postcode": "48104",
            "country": "US",
        }
    }  # fmt: skip
    assert changed.shipping_address == NEW_ADDRESS


def test_returns_are_not_a_capability_of_oscar(shop: ReplayServer) -> None:
    connector = oscar(shop)
    order = connector.find_order("000000102", SOPHIA)
    assert order is not None
    with pytest.raises(Unsupported):
        connector.start_return(order, "4", "too small", now=NOW, window_days=30)


# --- the shop down, the token ------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_shop_that_is_down_is_unavailable() -> None:
    down_url = f"http://127.0.0.1:{closed_port()}/api"
    client = ShopClient("Django Oscar", down_url, {"Authorization": f"Token {TOKEN}"}, retries=1)
    with pytest.raises(ShopUnavailable) as down:
        OscarOrders(client, api_path="/api").find_order("000000100", EMILY)
    assert TOKEN not in str(down.value)


def test_a_failing_read_is_retried_and_a_failing_change_is_not(shop: ReplayServer) -> None:
    connector = oscar(shop)
    shop.add(Route("GET", ORDERS, (503, {"detail": "busy"}), times=1))
    order = connector.find_order("000000100", EMILY)  # the retry answers
    assert order is not None
    shop.add(Route("PATCH", ORDER_3, (503, {"detail": "busy"})))
    with pytest.raises(ShopUnavailable):
        connector.cancel(order, fee_cents=0, now=NOW)
    assert len(patches(shop)) == 1


def test_the_token_is_sent_and_never_in_an_error(
    shop: ReplayServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    connector = oscar(shop)
    connector.find_order("000000100", EMILY)
    assert {r.headers.get("Authorization") for r in shop.requests} == {f"Token {TOKEN}"}
    shop.add(Route("GET", ORDERS, (403, recorded("error_forbidden"))))
    with pytest.raises(ShopError) as refused:
        connector.find_order("000000100", EMILY)
    shop.add(Route("GET", ORDERS, (503, {"detail": "down"})))
    with pytest.raises(ShopUnavailable) as down:
        connector.find_order("000000100", EMILY)
    for error in (refused.value, down.value):
        assert TOKEN not in str(error)
    assert TOKEN not in caplog.text


def test_connect_reads_the_shops_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with replaying(*shop_routes()) as server:
        monkeypatch.setenv("SHOPDESK_ORDERS", "oscar")
        monkeypatch.setenv("SHOPDESK_SHOP_API_URL", f"{server.url}/api/")
        monkeypatch.setenv("SHOPDESK_SHOP_API_TOKEN", TOKEN)
        connector = connect(ConnectorSettings.from_env())
        assert server.requests == []  # connecting asks nothing yet
        assert connector.find_order("000000100", EMILY) is not None
        assert connector.capabilities == {Capability.CANCEL, Capability.CHANGE_ADDRESS}
    assert server.requests[0].headers["Authorization"] == f"Token {TOKEN}"


# --- products ----------------------------------------------------------------------------------


def catalogue_routes() -> list[Route]:
    routes = [
        Route("GET", r"/api/products/", (200, recorded("products_standalone")),
              when=lambda r: "structure=standalone" in r.path),
        Route("GET", r"/api/products/", (200, recorded("products_parent")),
              when=lambda r: "structure=parent" in r.path),
    ]  # fmt: skip
    for pk in (1, 2, 3, 10, 11, 12):
        routes.append(Route("GET", rf"/api/products/{pk}/", (200, recorded(f"product_{pk}"))))
        routes.append(
            Route(
                "GET", rf"/api/products/{pk}/stockrecords/", (200, recorded(f"stockrecords_{pk}"))
            )
        )
    return routes


def test_products_come_with_price_categories_and_stock() -> None:
    with replaying(*catalogue_routes()) as server:
        connector = oscar(server)
        records = {record.sku: record for record in connector.products()}
    assert sorted(records) == ["24-MB02", "MH01", "MJ01"]
    hoodie = records["MH01"]
    assert (hoodie.name, hoodie.price_cents, hoodie.currency) == (
        "Chaz Kangeroo Hoodie",
        5200,
        "USD",
    )
    assert hoodie.categories == ["Men/Tops/Hoodies & Sweatshirts"]
    assert hoodie.description == "<p>The Chaz Kangeroo Hoodie.</p>"
    assert hoodie.attributes == [("Material", "Cotton")]
    assert hoodie.images == ["http://testserver/media/images/products/MH01.jpg"]
    assert [(v.sku, v.qty) for v in hoodie.variants] == [("MH01", 37)]  # 40 in stock, 3 allocated
    assert (hoodie.file, hoodie.line) == ("Django Oscar", 1)

    kit = records["MJ01"]
    assert kit.price_cents == 9900
    assert [(v.sku, v.size, v.color, v.qty) for v in kit.variants] == [
        ("MJ01-M-Red", "M", "Red", 5),
        ("MJ01-L-Red", "L", "Red", 2),
    ]
    # the product without a SKU or price is left out, and said so
    assert [(s.where, s.field) for s in connector.skipped] == [("product 3", "sku")]


def test_products_when_the_shop_is_down() -> None:
    client = ShopClient("Django Oscar", f"http://127.0.0.1:{closed_port()}/api", {}, retries=0)
    with pytest.raises(ShopUnavailable):
        list(OscarOrders(client, api_path="/api").products())
