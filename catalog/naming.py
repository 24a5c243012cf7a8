"""The product a message names the way shoppers name products: by a part of its name.

"what is the juliana tee made of" names the Juliana Short-Sleeve Tee without its full name,
which the entity extractor's list of names and name prefixes misses. A word that only a few
product names contain ("juliana", "chaz", "lumaflex") points at those products; the other
words of the message then pick one, and a tie picks none (the bot asks which).
"""

from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from catalog.listing import listed
from catalog.models import Product, SearchWord

# A word in at most this many products' names, categories or attributes names them.
DISTINCTIVE = 3
MAX_CANDIDATES = 30
SHORT_WORD = 4  # a rare word this short ("aim") must come with another word of the name
_WORD = re.compile(r"[a-z0-9]+")  # "Breathe-Easy" is "breathe easy", as the index has it


def _words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower().replace("™", " ").replace("®", " ")))


def product_named_in(session: Session, text: str) -> Product | None:
    """The one product whose name the message names at least in part, or None."""
    said = _words(text)
    if not said:
        return None
    rare = set(
        session.scalars(
            select(SearchWord.word).where(
                SearchWord.word.in_(sorted(said)),
                SearchWord.title_products.between(1, DISTINCTIVE),
            )
        )
    )
    if not rare:
        return None
    candidates = session.scalars(
        select(Product)
        .where(listed(), or_(*(func.lower(Product.name).contains(word) for word in sorted(rare))))
        .order_by(Product.id)
        .limit(MAX_CANDIDATES)
    ).all()
    scored = []
    for product in candidates:
        name = _words(product.name)
        named = name & rare
        if not named:
            continue
        shared = len(name & said)
        if shared < 2 and all(len(word) <= SHORT_WORD for word in named):
            continue
        scored.append((shared, product))
    scored.sort(key=lambda pair: -pair[0])
    if not scored or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


def product_by_name(session: Session, name: str) -> Product | None:
    """The listed product with exactly this name (any case): what the entity extractor's
    product entity names. A discontinued product is not offered by name; by SKU (an order's
    line) it still reads (catalog.recommend.product_by_sku)."""
    return session.scalars(
        select(Product)
        .where(listed(), func.lower(Product.name) == name.strip().lower())
        .order_by(Product.id)
        .limit(1)
    ).first()
