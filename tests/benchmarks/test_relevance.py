"""The labelled relevance set and the nDCG / MRR arithmetic of benchmarks/relevance.py."""

import math
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.relevance import (
    GROUPS,
    LabelledQuery,
    ProductFacts,
    QueryFileError,
    Rule,
    catalog_facts,
    judge,
    load_queries,
    matches,
    ndcg,
    reciprocal_rank,
)
from catalog.db import session_scope


def test_the_labelled_set_parses_and_covers_every_group() -> None:
    queries = load_queries()
    assert len(queries) >= 60
    assert len({q.text.lower() for q in queries}) == len(queries), "a query is there twice"
    groups = Counter(q.group for q in queries)
    assert set(groups) == set(GROUPS)
    assert min(groups.values()) >= 5


def test_every_query_has_an_exact_match_in_the_luma_shop(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        products = catalog_facts(session)
    skus = {p.sku for p in products}
    missing = []
    for query in load_queries():
        named = {sku for rule in query.rules for sku in rule.skus or ()}
        assert named <= skus, f"{query.text!r} names SKUs the shop lacks: {named - skus}"
        if 3 not in judge(query, products).values():
            missing.append(query.text)
    assert not missing, f"no grade-3 product for: {missing}"


def test_a_product_takes_its_highest_grade() -> None:
    hoodie = ProductFacts(
        sku="MH01", name="Chaz Kangeroo Hoodie", categories=("Men/Tops/Hoodies & Sweatshirts",),
        gender="Men", colors=frozenset({"black"}), sizes=frozenset({"M"}), price_cents=5200,
        attributes={"material": frozenset({"wool"}), "eco_collection": frozenset({"yes"})},
    )  # fmt: skip
    query = LabelledQuery("black wool hoodie", "filters", (
        Rule(1, None, {"category": "Men/Tops"}),
        Rule(3, None, {"color": "Black", "attribute": {"material": ["Cotton", "Wool"]},
                       "price_max": 52}),
        Rule(2, frozenset({"MH01"}), {}),
    ))  # fmt: skip
    assert judge(query, [hoodie]) == {"MH01": 3}
    assert matches(hoodie, {"attribute": {"eco_collection": "yes"}, "gender": "Women"}) is False
    assert matches(hoodie, {"attribute": {"eco_collection": "yes"}, "name_contains": "kanger"})
    assert not matches(hoodie, {"price_max": 51.99})
    assert not matches(hoodie, {"size": "XL"})
    assert not matches(hoodie, {"category": "Men/Tops/Hoodies"})  # a path, not a prefix string


def test_ndcg_and_reciprocal_rank_on_hand_made_rankings() -> None:
    judged = [3, 2, 1]
    assert ndcg([3, 2, 1], judged) == pytest.approx(1.0)
    reversed_dcg = 1 + 3 / math.log2(3) + 7 / math.log2(4)
    ideal_dcg = 7 + 3 / math.log2(3) + 1 / math.log2(4)
    assert ndcg([1, 2, 3], judged) == pytest.approx(reversed_dcg / ideal_dcg)  # ≈ 0.797
    assert ndcg([0, 0, 3], [3]) == pytest.approx(0.5)
    assert ndcg([3, 0, 0, 0], [3]) == pytest.approx(1.0)  # trailing misses cost nothing
    assert ndcg([3], [3, 3]) == pytest.approx(7 / (7 + 7 / math.log2(3)))  # one of two found
    assert ndcg([], [3]) == 0.0
    assert ndcg([3] * 12, [3] * 12) == pytest.approx(1.0)  # only the first ten count
    assert reciprocal_rank([1, 0, 2, 3]) == pytest.approx(1 / 3)  # grade 1 is not enough
    assert reciprocal_rank([3]) == 1.0
    assert reciprocal_rank([0] * 10 + [3]) == 0.0


def test_a_broken_query_file_is_refused_with_the_query_named(tmp_path: Path) -> None:
    path = tmp_path / "queries.yml"
    path.write_text("- query: hoodies\n  group: category\n  judgements:\n"
                    "    - grade: 3\n      where: {colour: Black}\n")  # fmt: skip
    with pytest.raises(QueryFileError, match=r"'hoodies'.*colour"):
        load_queries(path)
    path.write_text("- query: hoodies\n  group: nonsense\n  judgements: []\n")
    with pytest.raises(QueryFileError, match="group"):
        load_queries(path)
