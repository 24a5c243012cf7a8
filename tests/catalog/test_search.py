"""Search over the real Luma catalog: relevance, filters, synonyms, typos, recovery, paging."""

from datetime import date

import pytest
from sqlalchemy import select

from catalog.db import session_scope
from catalog.models import Category, Product, Variant, product_categories
from catalog.query import request_from_message, text_without_filters
from catalog.search import (
    SearchFilters,
    SearchRequest,
    search,
)
from catalog.spelling import correct_word
from catalog.terms import describe_query, query_terms

HOODIES = "Men/Tops/Hoodies & Sweatshirts"


def skus_in(session, path: str) -> set[str]:
    return set(
        session.scalars(
            select(Product.sku)
            .join(product_categories, product_categories.c.product_id == Product.id)
            .join(Category, Category.id == product_categories.c.category_id)
            .where(Category.path.startswith(path))
        )
    )


def test_words_match_names_and_categories_first(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        result = search(session, SearchRequest("hoodie", limit=10))
        hoodies = skus_in(session, "Men/Tops/Hoodies") | skus_in(session, "Women/Tops/Hoodies")
    assert len(result.hits) == 10 and {h.sku for h in result.hits} <= hoodies


def test_filters_hold_for_every_result(luma_db_url) -> None:
    filters = SearchFilters(gender="Men", color="Black", size="M", price_max_cents=6000)
    with session_scope(luma_db_url) as session:
        result = search(session, SearchRequest("hoodie", filters, limit=10))
        assert result.hits and result.relaxed == ()
        exact = [hit for hit in result.hits if hit.exact]
        assert exact and result.hits[: len(exact)] == exact  # close matches come after
        for hit in exact:
            product = session.scalars(select(Product).where(Product.sku == hit.sku)).one()
            assert product.gender in ("Men", "Unisex", None)
            assert any(v.color == "Black" and v.size == "M" and v.qty > 0 for v in product.variants)
            assert hit.price_cents <= 6000


def test_category_filter_takes_a_path_or_a_name(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        by_name = search(session, SearchRequest(filters=SearchFilters(category="Bags"), limit=50))
        by_path = search(
            session, SearchRequest(filters=SearchFilters(category="Gear/Bags"), limit=50)
        )
        bags = skus_in(session, "Gear/Bags")
    assert {h.sku for h in by_name.hits} == {h.sku for h in by_path.hits} == bags


def test_attribute_and_rating_filters(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        wool = search(
            session,
            SearchRequest(filters=SearchFilters(attributes=(("material", "Wool"),)), limit=50),
        )
        assert wool.hits
        for hit in wool.hits:
            product = session.scalars(select(Product).where(Product.sku == hit.sku)).one()
            assert ("material", "Wool") in {(a.name, a.value) for a in product.attributes}
        rated = search(session, SearchRequest("bag", SearchFilters(min_rating=4.0), limit=20))
    exact = [h for h in rated.hits if h.exact]
    assert exact and all(h.rating is not None and h.rating >= 4.0 for h in exact)


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [("sweatshirt", "hoodie"), ("t-shirt", "tee"), ("trousers", "pants"), ("backpack", "bag")],
)
def test_synonyms_find_the_same_products(luma_db_url, typed: str, same_as: str) -> None:
    with session_scope(luma_db_url) as session:
        a = {h.sku for h in search(session, SearchRequest(typed, limit=50)).hits}
        b = {h.sku for h in search(session, SearchRequest(same_as, limit=50)).hits}
    assert a and len(a & b) >= 0.8 * min(len(a), len(b))


@pytest.mark.parametrize(
    ("typo", "meant"), [("hodie", "hoodie"), ("jakcet", "jacket"), ("wach", "watch")]
)
def test_typos_are_corrected_and_reported(luma_db_url, typo: str, meant: str) -> None:
    with session_scope(luma_db_url) as session:
        assert correct_word(session, typo) == meant
        result = search(session, SearchRequest(typo))
    assert result.corrections == ((typo, meant),)
    assert result.hits and meant in result.hits[0].name.lower()


def test_nonsense_is_not_corrected_into_something(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        assert search(session, SearchRequest("zzqx flibber")).hits == []


def test_a_filter_nothing_meets_is_relaxed_and_named(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        result = search(session, SearchRequest("watch", SearchFilters(color="Purple")))
    assert result.relaxed == ("color",) and result.hits
    assert all("Watch" in h.name for h in result.hits)


def test_a_filter_the_shopper_just_set_is_never_relaxed(luma_db_url) -> None:
    request = SearchRequest("watch", SearchFilters(color="Purple"), keep=("color",))
    with session_scope(luma_db_url) as session:
        assert search(session, request).hits == []


def test_words_that_never_meet_fall_back_to_any_word(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        result = search(session, SearchRequest("unicorn hoodie"))
        hoodies = skus_in(session, "Men/Tops/Hoodies") | skus_in(session, "Women/Tops/Hoodies")
    assert "words" in result.relaxed and {h.sku for h in result.hits} <= hoodies


def test_the_predicted_category_ranks_first(luma_db_url) -> None:
    """'shell' names jackets and a few other things; the classifier's belief decides."""
    scores = (("Women/Tops/Jackets", 0.9),)
    with session_scope(luma_db_url) as session:
        plain = search(session, SearchRequest("shell", limit=5))
        guided = search(session, SearchRequest("shell", category_scores=scores, limit=5))
        jackets = skus_in(session, "Women/Tops/Jackets")
    assert guided.hits[0].sku in jackets
    assert sum(h.sku in jackets for h in guided.hits) > sum(h.sku in jackets for h in plain.hits)


def test_pages_do_not_overlap_and_total_counts_matches(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        first = search(session, SearchRequest("tee", limit=5))
        second = search(session, SearchRequest("tee", limit=5, offset=5))
    assert first.total == second.total > 10
    assert not {h.sku for h in first.hits} & {h.sku for h in second.hits}


def test_a_special_price_counts_while_it_runs(luma_db_url, tmp_path) -> None:
    import sqlite3

    from sqlalchemy.engine import make_url

    copy = tmp_path / "sale.sqlite3"
    with (
        sqlite3.connect(str(make_url(luma_db_url).database)) as source,
        sqlite3.connect(copy) as to,
    ):
        source.backup(to)  # the WAL too, which a file copy would miss
    url = f"sqlite:///{copy}"
    with session_scope(url) as session:
        product = session.scalars(select(Product).where(Product.sku == "MH01")).one()
        product.special_price_cents = 1000
        product.special_from, product.special_to = date(2026, 11, 1), date(2026, 11, 30)
    request = SearchRequest("chaz kangeroo", SearchFilters(price_max_cents=1500))
    with session_scope(url) as session:
        during = search(session, request, today=date(2026, 11, 28))
        after = search(session, request, today=date(2026, 12, 1))
    assert during.hits[0].sku == "MH01" and during.hits[0].price_cents == 1000
    assert during.hits[0].regular_price_cents == 5200
    assert "MH01" not in [h.sku for h in after.hits] or after.relaxed


def test_close_matches_after_the_exact_ones_keep_every_filter(luma_db_url) -> None:
    """Topping up a short list never breaks what the shopper asked: the close matches only
    match the words less well (in the description), never a filter less."""
    filters = SearchFilters(gender="Men", color="Black", price_max_cents=6000)
    with session_scope(luma_db_url) as session:
        exact_only = search(session, SearchRequest("hoodie", filters, limit=3))
        topped_up = search(session, SearchRequest("hoodie", filters, limit=10))
    assert all(h.exact for h in exact_only.hits)
    close = [h for h in topped_up.hits if not h.exact]
    assert topped_up.hits[len(topped_up.hits) - len(close) :] == close
    for hit in topped_up.hits:
        assert hit.price_cents <= 6000 and "Black" in hit.colors and hit.gender in ("Men", None)
    assert topped_up.relaxed == ()  # what was asked for was found; the rest is extra


def test_a_message_becomes_words_and_filters() -> None:
    entities = [
        {"entity": "color", "value": "Black", "start": 0, "end": 5},
        {"entity": "gender", "value": "Men", "start": 17, "end": 20},
        {"entity": "price_max", "value": 60.0, "start": 21, "end": 29},
    ]
    text = "black hoodie for men under 60"
    request = request_from_message(text, entities, [("Men/Tops/Hoodies & Sweatshirts", 0.8)])
    assert text_without_filters(text, entities) == "hoodie for"
    assert request.filters == SearchFilters(gender="Men", color="Black", price_max_cents=6000)
    assert request.category_scores == (("Men/Tops/Hoodies & Sweatshirts", 0.8),)


def test_query_terms_keep_two_word_synonyms_and_drop_asking_words() -> None:
    assert query_terms("Do you have a tank top for yoga?") == ["tank top", "yoga"]
    assert describe_query("do you have a red bag?") == "red bag"
    assert query_terms("") == []


def test_out_of_stock_products_say_so(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        for hit in search(session, SearchRequest("jacket", limit=20)).hits:
            stocked = session.scalars(
                select(Variant.qty).join(Product).where(Product.sku == hit.sku, Variant.qty > 0)
            ).all()
            assert hit.in_stock == bool(stocked)
