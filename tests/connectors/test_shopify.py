"""Contract tests of the Shopify connector: Shopify's documented Admin GraphQL payloads
(fixtures/shopify/, each naming the shopify.dev page and API version it follows), served over
real HTTP by the replay server, so the connector's own client, headers, retries and error
handling run as they would against a store. No live store is reachable here; these tests say
what the connector does with what Shopify documents it answers.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final

import pytest

from connectors.errors import NotAllowed, ShopError, ShopUnavailable, Unsupported
from connectors.orders import Address, Order, can_cancel
from connectors.protocol import Capability, OrderSystem, ProductSource
from connectors.settings import ConnectorSettings
from connectors.shopify import (
    ACCESS_TOKEN_HEADER,
    DEFAULT_API_VERSION,
    THROTTLE_RETRIES,
    ShopifyOrders,
    connect,
)
from connectors.statuses import OrderStatus, RefundStatus, ReturnStatus
from core.settings import SettingsError
from tests.connectors.replay import Answer, Received, ReplayServer, Route, fixture, replaying

PLATFORM: Final = "shopify"
TOKEN: Final = "shpat_contract_test_token_5f1e0c"
GRAPHQL: Final = rf"/admin/api/{DEFAULT_API_VERSION}/graphql\.json"
EMAIL: Final = "bob.norman@mail.example.com"
GREEN_LINE: Final = "gid://shopify/LineItem/466157049"  # returned already in #1003
RED_LINE: Final = "gid://shopify/LineItem/518995019"
NOW: Final = datetime(2025, 1, 20, 12, 0, tzinfo=UTC)  # #1003 was delivered on 9 January
RETURN_WINDOW_DAYS: Final = 30
NEW_ADDRESS: Final = Address("Bob Norman", "190 MacLaren", "Sudbury", "ON", "K2P0V6", "CA")

# Every test here but the first two serves Shopify's payloads from a local HTTP server.
live = pytest.mark.live


def operation(name: str) -> Callable[[Received], bool]:
    """Tells GraphQL operations apart: the connector names each (`operationName`)."""
    return lambda request: (
        isinstance(request.body, dict) and request.body.get("operationName") == name
    )


def graphql(name: str, payload: str, *, times: int | None = None) -> Route:
    return Route("POST", GRAPHQL, (200, fixture(PLATFORM, payload)), operation(name), times)


def find(payload: str) -> Route:
    return graphql("FindOrder", payload)


@dataclass
class Shop:
    connector: ShopifyOrders
    server: ReplayServer
    waits: list[float] = field(default_factory=list)

    def sent(self, name: str) -> list[Received]:
        return [r for r in self.server.requests if operation(name)(r)]

    def variables(self, name: str) -> dict[str, Any]:
        body = self.sent(name)[-1].body
        assert isinstance(body, dict)
        variables = body["variables"]
        assert isinstance(variables, dict)
        return variables


def settings_for(url: str, **extra: str) -> ConnectorSettings:
    return ConnectorSettings.from_env(
        {
            "SHOPDESK_ORDERS": "shopify",
            "SHOPDESK_SHOP_API_URL": url,
            "SHOPDESK_SHOP_API_TOKEN": TOKEN,
            "SHOPDESK_SHOP_API_RETRIES": "1",
            **extra,
        }
    )


@contextmanager
def shop(*routes: Route, **env: str) -> Iterator[Shop]:
    with replaying(*routes) as server:
        waits: list[float] = []
        connector = ShopifyOrders.from_settings(settings_for(server.url, **env), sleep=waits.append)
        try:
            yield Shop(connector, server, waits)
        finally:
            connector.close()


def found(s: Shop, number: str = "1001") -> Order:
    order = s.connector.find_order(number, EMAIL)
    assert order is not None
    return order


# -- order numbers (nothing is sent) --------------------------------------------------------


@pytest.mark.parametrize("typed", ["1001", "#1001", " # 1001 ", "##1001"])
def test_a_typed_number_becomes_shopify_s_order_name(typed: str) -> None:
    connector = ShopifyOrders.from_settings(settings_for("http://127.0.0.1:9"))
    assert connector.order_number(typed) == "#1001"


@pytest.mark.parametrize("typed", ["", "#", "10 01", "1001; drop", 'name:"x"', "9" * 41])
def test_what_cannot_be_an_order_name_is_none(typed: str) -> None:
    connector = ShopifyOrders.from_settings(settings_for("http://127.0.0.1:9"))
    assert connector.order_number(typed) is None


# -- finding and verifying ------------------------------------------------------------------


@live
def test_an_order_is_found_by_number_and_its_customer_s_email() -> None:
    with shop(find("order_unfulfilled")) as s:
        order = s.connector.find_order("1001", "  Bob.Norman@Mail.Example.com ")
        assert s.variables("FindOrder") == {"query": 'name:"#1001"'}
    assert order is not None
    assert (order.number, order.currency, order.total_cents) == ("#1001", "USD", 40994)
    assert [(line.sku, line.qty, line.price_cents) for line in order.lines] == [
        ("IPOD2008GREEN", 1, 19900),
        ("IPOD2008RED", 1, 19900),
    ]
    assert order.customer_name == "Bob Norman"
    assert order.shipping_address == Address(
        "Bob Norman", "Chestnut Street 92", "Louisville", "KY", "40202", "US"
    )
    assert order.placed_at == datetime(2025, 1, 6, 9, 14, 32, tzinfo=UTC)
    assert order.invoices[0].url is not None and "/orders/" in order.invoices[0].url


@live
def test_a_wrong_email_and_an_unknown_number_are_both_none() -> None:
    with shop(find("order_unfulfilled")) as s:
        assert s.connector.find_order("1001", "someone.else@example.com") is None
        assert s.connector.find_order("9999", EMAIL) is None  # the search found #1001 only
    with shop(find("orders_none")) as s:
        assert s.connector.find_order("1001", EMAIL) is None
    with shop() as s:
        assert s.connector.find_order("not a number!", EMAIL) is None
        assert s.server.requests == []  # nothing to look up


@live
@pytest.mark.parametrize(
    ("payload", "number", "status", "shop_status"),
    [
        ("order_unfulfilled", "1001", OrderStatus.PROCESSING, "PAID / UNFULFILLED"),
        ("order_shipped", "1002", OrderStatus.SHIPPED, "PAID / FULFILLED"),
        ("order_delivered", "1003", OrderStatus.DELIVERED, "PARTIALLY_REFUNDED / FULFILLED"),
        ("order_cancelled", "1004", OrderStatus.CANCELLED, "cancelled, REFUNDED / UNFULFILLED"),
    ],
)
def test_shopify_s_states_map_to_shopdesk_s_and_keep_shopify_s_words(
    payload: str, number: str, status: OrderStatus, shop_status: str
) -> None:
    with shop(find(payload)) as s:
        order = found(s, number)
    assert order.status == status
    assert order.shop_status == shop_status


@live
def test_a_shipped_order_has_its_tracking_and_can_no_longer_be_cancelled() -> None:
    with shop(find("order_shipped")) as s:
        order = found(s, "#1002")
    (parcel,) = order.shipments
    assert (parcel.carrier, parcel.tracking_number) == ("UPS", "1Z1234512345123456")
    assert parcel.tracking_url is not None and "1Z1234512345123456" in parcel.tracking_url
    assert parcel.eta == date(2025, 1, 10)
    assert parcel.shipped_at == datetime(2025, 1, 7, 18, 40, tzinfo=UTC)
    assert parcel.delivered_at is None
    assert not can_cancel(order)


@live
def test_refunds_and_returns_are_read_with_their_states() -> None:
    with shop(find("order_delivered")) as s:
        delivered = found(s, "1003")
    (refund,) = delivered.refunds
    assert (refund.amount_cents, refund.status, refund.method) == (
        19900,
        RefundStatus.PROCESSED,
        "bogus",
    )
    assert refund.return_number == "#1003-R1"
    (returned,) = delivered.returns
    assert (returned.number, returned.line_id, returned.qty, returned.status) == (
        "#1003-R1",
        GREEN_LINE,
        1,
        ReturnStatus.RECEIVED,
    )
    with shop(find("order_cancelled")) as s:
        cancelled = found(s, "1004")
    assert [(r.amount_cents, r.status) for r in cancelled.refunds] == [
        (40994, RefundStatus.PENDING)
    ]


# -- changes --------------------------------------------------------------------------------


@live
def test_cancel_asks_shopify_to_cancel_refund_and_restock_once() -> None:
    with shop(find("order_unfulfilled"), graphql("CancelOrder", "order_cancel_job")) as s:
        order = found(s)
        done = s.connector.cancel(order, fee_cents=0, now=NOW)
        assert len(s.sent("CancelOrder")) == 1
        sent = s.variables("CancelOrder")
    assert sent["orderId"] == "gid://shopify/Order/148977776"
    assert (sent["refund"], sent["restock"], sent["reason"]) == (True, True, "CUSTOMER")
    assert done.order.status == OrderStatus.CANCELLED
    assert done.fee_cents == 0
    assert done.refund is not None
    assert (done.refund.amount_cents, done.refund.status) == (40994, RefundStatus.PENDING)


@live
def test_shopify_s_refusal_to_cancel_is_not_allowed_with_its_reason() -> None:
    with shop(find("order_unfulfilled"), graphql("CancelOrder", "order_cancel_refused")) as s:
        order = found(s)
        with pytest.raises(NotAllowed, match="return in progress") as refused:
            s.connector.cancel(order, fee_cents=0, now=NOW)
    assert refused.value.reason.startswith("Shopify could not cancel order #1001")


@live
def test_a_shipped_order_or_a_fee_is_refused_before_anything_is_sent() -> None:
    with shop(find("order_shipped")) as s:
        shipped = found(s, "1002")
        with pytest.raises(NotAllowed, match="already shipped"):
            s.connector.cancel(shipped, fee_cents=0, now=NOW)
        with pytest.raises(NotAllowed, match="already shipped"):
            s.connector.change_address(shipped, NEW_ADDRESS, now=NOW)
        assert s.sent("CancelOrder") == s.sent("ChangeAddress") == []
    with shop(find("order_unfulfilled")) as s:
        order = found(s)
        with pytest.raises(Unsupported):
            s.connector.cancel(order, fee_cents=500, now=NOW)
        assert s.sent("CancelOrder") == []


@live
def test_the_shipping_address_changes_through_order_update() -> None:
    with shop(find("order_unfulfilled"), graphql("ChangeAddress", "order_update")) as s:
        changed = s.connector.change_address(found(s), NEW_ADDRESS, now=NOW)
        sent = s.variables("ChangeAddress")["input"]
    assert sent["id"] == "gid://shopify/Order/148977776"
    assert sent["shippingAddress"] == {
        "firstName": "Bob",
        "lastName": "Norman",
        "address1": "190 MacLaren",
        "city": "Sudbury",
        "provinceCode": "ON",
        "zip": "K2P0V6",
        "countryCode": "CA",
    }
    assert changed.shipping_address == NEW_ADDRESS


@live
def test_shopify_s_refusal_to_change_the_address_is_not_allowed() -> None:
    with shop(find("order_unfulfilled"), graphql("ChangeAddress", "order_update_refused")) as s:
        order = found(s)
        with pytest.raises(NotAllowed, match="Zip is not valid"):
            s.connector.change_address(order, NEW_ADDRESS, now=NOW)


@live
def test_a_return_is_requested_for_the_fulfilled_items_of_a_line() -> None:
    routes = (
        find("order_delivered"),
        graphql("ReturnableLines", "returnable_fulfillments"),
        graphql("StartReturn", "return_requested"),
    )
    with shop(*routes) as s:
        order = found(s, "1003")
        request = s.connector.start_return(
            order, RED_LINE, "It is too small", now=NOW, window_days=RETURN_WINDOW_DAYS
        )
        sent = s.variables("StartReturn")["input"]
    assert sent["orderId"] == "gid://shopify/Order/625362839"
    assert sent["returnLineItems"] == [
        {
            "fulfillmentLineItemId": "gid://shopify/FulfillmentLineItem/820022594",
            "quantity": 1,
            "returnReason": "OTHER",
            "customerNote": "It is too small",
        }
    ]
    assert (request.number, request.line_id, request.qty, request.status) == (
        "#1003-R2",
        RED_LINE,
        1,
        ReturnStatus.REQUESTED,
    )


@live
def test_a_return_outside_the_rules_or_refused_by_shopify_is_not_allowed() -> None:
    routes = (
        find("order_delivered"),
        graphql("ReturnableLines", "returnable_fulfillments"),
        graphql("StartReturn", "return_refused"),
    )
    with shop(*routes) as s:
        order = found(s, "1003")
        with pytest.raises(NotAllowed, match="can no longer be returned"):  # returned already
            s.connector.start_return(order, GREEN_LINE, "x", now=NOW, window_days=30)
        late = datetime(2025, 3, 1, tzinfo=UTC)
        with pytest.raises(NotAllowed, match="can no longer be returned"):
            s.connector.start_return(order, RED_LINE, "x", now=late, window_days=30)
        assert s.sent("StartReturn") == []
        with pytest.raises(NotAllowed, match="not available for return"):
            s.connector.start_return(order, RED_LINE, "x", now=NOW, window_days=30)


# -- products -------------------------------------------------------------------------------


def _products_page(request: Received) -> Answer:
    after = request.body["variables"]["after"] if isinstance(request.body, dict) else None
    return 200, fixture(PLATFORM, "products_page2" if after else "products_page1")


@live
def test_products_are_read_page_by_page_with_their_variants() -> None:
    with shop(Route("POST", GRAPHQL, _products_page, operation("Products"))) as s:
        products = list(s.connector.products())
        pages = [r.body["variables"] for r in s.sent("Products") if isinstance(r.body, dict)]
    assert [p["after"] for p in pages] == [
        None,
        "eyJsYXN0X2lkIjo2MzI5MTAzOTIsImxhc3RfdmFsdWUiOiI2MzI5MTAzOTIifQ==",
    ]
    assert {p["query"] for p in pages} == {"status:active"}
    nano, touch = products
    assert (nano.sku, nano.name, nano.url_key, nano.brand) == (
        "ipod-nano",
        "IPod Nano - 8GB",
        "ipod-nano",
        "Apple",
    )
    assert (nano.price_cents, nano.special_price_cents, nano.currency) == (24900, 19900, "USD")
    assert nano.categories == ["Cult Products", "IPods"]
    assert nano.image is not None and nano.image.endswith("ipod-nano.png")
    assert [(v.sku, v.color, v.qty) for v in nano.variants] == [
        ("IPOD2008PINK", "Pink", 5),
        ("IPOD2008RED", "Red", 5),
        ("IPOD2008GREEN", "Green", 0),
    ]
    assert (touch.sku, touch.price_cents, touch.special_price_cents, touch.variants) == (
        "IPOD2009BLACK",
        19900,
        None,
        [],
    )
    assert (nano.file, nano.line, touch.line) == ("Shopify", 1, 2)


# -- throttling, outages, bad answers -------------------------------------------------------


@live
def test_a_throttled_query_waits_as_shopify_says_and_is_sent_again() -> None:
    with shop(graphql("FindOrder", "throttled", times=1), find("order_unfulfilled")) as s:
        order = found(s)
        assert len(s.sent("FindOrder")) == 2
    assert order.number == "#1001"
    assert s.waits == [pytest.approx((752 - 666) / 50.0)]  # requested - available, by restore rate


@live
def test_a_store_that_keeps_throttling_is_unavailable() -> None:
    with shop(graphql("FindOrder", "throttled")) as s:
        with pytest.raises(ShopUnavailable, match="throttling"):
            s.connector.find_order("1001", EMAIL)
        assert len(s.sent("FindOrder")) == THROTTLE_RETRIES + 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@live
def test_a_store_that_does_not_answer_is_unavailable() -> None:
    connector = ShopifyOrders.from_settings(settings_for(f"http://127.0.0.1:{_closed_port()}"))
    with pytest.raises(ShopUnavailable):
        connector.find_order("1001", EMAIL)
    with pytest.raises(ShopUnavailable):
        list(connector.products())


@live
def test_server_errors_retry_a_query_but_never_a_mutation() -> None:
    with shop(Route("POST", GRAPHQL, (503, {"errors": "Service Unavailable"}))) as s:
        with pytest.raises(ShopUnavailable):
            s.connector.find_order("1001", EMAIL)
        assert len(s.server.requests) == 2  # once, and once more (SHOPDESK_SHOP_API_RETRIES=1)
    routes = (
        Route("POST", GRAPHQL, (502, None), operation("CancelOrder")),
        find("order_unfulfilled"),
    )
    with shop(*routes) as s:
        with pytest.raises(ShopUnavailable):
            s.connector.cancel(found(s), fee_cents=0, now=NOW)
        assert len(s.sent("CancelOrder")) == 1  # a lost cancel may have been done


@live
@pytest.mark.parametrize(
    "answer",
    [
        (200, fixture(PLATFORM, "query_error")),
        (200, {"data": {"orders": None}}),
        (200, {"data": {"orders": {"edges": [{"node": {"name": "#1001", "email": EMAIL}}]}}}),
        (200, ["not", "an", "object"]),
        (
            401,
            {"errors": "[API] Invalid API key or access token (wrong password)"},
        ),
        (404, {"errors": "Not Found"}),
    ],
)
def test_an_answer_that_does_not_fit_the_schema_is_a_shop_error(answer: Answer) -> None:
    with shop(Route("POST", GRAPHQL, answer)) as s, pytest.raises(ShopError):
        s.connector.find_order("1001", EMAIL)


@live
def test_the_token_is_sent_in_its_header_and_never_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    messages: list[str] = []
    answers = [
        (200, fixture(PLATFORM, "query_error")),
        (401, {"errors": "[API] Invalid API key or access token"}),
        (503, {"errors": "Service Unavailable"}),
        (200, fixture(PLATFORM, "throttled")),
    ]
    for answer in answers:
        with shop(Route("POST", GRAPHQL, answer)) as s:
            try:
                s.connector.find_order("1001", EMAIL)
            except (ShopError, ShopUnavailable) as error:
                messages.append(str(error))
            headers = [{k.lower(): v for k, v in r.headers.items()} for r in s.server.requests]
            assert headers and all(h[ACCESS_TOKEN_HEADER.lower()] == TOKEN for h in headers)
    assert len(messages) == len(answers)
    assert not any(TOKEN in m for m in messages)
    assert TOKEN not in caplog.text


# -- settings and the protocols -------------------------------------------------------------


@live
def test_the_settings_choose_the_store_and_its_api_version() -> None:
    newer = r"/admin/api/2025-04/graphql\.json"
    answer = (200, fixture(PLATFORM, "order_unfulfilled"))
    with replaying(Route("POST", newer, answer)) as server:
        chosen = settings_for(server.url, SHOPDESK_SHOP_API_VERSION="2025-04")
        connector = connect(chosen)
        assert isinstance(connector, OrderSystem) and isinstance(connector, ProductSource)
        assert connector.find_order("1001", EMAIL) is not None
    assert connector.capabilities == frozenset(Capability)
    with pytest.raises(SettingsError, match="SHOPDESK_SHOP_API_TOKEN"):
        ShopifyOrders.from_settings(
            ConnectorSettings.from_env(
                {"SHOPDESK_ORDERS": "shopify", "SHOPDESK_SHOP_API_URL": server.url}
            )
        )
