"""Contract tests of the Magento 2 connector on the payloads Adobe's REST documentation shows.

No Magento store runs here: tests/connectors/fixtures/magento/ holds the documented payloads
(each file names its source), shaped on the Luma sample orders of Veronica Costello, and
tests/connectors/replay.py serves them over real HTTP, so the connector's own client, bearer
token, query strings, retries and error handling are what is exercised.
"""

from __future__ import annotations

import copy
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connectors.errors import NotAllowed, ShopError, ShopUnavailable, Unsupported
from connectors.http import ShopClient
from connectors.magento import (
    STATE_STATUS,
    MagentoOrders,
    connect,
    rest_base,
    search_criteria,
)
from connectors.orders import Address, Order, can_cancel
from connectors.protocol import Capability, OrderSystem, ProductSource
from connectors.settings import ConnectorSettings
from connectors.statuses import OrderStatus, RefundStatus
from tests.connectors.replay import Answer, Received, ReplayServer, Route, fixture, replaying

PLATFORM = "magento"
TOKEN = "m2-integration-token-4f7c9a1e"
EMAIL = "roni_cost@example.com"
NOW = datetime(2026, 11, 6, 12, 0, tzinfo=UTC)
NEW_ADDRESS = Address("Veronica Costello", "3 Lakeside Drive", "Ann Arbor", "MI", "48104")

# The routes of a store, under the REST root the connector calls (.../rest/V1).
ORDERS = r"/rest/V1/orders"
ORDER_1 = r"/rest/V1/orders/1"
SHIPMENTS = r"/rest/V1/shipments"
INVOICES = r"/rest/V1/invoices"
CREDITMEMOS = r"/rest/V1/creditmemos"
OPTIONS = r"/rest/V1/products/attributes/{code}/options"
# Which fixture answers a getList filtered on an order's entity id.
INVOICED = {"1": "invoices_000000001"}
REFUNDED = {"2": "creditmemos_000000002"}


def recorded(name: str) -> Any:
    return copy.deepcopy(fixture(PLATFORM, name))


def query(request: Received) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}


def by_order(answers: dict[str, str]) -> Callable[[Received], Answer]:
    """A getList that answers the fixture of the order id its filter asks for."""

    def answer(request: Received) -> Answer:
        order_id = query(request).get("searchCriteria[filter_groups][0][filters][0][value]", "")
        return 200, recorded(answers.get(order_id, "search_empty"))

    return answer


def order_with(state: str, status: str | None = None) -> dict[str, Any]:
    """Order 000000001 in another Magento state (the documented order, one field changed)."""
    search: dict[str, Any] = recorded("orders_search_000000001")
    search["items"][0]["state"] = state
    search["items"][0]["status"] = status or state
    return search


def store(
    orders: dict[str, Any] | None = None,
    *,
    shipments: dict[str, str] | None = None,
    invoices: dict[str, str] | None = None,
    creditmemos: dict[str, str] | None = None,
) -> list[Route]:
    """A store with Luma orders 000000001 (processing) and 000000002 (closed)."""
    searches = orders or {
        "000000001": recorded("orders_search_000000001"),
        "000000002": recorded("orders_search_000000002"),
    }

    def search(request: Received) -> Answer:
        number = query(request).get("searchCriteria[filter_groups][0][filters][0][value]", "")
        return 200, searches.get(number, recorded("orders_search_empty"))

    def single(request: Received) -> Answer:
        entity_id = int(request.path.split("?")[0].rsplit("/", 1)[1])
        for result in searches.values():
            for item in result["items"]:
                if item["entity_id"] == entity_id:
                    return 200, item
        return 404, recorded("error_no_such_entity")

    return [
        Route("GET", ORDERS, search),
        Route("GET", r"/rest/V1/orders/\d+", single),
        Route("GET", SHIPMENTS, by_order(shipments or {})),
        Route("GET", INVOICES, by_order(INVOICED if invoices is None else invoices)),
        Route("GET", CREDITMEMOS, by_order(REFUNDED if creditmemos is None else creditmemos)),
    ]


def connector(server: ReplayServer, *, retries: int = 2, page_size: int = 100) -> MagentoOrders:
    client = ShopClient(
        "Magento 2",
        rest_base(server.url),
        {"Authorization": f"Bearer {TOKEN}"},
        timeout_s=2.0,
        retries=retries,
    )
    return MagentoOrders(client, page_size=page_size)


@pytest.fixture
def shop() -> Iterator[tuple[ReplayServer, MagentoOrders]]:
    with replaying(*store()) as server:
        magento = connector(server)
        yield server, magento
        magento.close()


# --- the interface --------------------------------------------------------------------------


def test_it_is_an_order_system_and_a_product_source(
    shop: tuple[ReplayServer, MagentoOrders],
) -> None:
    _, magento = shop
    assert isinstance(magento, OrderSystem)
    assert isinstance(magento, ProductSource)
    assert magento.capabilities == {Capability.CANCEL, Capability.CHANGE_ADDRESS}


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("https://shop.example", "https://shop.example/rest/V1"),
        ("https://shop.example/", "https://shop.example/rest/V1"),
        ("https://shop.example/rest", "https://shop.example/rest/V1"),
        ("https://shop.example/rest/default", "https://shop.example/rest/default/V1"),
        ("https://shop.example/rest/default/V1/", "https://shop.example/rest/default/V1"),
        ("https://shop.example/magento", "https://shop.example/magento/rest/V1"),
    ],
)
def test_the_rest_root_is_found_from_the_shop_address(url: str, root: str) -> None:
    assert rest_base(url) == root


def test_search_criteria_are_the_documented_query() -> None:
    assert search_criteria("increment_id", "000000001", page_size=1) == {
        "searchCriteria[filter_groups][0][filters][0][field]": "increment_id",
        "searchCriteria[filter_groups][0][filters][0][value]": "000000001",
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "eq",
        "searchCriteria[pageSize]": "1",
    }


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1", "000000001"),
        ("#000000001", "000000001"),
        (" # 42 ", "000000042"),
        ("WA0003003", "WA0003003"),
        ("#wa0003003", "wa0003003"),
        ("", None),
        ("my order", None),
        ("1; DROP TABLE", None),
    ],
)
def test_order_numbers_are_increment_ids(
    shop: tuple[ReplayServer, MagentoOrders], typed: str, number: str | None
) -> None:
    _, magento = shop
    assert magento.order_number(typed) == number


# --- finding and reading an order -----------------------------------------------------------


def test_the_luma_order_is_found_with_its_lines_invoice_and_address(
    shop: tuple[ReplayServer, MagentoOrders],
) -> None:
    server, magento = shop
    order = magento.find_order("#1", " Roni_Cost@Example.com ")
    assert order is not None
    assert order.number == "000000001"
    assert order.status == OrderStatus.PROCESSING
    assert order.shop_status == "processing / processing"
    assert order.customer_name == "Veronica Costello"
    assert (order.currency, order.total_cents) == ("USD", 3400)
    # The configurable item is the line; its simple child (price 0) is not a second one.
    assert [(ln.line_id, ln.name, ln.sku, ln.qty, ln.price_cents) for ln in order.lines] == [
        ("1", "Iris Workout Top", "WS03-XS-Red", 1, 2900)
    ]
    assert order.placed_at == datetime(2026, 11, 2, 15, 4, 11, tzinfo=UTC)
    assert [(i.number, i.amount_cents) for i in order.invoices] == [("000000001", 3400)]
    assert order.shipping_address == Address(
        "Veronica Costello", "6146 Honey Bluff Parkway", "Calder", "MI", "49628-7978", "US"
    )
    assert order.shipments == () and order.refunds == ()
    assert can_cancel(order)
    search = next(r for r in server.requests if urlsplit(r.path).path == ORDERS)
    assert query(search)["searchCriteria[filter_groups][0][filters][0][field]"] == "increment_id"
    assert query(search)["searchCriteria[filter_groups][0][filters][0][value]"] == "000000001"


def test_every_call_carries_the_bearer_token(shop: tuple[ReplayServer, MagentoOrders]) -> None:
    server, magento = shop
    magento.find_order("1", EMAIL)
    assert server.requests
    assert {r.headers.get("Authorization") for r in server.requests} == {f"Bearer {TOKEN}"}


def test_an_unknown_number_and_a_wrong_email_are_alike_none(
    shop: tuple[ReplayServer, MagentoOrders],
) -> None:
    server, magento = shop
    assert magento.find_order("999", EMAIL) is None
    assert magento.find_order("1", "someone@example.com") is None
    assert magento.find_order("not a number", EMAIL) is None
    # Nothing about the order is read for a shopper who has not proved it is theirs.
    assert all(urlsplit(r.path).path == ORDERS for r in server.requests)


@pytest.mark.parametrize(("state", "status"), sorted(STATE_STATUS.items()))
def test_magento_states_map_to_shopdesk_statuses(state: str, status: OrderStatus) -> None:
    with replaying(*store({"000000001": order_with(state)}, invoices={})) as server:
        order = connector(server).find_order("1", EMAIL)
    assert order is not None
    assert order.status == status
    assert order.shop_status.startswith(state)


def test_a_state_magento_does_not_document_is_a_shop_error() -> None:
    routes = store({"000000001": order_with("teleported")})
    with replaying(*routes) as server, pytest.raises(ShopError, match="unknown state"):
        connector(server).find_order("1", EMAIL)


def test_a_shipped_order_has_its_carrier_and_tracking() -> None:
    routes = store({"000000001": order_with("complete")}, shipments={"1": "shipments_000000001"})
    with replaying(*routes) as server:
        order = connector(server).find_order("1", EMAIL)
    assert order is not None
    assert order.status == OrderStatus.SHIPPED
    [parcel] = order.shipments
    assert parcel.carrier == "UPS"
    assert parcel.tracking_number == "1Z999AA10123456784"
    assert parcel.tracking_url == "https://www.ups.com/track?tracknum=1Z999AA10123456784"
    assert parcel.shipped_at == datetime(2026, 11, 4, 10, 30, tzinfo=UTC)
    assert parcel.delivered_at is None  # Magento records no delivery
    assert not can_cancel(order)


def test_a_partly_shipped_processing_order_reads_as_shipped() -> None:
    routes = store(shipments={"1": "shipments_000000001"})
    with replaying(*routes) as server:
        order = connector(server).find_order("1", EMAIL)
    assert order is not None
    assert order.shop_status == "processing / processing"
    assert order.status == OrderStatus.SHIPPED


def test_a_refunded_order_has_its_credit_memo_as_a_refund(
    shop: tuple[ReplayServer, MagentoOrders],
) -> None:
    _, magento = shop
    order = magento.find_order("2", EMAIL)
    assert order is not None
    assert order.status == OrderStatus.REFUNDED
    assert [ln.name for ln in order.lines] == ["Minerva LumaTech™ V-Tee"]
    [refund] = order.refunds
    assert refund.amount_cents == 3700
    assert refund.status == RefundStatus.PROCESSED
    assert refund.method == "Check / Money order"
    assert refund.processed_at == datetime(2026, 11, 5, 8, 0, tzinfo=UTC)
    assert refund.return_number is None


def test_an_open_credit_memo_is_a_pending_refund_and_a_cancelled_one_is_none() -> None:
    memos = recorded("creditmemos_000000002")
    open_memo = memos["items"][0]
    cancelled = {**copy.deepcopy(open_memo), "state": 3, "increment_id": "000000002"}
    open_memo["state"] = 1
    memos["items"].append(cancelled)
    routes = store()
    routes.insert(0, Route("GET", CREDITMEMOS, (200, memos)))
    with replaying(*routes) as server:
        order = connector(server).find_order("2", EMAIL)
    assert order is not None
    assert [(r.status, r.processed_at) for r in order.refunds] == [(RefundStatus.PENDING, None)]


# --- changes ----------------------------------------------------------------------------------


def cancellable_store() -> tuple[list[Route], dict[str, bool]]:
    """Order 000000001 placed and not invoiced (state new): Magento can cancel it."""
    placed = order_with("new", "pending")
    done = {"cancelled": False}

    def cancel(_: Received) -> Answer:
        done["cancelled"] = True
        placed["items"][0]["state"] = placed["items"][0]["status"] = "canceled"
        return 200, True

    routes = store({"000000001": placed}, invoices={})
    routes.append(Route("POST", r"/rest/V1/orders/1/cancel", cancel))
    return routes, done


def test_cancel_a_placed_order() -> None:
    routes, done = cancellable_store()
    with replaying(*routes) as server:
        magento = connector(server)
        order = magento.find_order("1", EMAIL)
        assert order is not None and order.status == OrderStatus.PENDING
        cancellation = magento.cancel(order, fee_cents=0, now=NOW)
    assert done["cancelled"]
    assert cancellation.order.status == OrderStatus.CANCELLED
    assert cancellation.refund is None and cancellation.fee_cents == 0
    posts = [r for r in server.requests if r.method == "POST"]
    assert [urlsplit(r.path).path for r in posts] == ["/rest/V1/orders/1/cancel"]


def test_a_cancel_magento_refuses_is_not_allowed_and_not_retried(
    shop: tuple[ReplayServer, MagentoOrders],
) -> None:
    server, magento = shop
    server.add(Route("POST", r"/rest/V1/orders/1/cancel", (200, False)))
    order = magento.find_order("1", EMAIL)  # invoiced: Magento's canCancel says no
    assert order is not None
    with pytest.raises(NotAllowed) as refused:
        magento.cancel(order, fee_cents=0, now=NOW)
    assert "invoiced" in refused.value.reason
    assert len([r for r in server.requests if r.method == "POST"]) == 1


def test_a_shipped_order_is_not_cancelled_and_magento_is_not_asked() -> None:
    routes = store({"000000001": order_with("complete")}, shipments={"1": "shipments_000000001"})
    with replaying(*routes) as server:
        magento = connector(server)
        order = magento.find_order("1", EMAIL)
        assert order is not None
        with pytest.raises(NotAllowed):
            magento.cancel(order, fee_cents=0, now=NOW)
        with pytest.raises(NotAllowed):
            magento.change_address(order, NEW_ADDRESS, now=NOW)
    assert not [r for r in server.requests if r.method in {"POST", "PUT"}]


def test_a_cancel_whose_answer_is_lost_is_not_sent_twice() -> None:
    routes, _ = cancellable_store()
    routes.insert(0, Route("POST", r"/rest/V1/orders/1/cancel", (503, None)))
    with replaying(*routes) as server:
        magento = connector(server)
        order = magento.find_order("1", EMAIL)
        assert order is not None
        with pytest.raises(ShopUnavailable):
            magento.cancel(order, fee_cents=0, now=NOW)
    assert len([r for r in server.requests if r.method == "POST"]) == 1


def test_change_the_address_saves_magentos_address_entity(
    shop: tuple[ReplayServer, MagentoOrders],
) -> None:
    server, magento = shop
    searches = recorded("orders_search_000000001")

    def save(request: Received) -> Answer:
        searches["items"][0]["extension_attributes"]["shipping_assignments"][0]["shipping"][
            "address"
        ] = request.body["entity"]
        return 200, recorded("order_address_saved")

    server.add(Route("PUT", ORDER_1, save))
    server.add(Route("GET", ORDER_1, lambda _: (200, searches["items"][0])))
    order = magento.find_order("1", EMAIL)
    assert order is not None
    changed = magento.change_address(order, NEW_ADDRESS, now=NOW)
    [put] = [r for r in server.requests if r.method == "PUT"]
    entity = put.body["entity"]
    # Magento's own record, its ids, type, phone and e-mail kept, the new place in it.
    assert (entity["entity_id"], entity["parent_id"], entity["address_type"]) == (1, 1, "shipping")
    assert (entity["telephone"], entity["email"]) == ("(555) 229-3326", EMAIL)
    assert (entity["firstname"], entity["lastname"]) == ("Veronica", "Costello")
    assert entity["street"] == ["3 Lakeside Drive"]
    assert (entity["city"], entity["postcode"], entity["region_code"]) == (
        "Ann Arbor",
        "48104",
        "MI",
    )
    assert entity["region_id"] == 33  # same state: Magento's region id still holds
    assert changed.shipping_address == NEW_ADDRESS


def test_an_address_magento_rejects_is_a_shop_error_naming_its_message(
    shop: tuple[ReplayServer, MagentoOrders],
) -> None:
    server, magento = shop
    server.add(Route("PUT", ORDER_1, (400, recorded("error_required_field"))))
    order = magento.find_order("1", EMAIL)
    assert order is not None
    with pytest.raises(ShopError, match="is required") as error:
        magento.change_address(order, NEW_ADDRESS, now=NOW)
    assert TOKEN not in str(error.value)


def test_returns_are_handed_to_a_person(shop: tuple[ReplayServer, MagentoOrders]) -> None:
    _, magento = shop
    order = magento.find_order("1", EMAIL)
    assert order is not None
    assert Capability.START_RETURN not in magento.capabilities
    with pytest.raises(Unsupported):
        magento.start_return(order, "1", "too small", now=NOW, window_days=30)


# --- products -------------------------------------------------------------------------------


def product_store() -> list[Route]:
    def page(request: Received) -> Answer:
        number = query(request)["searchCriteria[currentPage]"]
        return 200, recorded(f"products_page_{number}")

    return [
        Route("GET", r"/rest/V1/products", page),
        Route("GET", r"/rest/V1/categories", (200, recorded("categories"))),
        Route("GET", OPTIONS.format(code="color"), (200, recorded("options_color"))),
        Route("GET", OPTIONS.format(code="size"), (200, recorded("options_size"))),
    ]


def test_products_are_read_page_by_page_with_variants_and_categories() -> None:
    with replaying(*product_store()) as server:
        products = list(connector(server, page_size=2).products())
    pages = [query(r) for r in server.requests if urlsplit(r.path).path == "/rest/V1/products"]
    assert [(p["searchCriteria[pageSize]"], p["searchCriteria[currentPage]"]) for p in pages] == [
        ("2", "1"),
        ("2", "2"),
        ("2", "3"),
    ]
    # The disabled bag and the hoodie's children (not visible individually) are no products.
    assert [p.sku for p in products] == ["MH01", "24-MB01"]
    hoodie, bag = products
    assert (hoodie.name, hoodie.price_cents, hoodie.url_key) == (
        "Chaz Kangeroo Hoodie",
        5200,
        "chaz-kangeroo-hoodie",
    )
    assert hoodie.categories == ["Men/Tops/Hoodies & Sweatshirts"]
    assert hoodie.description.startswith("Ideal for cold-weather training")
    assert [(v.sku, v.size, v.color, v.qty) for v in hoodie.variants] == [
        ("MH01-XS-Black", "XS", "Black", 100),
        ("MH01-S-Gray", "S", "Gray", 0),
    ]
    assert hoodie.image == "/m/h/mh01-gray_main.jpg"
    assert bag.categories == ["Gear", "Gear/Bags"]
    assert bag.description.startswith("The sporty Joust Duffle Bag can't be beat")
    assert (bag.special_price_cents, bag.special_from, bag.special_to) == (
        2900,
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert [(v.sku, v.qty) for v in bag.variants] == [("24-MB01", 100)]
    assert (bag.file, bag.line) == ("Magento 2", 4)


# --- failures ---------------------------------------------------------------------------------


def test_a_503_is_tried_again_and_then_answers() -> None:
    routes = store()
    routes.insert(0, Route("GET", ORDERS, (503, None), times=1))
    with replaying(*routes) as server:
        order = connector(server).find_order("1", EMAIL)
    assert order is not None
    assert len([r for r in server.requests if urlsplit(r.path).path == ORDERS]) == 2


def test_a_store_that_keeps_failing_is_unavailable() -> None:
    routes = [Route("GET", ORDERS, (503, None))]
    with replaying(*routes) as server, pytest.raises(ShopUnavailable):
        connector(server, retries=1).find_order("1", EMAIL)


def test_a_store_that_is_down_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ReplayServer(url=f"http://127.0.0.1:{port}")
    with pytest.raises(ShopUnavailable):
        connector(server, retries=0).find_order("1", EMAIL)


def test_a_refused_token_is_a_shop_error_that_never_shows_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    routes = [Route("GET", ORDERS, (401, recorded("error_unauthorized")))]
    caplog.set_level(logging.DEBUG)
    with replaying(*routes) as server, pytest.raises(ShopError) as error:
        connector(server).find_order("1", EMAIL)
    assert "401" in str(error.value)
    assert TOKEN not in str(error.value)
    assert TOKEN not in caplog.text


def test_a_payload_off_the_documented_schema_is_a_shop_error() -> None:
    broken = recorded("orders_search_000000001")
    broken["items"][0]["grand_total"] = "lots"
    with replaying(*store({"000000001": broken})) as server, pytest.raises(ShopError):
        connector(server).find_order("1", EMAIL)


# --- settings -----------------------------------------------------------------------------------


def test_connect_reads_the_shops_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with replaying(*store()) as server:
        monkeypatch.setenv("SHOPDESK_ORDERS", "magento")
        monkeypatch.setenv("SHOPDESK_SHOP_API_URL", f"{server.url}/rest/")
        monkeypatch.setenv("SHOPDESK_SHOP_API_TOKEN", TOKEN)
        monkeypatch.setenv("SHOPDESK_SHOP_API_RETRIES", "0")
        magento = connect(ConnectorSettings.from_env())
        order: Order | None = magento.find_order("000000001", EMAIL)
        magento.close()
    assert order is not None and order.number == "000000001"
    assert server.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
