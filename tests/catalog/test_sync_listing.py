"""Discontinued products leave every list a shopper sees (search, recommendations, naming a
product, the entity vocabulary) and stay readable by SKU for the orders that refer to them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from catalog.db import session_scope
from catalog.importing import PricePolicy
from catalog.models import Customer, Order, Product, ProductLink
from catalog.naming import product_by_name, product_named_in
from catalog.recommend import (
    bought_together,
    linked_products,
    popular_products,
    product_by_sku,
    recommend_for_customer,
    similar_products,
)
from catalog.search import SearchFilters, SearchRequest, search
from catalog.settings import LUMA_DATA_DIR
from catalog.sync import sync_products
from catalog.sync_run import read_luma
from nlu_models.vocabulary import build_vocabulary
from tests.catalog.test_embeddings import copy_sqlite
from tests.catalog.test_recommend import _order

GONE = "MH01"  # Chaz Kangeroo Hoodie


@pytest.fixture(scope="module")
def shop(luma_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The Luma shop with orders, then synced without MH01, the best seller and a linked
    product: what each was before, by role."""
    url = copy_sqlite(luma_db_url, Path(tmp_path_factory.mktemp("listing")) / "shop.sqlite3")
    with session_scope(url) as session:
        session.execute(delete(Order))
        ann = Customer(email="ann@example.com", first_name="Ann", last_name="A")
        bob = Customer(email="bob@example.com", first_name="Bob", last_name="B")
        session.add_all([ann, bob])
        _order(session, "T-1", ann, ["MS04", GONE, "MH02"])
        _order(session, "T-2", bob, ["MH02"])
    with session_scope(url) as session:
        top = popular_products(session, limit=1)[0].sku
        source_id, target_id = session.execute(
            select(ProductLink.product_id, ProductLink.linked_product_id)
            .order_by(ProductLink.position)
            .limit(1)
        ).one()
        linker = session.get(Product, source_id)
        target = session.get(Product, target_id)
        assert linker is not None and target is not None
        roles = {"top": top, "linker": linker.sku, "linked": target.sku, "url": url}
        gone_name = product_by_sku(session, GONE)
        assert gone_name is not None
        roles["name"] = gone_name.name
    luma = read_luma(LUMA_DATA_DIR, PricePolicy())
    dropped = {GONE, roles["top"], roles["linked"]}
    assert roles["linker"] not in dropped
    with session_scope(url) as session:
        report = sync_products(
            session, replace(luma, records=[r for r in luma.records if r.sku not in dropped])
        )
        assert sorted(report.discontinued) == sorted(dropped)
    return roles


def test_search_leaves_them_out(shop: dict[str, str]) -> None:
    with session_scope(shop["url"]) as session:
        found = search(session, SearchRequest(shop["name"], limit=50))
        assert found.hits and GONE not in {h.sku for h in found.hits}
        by_filter = search(
            session,
            SearchRequest("", SearchFilters(category="Men/Tops/Hoodies & Sweatshirts"), limit=100),
        )
        assert by_filter.hits and GONE not in {h.sku for h in by_filter.hits}
        indexed = session.execute(
            text("SELECT count(*) FROM product_search WHERE name = :name"), {"name": shop["name"]}
        )
        assert indexed.scalar() == 0


def test_recommendations_leave_them_out(shop: dict[str, str]) -> None:
    with session_scope(shop["url"]) as session:
        assert shop["top"] not in {p.sku for p in popular_products(session, limit=10)}
        assert shop["linked"] not in {p.sku for _, p in linked_products(session, shop["linker"])}
        assert [p.sku for p, _ in bought_together(session, "MS04")] == ["MH02"]
        similar = {p.sku for p in similar_products(session, "MH02", limit=20)}
        assert similar and GONE not in similar
        bob = session.scalars(select(Customer.id).where(Customer.email == "bob@example.com")).one()
        picks = {p.sku for p in recommend_for_customer(session, bob, limit=20)}
        assert picks and not picks & {GONE, shop["top"], shop["linked"]}


def test_product_details_by_name_leave_them_out(shop: dict[str, str]) -> None:
    with session_scope(shop["url"]) as session:
        assert product_by_name(session, shop["name"]) is None
        assert product_by_name(session, "mh02 is not a name") is None
        still = product_by_sku(session, "MH02")
        assert still is not None and product_by_name(session, still.name.upper()) == still
        assert product_named_in(session, f"what is the {shop['name']} made of") is None


def test_they_stay_readable_by_sku_for_orders(shop: dict[str, str]) -> None:
    with session_scope(shop["url"]) as session:
        gone = product_by_sku(session, GONE)
        assert gone is not None and gone.discontinued_at is not None


def test_the_entity_vocabulary_leaves_them_out(shop: dict[str, str]) -> None:
    with session_scope(shop["url"]) as session:
        products = build_vocabulary(session).products
        assert shop["name"].lower() not in products
        still = product_by_sku(session, "MH02")
        assert still is not None and still.name.lower() in products
