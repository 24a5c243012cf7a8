"""Training data of the product-category adapter: the catalog's own products plus shopper queries.

Labels are the leaves of the shop's own taxonomy (nlu_models/vocabulary.py `browse_leaves`:
"Men/Tops/Jackets", "Gear/Bags", or a feed's "Home/Kitchen/Mugs"), so a new taxonomy changes
the examples, hence the data hash, and `ensure` retrains the adapter. Each product
gives its name, its name with its gender, and the first sentence of its description, which
names its material and activity; `data/category_queries.yml` adds how shoppers ask.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from nlu_models.data import DataError, Example, deduplicated
from nlu_models.vocabulary import browse_leaves

QUERIES_FILE = Path(__file__).resolve().parent / "data" / "category_queries.yml"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def written_queries(path: Path = QUERIES_FILE) -> list[Example]:
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict):
        raise DataError(f"{path}: expected a mapping of category path to queries")
    return [Example(str(q), str(label)) for label, queries in document.items() for q in queries]


def product_examples(session: Session) -> list[Example]:
    from catalog.models import Category, Product

    taxonomy = browse_leaves(session.scalars(select(Category.path)))
    examples: list[Example] = []
    products = session.scalars(select(Product).options(selectinload(Product.categories)))
    for product in products:
        leaves = sorted(c.path for c in product.categories if c.path in taxonomy)
        if not leaves:
            continue
        label = leaves[0]
        examples.append(Example(product.name, label))
        if product.gender:
            examples.append(Example(f"{product.name} for {product.gender.lower()}", label))
        first_sentence = _SENTENCE_END.split(product.description.strip(), maxsplit=1)[0]
        if first_sentence:
            examples.append(Example(first_sentence[:300], label))
    return examples


def category_examples(session: Session) -> list[Example]:
    """Product-derived examples and written queries, deduplicated, in a stable order."""
    examples = product_examples(session)
    if not examples:
        raise DataError(
            "the catalog has no products in its browse tree: load it first "
            "(`python -m catalog.cli load`)"
        )
    labels = {e.label for e in examples}
    queries = [q for q in written_queries() if q.label in labels]
    return deduplicated(examples + queries)
