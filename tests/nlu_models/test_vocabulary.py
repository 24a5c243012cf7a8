"""The catalog's own words and taxonomy: category labels and aliases from whatever tree the
shop's feed has, not from one demo shop's top categories."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.db import migrate, session_scope
from catalog.importing import PricePolicy
from catalog.merchant_feed import import_merchant_feed
from nlu_models.category_data import category_examples
from nlu_models.vocabulary import browse_leaves, build_vocabulary, singular

OWN_FEED = Path(__file__).parents[1] / "e2e" / "fixtures" / "own_shop_feed.tsv"
OWN_LEAVES = {
    "Home/Kitchen/Mugs",
    "Home/Kitchen/Teapots",
    "Home/Textiles/Blankets",
    "Garden/Tools/Watering Cans",
}


@pytest.fixture
def own_shop(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        import_merchant_feed(session, OWN_FEED, prices=PricePolicy(currency="EUR"))
    return url


def test_the_leaves_are_the_deepest_paths_outside_merchandising_trees() -> None:
    paths = [
        "Men", "Men/Tops", "Men/Tops/Jackets", "Gear", "Gear/Bags", "Collections",
        "Collections/Eco Friendly", "Promotions/Men Sale", "Home", "Home/Kitchen",
        "Home/Kitchen/Mugs",
    ]  # fmt: skip
    assert browse_leaves(paths) == {"Men/Tops/Jackets", "Gear/Bags", "Home/Kitchen/Mugs"}


def test_an_own_taxonomy_gives_the_category_labels(own_shop: str) -> None:
    with session_scope(own_shop) as session:
        examples = category_examples(session)
    assert {e.label for e in examples} == OWN_LEAVES
    assert ("Stoneware Coffee Mug", "Home/Kitchen/Mugs") in {(e.text, e.label) for e in examples}


def test_the_vocabulary_knows_the_shop_s_categories_singular_too(own_shop: str) -> None:
    with session_scope(own_shop) as session:
        vocabulary = build_vocabulary(session)
    assert vocabulary.categories["mugs"] == "Mugs"
    assert vocabulary.categories["mug"] == "Mugs"
    assert vocabulary.categories["watering can"] == "Watering Cans"
    assert "hoodies" not in vocabulary.categories  # nothing of the demo shop's
    assert vocabulary.products["cast iron teapot"] == "Cast Iron Teapot"


@pytest.mark.parametrize(
    ("plural", "one"),
    [("mugs", "mug"), ("watering cans", "watering can"), ("accessories", "accessory"),
     ("watches", "watch"), ("glass", "glass"), ("dress", "dress"), ("bus", "bus")],
)  # fmt: skip
def test_singular(plural: str, one: str) -> None:
    assert singular(plural) == one
