"""From a shopper's words to products: constraints kept, not-carried kinds said, refinements."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.carried import kinds_in, not_carried, parse_kinds
from catalog.constraints import misses_of
from catalog.db import session_scope
from catalog.finding import find, refine
from catalog.search import ProductHit, SearchFilters, strict_matches
from nlu_models.entities import extract_entities
from nlu_models.vocabulary import Vocabulary, build_vocabulary


@pytest.fixture(scope="module")
def vocabulary(luma_db_url: str) -> Vocabulary:
    with session_scope(luma_db_url) as session:
        return build_vocabulary(session)


def hit(**fields: object) -> ProductHit:
    values: dict[str, object] = dict(
        id=1, sku="X", name="Thing", price_cents=5600, regular_price_cents=5600, currency="USD",
        url_key="thing", image=None, rating=4.0, review_count=2, in_stock=True,
        colors=("Blue",), sizes=("M", "L"), categories=("Men/Bottoms/Pants",), score=1.0,
        gender="Men",
    )  # fmt: skip
    values.update(fields)
    return ProductHit(**values)  # type: ignore[arg-type]


def test_each_broken_constraint_is_named_in_the_shoppers_terms() -> None:
    wanted = SearchFilters(gender="Women", color="Black", size="XS", price_max_cents=5000)
    assert misses_of(hit(), wanted) == (
        "$56.00, over your $50.00",
        "men's, not women's",
        "not in black",
        "no XS in stock",
    )
    fits = hit(price_cents=4200, gender="Women", colors=("Black",), sizes=("XS",))
    assert misses_of(fits, wanted) == ()
    assert misses_of(hit(gender=None), SearchFilters(gender="Women")) == ()  # bags, watches
    assert misses_of(hit(price_cents=900), SearchFilters(price_min_cents=1000)) == (
        "$9.00, under your $10.00",
    )


def test_the_kinds_list_reads_names_synonyms_and_plurals() -> None:
    [mat, box] = parse_kinds("# comment\nyoga mat | exercise mat\nbox\n")
    assert mat.name == "yoga mat" and {"yoga mats", "exercise mat"} <= set(mat.phrases)
    assert "boxes" in box.phrases
    assert [phrase for _, phrase, _ in kinds_in("any Kettlebells or running shoes?")] == [
        "kettlebells",
        "running shoes",
    ]


def test_a_kind_the_shop_lacks_is_not_carried_and_one_it_has_is(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        assert strict_matches(session, "kettlebell") == 0
        assert not_carried(session, "do you have kettlebells?") == "kettlebells"
        assert not_carried(session, "running shoes for men") == "running shoes"
        assert not_carried(session, "a water bottle") is None  # Luma sells one
        assert not_carried(session, "black hoodie") is None  # no kind from the list at all
        # shorts are the shop's own: that part is searched, not refused
        assert not_carried(session, "socks and shorts", [(10, 16)]) is None


def shown(luma_db_url: str, vocabulary: Vocabulary, text: str) -> list[ProductHit]:
    with session_scope(luma_db_url) as session:
        return find(session, text, extract_entities(text, vocabulary)).hits


@pytest.mark.parametrize(
    "text",
    [
        "yoga pants for women under 50",
        "mens shorts 20 dollars or less",
        "black hoodie for men size XL",
        "womens tank top in blue between 20 and 40",
        "orange jacket XS",
        "purple watch",
        "mens red shorts size 38 under 30",
    ],
)
def test_no_product_shown_breaks_a_constraint_silently(
    luma_db_url: str, vocabulary: Vocabulary, text: str
) -> None:
    entities = extract_entities(text, vocabulary)
    with session_scope(luma_db_url) as session:
        found = find(session, text, entities)
        assert found.hits
        for product in found.hits:
            assert product.misses == misses_of(product, found.request.filters, found.request.kinds)
        # fitting products are never mixed with ones that break something
        assert all(h.misses for h in found.hits) or not any(h.misses for h in found.hits)


def test_a_kettlebell_question_hears_it_is_not_carried(
    luma_db_url: str, vocabulary: Vocabulary
) -> None:
    text = "do you sell yoga mats"
    with session_scope(luma_db_url) as session:
        found = find(session, text, extract_entities(text, vocabulary))
    assert found.not_carried == "yoga mats"
    assert found.nearest_category == "Fitness Equipment" and found.hits
    assert found.request.text == ""  # "show more" does not page through look-alikes


def test_cheapest_orders_by_price_and_the_price_phrase_is_a_filter(
    luma_db_url: str, vocabulary: Vocabulary
) -> None:
    hits = shown(luma_db_url, vocabulary, "whats the cheapest jacket you have")
    prices = [h.price_cents for h in hits]
    assert prices == sorted(prices) and len(hits) == 5
    cheap = shown(luma_db_url, vocabulary, "mens shorts 20 dollars or less")
    assert cheap and all(h.price_cents <= 2000 and h.gender == "Men" for h in cheap)


def test_cheaper_keeps_gender_and_colour_or_says_what_it_gave_up(
    luma_db_url: str, vocabulary: Vocabulary
) -> None:
    first = "black hoodies for men"
    with session_scope(luma_db_url) as session:
        before = find(session, first, extract_entities(first, vocabulary))
        after = refine(session, before.request, [h.sku for h in before.hits], "cheaper", [])
    cheapest_shown = min(h.price_cents for h in before.hits)
    assert after.request.filters.gender == "Men" and after.request.filters.color == "Black"
    assert after.price_reference == cheapest_shown
    for product in after.hits:
        assert product.price_cents < cheapest_shown
        fits = product.gender in ("Men", "Unisex", None) and "Black" in product.colors
        assert fits or product.misses  # e.g. "women's, not men's": never silent


def test_in_blue_refines_and_keeps_the_rest(luma_db_url: str, vocabulary: Vocabulary) -> None:
    first = "womens shorts under 50"
    with session_scope(luma_db_url) as session:
        before = find(session, first, extract_entities(first, vocabulary))
        entities = extract_entities("in blue", vocabulary)
        after = refine(session, before.request, [h.sku for h in before.hits], "in blue", entities)
    filters = after.request.filters
    assert (filters.gender, filters.color, filters.price_max_cents) == ("Women", "Blue", 5000)
    assert all(not h.misses for h in after.hits) and after.hits


def test_the_kinds_file_is_the_one_shipped() -> None:
    from catalog.carried import KINDS_FILE, kinds

    assert Path(__file__).resolve().parents[2] / "catalog/data/product_kinds.txt" == KINDS_FILE
    assert len(kinds()) > 50


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("what is the juliana tee made of", "Juliana Short-Sleeve Tee"),
        ("is the chaz hoodie warm", "Chaz Kangeroo Hoodie"),
        ("does the aim watch have a warranty", "Aim Analog Watch"),
        ("is the quest lumaflex band strong", "Quest Lumaflex™ Band"),
        ("the lumaflex band", None),  # three Lumaflex bands: the bot asks which
        ("what's the aim of this", None),  # a short rare word alone names nothing
        ("is it waterproof", None),
    ],
)
def test_a_product_named_by_a_part_of_its_name(
    luma_db_url: str, text: str, name: str | None
) -> None:
    from catalog.naming import product_named_in

    with session_scope(luma_db_url) as session:
        product = product_named_in(session, text)
        assert (product.name if product else None) == name


def test_a_request_is_described_with_its_filters(vocabulary: Vocabulary) -> None:
    from catalog.constraints import describe
    from catalog.query import request_from_message

    def said(text: str) -> str:
        return describe(request_from_message(text, extract_entities(text, vocabulary)))

    assert said("do you have a black hoodie?") == "black hoodie"
    assert said("mens shorts 20 dollars or less") == "men's shorts, up to $20.00"
    assert said("whats the cheapest jacket you have") == "cheapest jacket"
    assert said("mens xl") == "men's products, size XL"
    assert said("womens tank top in blue between 20 and 40") == (
        "women's blue tank top, $20.00 to $40.00"
    )


def test_a_kind_named_as_a_purpose_is_not_what_is_asked_for(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        assert not_carried(session, "looking for running shoes size 10") == "running shoes"
        assert not_carried(session, "looking for a yoga mat") == "yoga mat"
        assert not_carried(session, "something to take to school for my books") is None
        assert not_carried(session, "a bag to carry my laptop") is None
        assert not_carried(session, "skipping rope") is None  # sold as a jump rope


def test_words_no_product_has_find_nothing_rather_than_guesses(
    luma_db_url: str, vocabulary: Vocabulary
) -> None:
    text = "blorp snazzle wib"
    with session_scope(luma_db_url) as session:
        found = find(session, text, extract_entities(text, vocabulary), [("Gear/Bags", 0.9)])
    assert found.hits == [] and found.not_carried is None
