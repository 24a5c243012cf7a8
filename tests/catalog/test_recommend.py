from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from catalog.db import session_scope
from catalog.embeddings import refresh_embeddings
from catalog.models import (
    Customer,
    Order,
    OrderLine,
    Product,
    ProductEmbedding,
    ProductLink,
    Variant,
)
from catalog.recommend import (
    bought_together,
    linked_products,
    popular_products,
    recommend_for_customer,
    similar_products,
)
from tests.catalog.test_embeddings import copy_sqlite

PER_CATEGORY = 6  # products embedded per shop category: enough to rank, quick on a laptop


def sample_ids(session: Session) -> list[int]:
    """The first few products of every Men/, Women/ and Gear/ category."""
    groups: dict[str, list[int]] = defaultdict(list)
    products = session.scalars(
        select(Product).options(selectinload(Product.categories)).order_by(Product.id)
    )
    for product in products:
        shop = sorted(c.path for c in product.categories if c.path.split("/")[0] in SHOP_ROOTS)
        if shop and len(groups[shop[-1]]) < PER_CATEGORY:
            groups[shop[-1]].append(product.id)
    return sorted(i for ids in groups.values() for i in ids)


SHOP_ROOTS = {"Men", "Women", "Gear"}


@pytest.fixture(scope="module")
def embedded_url(luma_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The Luma shop with (at least) a sample of every category embedded."""
    url = copy_sqlite(luma_db_url, tmp_path_factory.mktemp("recommend") / "embedded.sqlite3")
    with session_scope(url) as session:
        refresh_embeddings(session, progress=False, product_ids=sample_ids(session))
    return url


@pytest.fixture
def db_url(embedded_url: str, tmp_path: Path) -> str:
    """A private copy for a test that writes."""
    return copy_sqlite(embedded_url, tmp_path / "catalog.sqlite3")


def category_names(product: Product) -> set[str]:
    return {c.name for c in product.categories}


def test_similar_to_a_hoodie_are_hoodies_and_sweatshirts(embedded_url: str) -> None:
    with session_scope(embedded_url) as session:
        similar = similar_products(session, "MH01", limit=5)
        assert len(similar) == 5
        assert all("Hoodies & Sweatshirts" in category_names(p) for p in similar)
        assert "MH01" not in {p.sku for p in similar}
        variant = session.scalars(select(Variant.sku).where(Variant.sku.like("MH01-%"))).first()
        assert variant is not None
        assert similar_products(session, variant, limit=5) == similar  # a variant's SKU works


def test_similar_within_candidates(embedded_url: str) -> None:
    with session_scope(embedded_url) as session:
        tees = set(
            session.scalars(
                select(Product.id).where(Product.name.like("%Tee%"), Product.gender == "Men")
            )
        )
        similar = similar_products(session, "MH01", limit=3, within_ids=tees)
        assert len(similar) == 3
        assert all(p.id in tees for p in similar)
        assert similar_products(session, "MH01", within_ids=[]) == []


def test_unknown_or_unembedded_products_have_no_similar(db_url: str) -> None:
    with session_scope(db_url) as session:
        assert similar_products(session, "NO-SUCH-SKU") == []
        session.execute(
            delete(ProductEmbedding).where(
                ProductEmbedding.product_id.in_(select(Product.id).where(Product.sku == "MH02"))
            )
        )
        assert similar_products(session, "MH02") == []
        assert "MH02" not in {p.sku for p in similar_products(session, "MH01", limit=1000)}


def test_products_out_of_stock_come_last(db_url: str) -> None:
    with session_scope(db_url) as session:
        best = similar_products(session, "MH01", limit=1)[0]
        session.execute(update(Variant).where(Variant.product_id == best.id).values(qty=0))
    with session_scope(db_url) as session:
        ranked = similar_products(session, "MH01", limit=1000)
        assert ranked[-1].id == best.id
        assert best.id not in {p.id for p in similar_products(session, "MH01", limit=5)}


def test_links_in_position_order(db_url: str) -> None:
    with session_scope(db_url) as session:
        source = session.scalars(select(Product).where(Product.sku == "MH01")).one()
        others = list(session.scalars(select(Product).where(Product.id != source.id).limit(4)))
        session.execute(delete(ProductLink).where(ProductLink.product_id == source.id))
        for kind, position, product in (
            ("related", 2, others[0]),
            ("upsell", 0, others[1]),
            ("crosssell", 1, others[2]),
            ("related", 3, others[3]),
        ):
            session.add(
                ProductLink(
                    product_id=source.id,
                    linked_product_id=product.id,
                    kind=kind,
                    position=position,
                )
            )
        session.flush()
        links = linked_products(session, "MH01")
        assert [(k, p.id) for k, p in links] == [
            ("upsell", others[1].id),
            ("crosssell", others[2].id),
            ("related", others[0].id),
            ("related", others[3].id),
        ]
        related = linked_products(session, "MH01", kinds=("related",), limit=1)
        assert [(k, p.id) for k, p in related] == [("related", others[0].id)]
        assert linked_products(session, "NO-SUCH-SKU") == []


def _order(session: Session, number: str, customer: Customer, skus: list[str]) -> None:
    order = Order(
        number=number,
        customer=customer,
        status="complete",
        currency="USD",
        shipping_method="flatrate",
        payment_method="checkmo",
    )
    for sku in skus:
        product = session.scalars(select(Product).where(Product.sku == sku)).one()
        order.lines.append(
            OrderLine(
                product_id=product.id,
                sku=sku,
                name=product.name,
                qty=1,
                price_cents=product.price_cents,
            )
        )
    session.add(order)


@pytest.fixture
def orders_url(db_url: str) -> str:
    """Only these orders: Ann buys hoodies, pants, a tee and a bag; Bob hoodies and pants."""
    with session_scope(db_url) as session:
        session.execute(delete(Order))
        ann = Customer(email="ann@example.com", first_name="Ann", last_name="A")
        bob = Customer(email="bob@example.com", first_name="Bob", last_name="B")
        nobody = Customer(email="new@example.com", first_name="New", last_name="N")
        session.add_all([ann, bob, nobody])
        _order(session, "T-1", ann, ["MH01", "MP05"])
        _order(session, "T-2", ann, ["MH01", "MS04", "24-MB01"])
        _order(session, "T-3", bob, ["MH01", "MP05"])
        _order(session, "T-4", bob, ["MH02"])
    return db_url


def _customer(session: Session, email: str) -> int:
    return session.scalars(select(Customer.id).where(Customer.email == email)).one()


def test_bought_together_counts_shared_orders(orders_url: str) -> None:
    with session_scope(orders_url) as session:
        together = [(p.sku, n) for p, n in bought_together(session, "MH01")]
        assert together[0] == ("MP05", 2)
        assert sorted(together[1:]) == [("24-MB01", 1), ("MS04", 1)]
        assert bought_together(session, "MH01", limit=1) == bought_together(session, "MH01")[:1]
        assert [(p.sku, n) for p, n in bought_together(session, "MH02")] == []


def test_recommendations_follow_the_customers_orders(orders_url: str) -> None:
    with session_scope(orders_url) as session:
        picks = recommend_for_customer(session, _customer(session, "bob@example.com"), limit=5)
        assert len(picks) == 5
        skus = [p.sku for p in picks]
        assert not {"MH01", "MP05", "MH02"} & set(skus)  # not what he already has
        assert all(p.gender != "Women" for p in picks)  # he shops for men
        assert "MS04" in skus  # bought with his hoodie by Ann
        assert any("Hoodies & Sweatshirts" in category_names(p) for p in picks)


def test_no_history_no_recommendations(orders_url: str) -> None:
    with session_scope(orders_url) as session:
        assert recommend_for_customer(session, _customer(session, "new@example.com")) == []
        assert recommend_for_customer(session, 10**9) == []


def test_popular_by_sales_then_rating_times_reviews(db_url: str) -> None:
    with session_scope(db_url) as session:
        session.execute(update(Product).values(units_sold=0, rating_avg=None, review_count=0))
        women = list(session.scalars(select(Product).where(Product.gender == "Women").limit(3)))
        man = session.scalars(select(Product).where(Product.gender == "Men")).first()
        assert man is not None and len(women) == 3
        man.units_sold = 20
        women[0].units_sold, women[0].rating_avg, women[0].review_count = 10, 3.0, 2
        women[1].units_sold, women[1].rating_avg, women[1].review_count = 10, 4.5, 10
        women[2].units_sold = 10
        session.flush()
        assert [p.id for p in popular_products(session, limit=4)] == [
            man.id,
            women[1].id,
            women[0].id,
            women[2].id,
        ]
        for_women = popular_products(session, limit=50, gender="Women")
        assert [p.id for p in for_women[:3]] == [women[1].id, women[0].id, women[2].id]
        assert all(p.gender != "Men" for p in for_women)
