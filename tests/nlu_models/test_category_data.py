from catalog.db import session_scope
from nlu_models.category_data import category_examples, written_queries

BROWSE_LEAVES = {
    "Gear/Bags", "Gear/Fitness Equipment", "Gear/Watches",
    "Men/Bottoms/Pants", "Men/Bottoms/Shorts", "Men/Tops/Hoodies & Sweatshirts",
    "Men/Tops/Jackets", "Men/Tops/Tanks", "Men/Tops/Tees",
    "Women/Bottoms/Pants", "Women/Bottoms/Shorts", "Women/Tops/Bras & Tanks",
    "Women/Tops/Hoodies & Sweatshirts", "Women/Tops/Jackets", "Women/Tops/Tees",
}  # fmt: skip


def test_labels_are_the_browse_tree_leaves_from_products_and_queries(luma_db_url) -> None:
    with session_scope(luma_db_url) as session:
        examples = category_examples(session)
    assert {e.label for e in examples} == BROWSE_LEAVES
    texts = {(e.text, e.label) for e in examples}
    assert ("Chaz Kangeroo Hoodie", "Men/Tops/Hoodies & Sweatshirts") in texts
    assert ("Chaz Kangeroo Hoodie for men", "Men/Tops/Hoodies & Sweatshirts") in texts
    assert ("yoga mat", "Gear/Fitness Equipment") in texts  # a written query
    assert len(texts) == len(examples)


def test_every_written_query_names_a_browse_leaf() -> None:
    assert {q.label for q in written_queries()} == BROWSE_LEAVES
