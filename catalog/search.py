"""Product search for the walking skeleton: words of the shopper matched against the catalog.

Colour words become a filter on in-stock variants; the other words are scored against the
product name (strongest), its categories and its description. Ranking is by score, then by
price, so results are stable. The full-text search of the catalog issue replaces the scorer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from catalog.models import Product, Variant

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
NAME_WEIGHT, CATEGORY_WEIGHT, DESCRIPTION_WEIGHT = 3.0, 2.0, 0.5


@dataclass(frozen=True)
class ProductHit:
    sku: str
    name: str
    price_cents: int
    url_key: str
    colors: tuple[str, ...]
    score: float


def _stem(word: str) -> str:
    """A light stemmer that maps singular and plural to the same form.

    'hoodies'/'hoodie' → 'hoodi', 'watches'/'watch' → 'watch', 'accessories'/'accessory' →
    'accessori'. Both the query and the catalog go through it, so only agreement matters.
    """
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word.endswith("y"):
        word = word[:-1] + "i"
    return word


_STOPWORDS_TEXT = """
a an and any are can could do does for have got has i im i'm in is it looking me my need
of on or please show some something the there to want we with you your find buy get
would like id i'd hi hello search searching sell selling stock available
"""
# Words that say how the shopper asks, not what they want.
STOPWORDS = frozenset(_stem(w) for w in _STOPWORDS_TEXT.split())


def _words(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower())]


def query_terms(text: str) -> list[str]:
    return [w for w in _words(text) if w not in STOPWORDS]


def describe_query(text: str, max_words: int = 8) -> str:
    """The words searching uses, as typed, each once: 'do you have a red bag?' → 'red bag'."""
    words = [w for w in _WORD.findall(text.lower()) if _stem(w) not in STOPWORDS]
    return " ".join(list(dict.fromkeys(words))[:max_words])


def known_colors(session: Session) -> set[str]:
    colors = session.scalars(select(Variant.color).where(Variant.color.is_not(None)).distinct())
    return {_stem(c.lower()) for c in colors if c}


def search_products(session: Session, text: str, limit: int = 5) -> list[ProductHit]:
    """Up to `limit` products for the shopper's words, best first; [] when nothing matches."""
    terms = query_terms(text)
    colors = known_colors(session)
    wanted_colors = {t for t in terms if t in colors}
    words = [t for t in terms if t not in colors]
    if not words and not wanted_colors:
        return []
    products = session.scalars(
        select(Product).options(selectinload(Product.variants), selectinload(Product.categories))
    ).all()
    hits: list[ProductHit] = []
    for product in products:
        in_stock = [v for v in product.variants if v.qty > 0]
        available_colors = {_stem(v.color.lower()) for v in in_stock if v.color}
        if wanted_colors and not wanted_colors <= available_colors:
            continue
        name_words = set(_words(product.name))
        category_words = {w for c in product.categories for w in _words(c.path)}
        description_words = set(_words(product.description))
        score = sum(
            NAME_WEIGHT * (w in name_words)
            + CATEGORY_WEIGHT * (w in category_words)
            + DESCRIPTION_WEIGHT * (w in description_words)
            for w in words
        )
        if words and not any(w in name_words or w in category_words for w in words):
            continue
        hits.append(
            ProductHit(
                sku=product.sku,
                name=product.name,
                price_cents=product.price_cents,
                url_key=product.url_key,
                colors=tuple(sorted({v.color for v in in_stock if v.color})),
                score=score,
            )
        )
    hits.sort(key=lambda hit: (-hit.score, hit.price_cents, hit.name))
    return hits[:limit]
