"""launcher.oscar_shop: the demo Django Oscar shop starts, holds ShopDesk's demo orders, answers
staff with a token and nobody without one, and comes back after a stop with the same data."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from catalog.demo.order_book import showcase
from launcher.oscar_shop import LUMA_ORDERS, OscarShop, OscarShopError, export_demo_data
from tests.connectors.conftest import start_oscar_shop

pytestmark = pytest.mark.live

SHIPPED_ORDER = "000000101"  # shipped with UPS (catalog/demo/order_book.py SHOWCASE)
DELIVERED_ORDER = "000000102"
NOT_SHIPPED_ORDER = "000000107"  # being processed: cancellable, its address can change
CONFLICT = 409


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OscarShop]:
    """This module's own shop: its tests change orders and stop it."""
    started = start_oscar_shop(tmp_path_factory.mktemp("oscar_shop_test"))
    try:
        yield started
    finally:
        started.stop()


def staff(shop: OscarShop) -> httpx.Client:
    token = shop.token_file.read_text(encoding="utf-8").strip()
    return httpx.Client(base_url=shop.url, headers={"Authorization": f"Token {token}"})


def order(shop: OscarShop, number: str) -> dict[str, Any]:
    with staff(shop) as client:
        found = client.get("/admin/orders/", params={"number": number}).json()
    assert [o["number"] for o in found] == [number]
    result: dict[str, Any] = found[0]
    return result


def test_the_api_answers_and_the_token_file_is_the_owners_only(shop: OscarShop) -> None:
    assert httpx.get(f"{shop.url}/").status_code == 200
    assert stat.S_IMODE(shop.token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(os.stat(shop.home).st_mode) & 0o077 == 0
    token = shop.token_file.read_text(encoding="utf-8").strip()
    assert token not in shop.log_file.read_text(encoding="utf-8")
    assert shop.settings() == {
        "SHOPDESK_ORDERS": "oscar",
        "SHOPDESK_SHOP_API_URL": shop.url,
        "SHOPDESK_SHOP_API_TOKEN_FILE": str(shop.token_file),
    }


def test_staff_see_the_sample_orders_with_their_e_mails(shop: OscarShop) -> None:
    with staff(shop) as client:
        answer = client.get("/admin/orders/")
    assert answer.status_code == 200
    emails = {o["number"]: o["email"] for o in answer.json()}
    assert {entry.number: entry.email for entry in showcase()}.items() <= emails.items()
    assert set(LUMA_ORDERS) <= set(emails)


def test_an_order_shows_its_status_lines_address_and_parcel(shop: OscarShop) -> None:
    exported = {o["number"]: o for o in json.loads(shop.data_file.read_text())["orders"]}
    shipped = order(shop, SHIPPED_ORDER)
    assert shipped["status"] == "Shipped"
    assert shipped["customer_name"] == "James Nguyen"
    assert shipped["currency"] == "USD"
    assert shipped["total_incl_tax"] == exported[SHIPPED_ORDER]["total"]
    address = exported[SHIPPED_ORDER]["shipping_address"]
    assert shipped["shipping_address"]["line1"] == address["line1"]
    assert shipped["shipping_address"]["postcode"] == address["postcode"]
    [event] = shipped["shipping_events"]
    parcel = exported[SHIPPED_ORDER]["shipments"][0]
    notes = dict(pair.split("=", 1) for pair in event["notes"].split("; "))
    assert event["event_type"] == "Shipped"
    assert notes["carrier"] == "UPS"
    assert notes["tracking_number"] == parcel["tracking_number"]
    assert notes["eta"] == parcel["eta"]
    with staff(shop) as client:
        lines = client.get(shipped["lines"]).json()
    expected = exported[SHIPPED_ORDER]["lines"]
    assert [(line["partner_sku"], line["title"], line["quantity"]) for line in lines] == [
        (line["sku"], line["title"], line["quantity"]) for line in expected
    ]
    delivered = order(shop, DELIVERED_ORDER)
    assert delivered["status"] == "Delivered"
    assert [e["event_type"] for e in delivered["shipping_events"]] == ["Shipped", "Delivered"]


def test_an_unknown_number_finds_nothing(shop: OscarShop) -> None:
    with staff(shop) as client:
        assert client.get("/admin/orders/", params={"number": "999999999"}).json() == []


def test_anonymous_and_wrong_tokens_are_refused(shop: OscarShop) -> None:
    assert httpx.get(f"{shop.url}/admin/orders/").status_code in {401, 403}
    wrong = {"Authorization": "Token not-the-token"}
    assert httpx.get(f"{shop.url}/admin/orders/", headers=wrong).status_code in {401, 403}


def test_the_pipeline_refuses_cancelling_a_shipped_order(shop: OscarShop) -> None:
    shipped = order(shop, SHIPPED_ORDER)
    with staff(shop) as client:
        answer = client.patch(shipped["url"], json={"status": "Cancelled"})
        moved = client.patch(shipped["url"], json={"shipping_address": {"line1": "x"}})
    assert answer.status_code == CONFLICT
    assert "Shipped" in answer.json()["detail"]
    assert moved.status_code == 400  # incomplete address: nothing changed either
    assert order(shop, SHIPPED_ORDER)["status"] == "Shipped"


def test_staff_change_the_address_then_cancel_an_order_not_shipped(shop: OscarShop) -> None:
    before = order(shop, NOT_SHIPPED_ORDER)
    assert before["status"] == "Being processed"
    new_address = {
        "first_name": "Noah",
        "last_name": "Patel",
        "line1": "742 Evergreen Terrace",
        "line4": "Springfield",
        "state": "IL",
        "postcode": "62704",
        "country": "US",
    }
    with staff(shop) as client:
        moved = client.patch(before["url"], json={"shipping_address": new_address})
        cancelled = client.patch(before["url"], json={"status": "Cancelled"})
        again = client.patch(before["url"], json={"shipping_address": new_address})
    assert moved.status_code == 200
    assert moved.json()["shipping_address"]["line1"] == "742 Evergreen Terrace"
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "Cancelled"
    assert again.status_code == CONFLICT


def test_it_stops_and_comes_back_on_the_same_port_with_its_changes(shop: OscarShop) -> None:
    url = shop.url
    shop.stop()
    assert not shop.running
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/", timeout=2)
    shop.start()
    assert shop.url == url
    assert httpx.get(f"{url}/").status_code == 200
    assert order(shop, NOT_SHIPPED_ORDER)["status"] == "Cancelled"  # what it held is kept


def test_an_export_without_the_order_book_says_what_to_do(tmp_path: Path) -> None:
    from catalog.db import migrate

    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    migrate(url)
    with pytest.raises(OscarShopError, match=r"lacks orders 000000001.*load it first"):
        export_demo_data(url)
    absent = tmp_path / "absent.sqlite3"
    with pytest.raises(OscarShopError, match="there is no catalog"):
        export_demo_data(f"sqlite:///{absent}")
    assert not absent.exists()  # not created by looking
