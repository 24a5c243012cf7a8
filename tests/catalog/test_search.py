from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.db import session_scope
from catalog.models import Product
from catalog.search import describe_query, query_terms, search_products


def test_black_hoodie_finds_only_hoodies_in_black(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        hits = search_products(session, "do you have a black hoodie?")
        assert len(hits) == 5
        for hit in hits:
            product = session.scalars(
                select(Product)
                .where(Product.sku == hit.sku)
                .options(selectinload(Product.variants))
            ).one()
            assert "Hoodie" in product.name
            assert any(v.color == "Black" and v.qty > 0 for v in product.variants)


def test_results_are_ranked_by_relevance_then_price(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        hits = search_products(session, "running shorts for women")
    assert all("Running Short" in h.name for h in hits)
    keys = [(-h.score, h.price_cents) for h in hits]
    assert keys == sorted(keys)


def test_plural_and_colour_words(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        plural = [h.sku for h in search_products(session, "blue hoodies")]
        singular = [h.sku for h in search_products(session, "a blue hoodie")]
    assert plural and plural == singular


def test_gear_is_found_too(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        names = [h.name for h in search_products(session, "watches")]
    assert names and all("Watch" in n for n in names)


def test_nothing_matches_nonsense(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        assert search_products(session, "zzqx flibber") == []
        assert search_products(session, "do you have any?") == []


def test_query_words() -> None:
    assert query_terms("Do you have HOODIES?") == query_terms("a hoodie")
    assert query_terms("watches") == query_terms("watch")
    assert describe_query("do you have a black hoodie?") == "black hoodie"


def test_described_query_is_short_and_has_no_repeats() -> None:
    assert describe_query("hoodie " * 2000) == "hoodie"
    assert len(describe_query(" ".join(f"word{i}" for i in range(100))).split()) == 8
