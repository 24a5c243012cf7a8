"""From a shopper's message to the products to show: a new search or a refinement.

This is the one path from words to products, shared by the bot's actions (actions/products.py)
and the shopper benchmark (benchmarks/shoppers.py), so what is measured is what shoppers get:
- A kind of product the shop does not carry at all ("kettlebells") is said to be not carried,
  with the nearest products it does carry (catalog/carried.py), never presented as a match.
- Every constraint the shopper stated (price, gender, colour, size) is kept. When nothing fits,
  search relaxes one and each product shown is labelled with what it breaks
  (catalog/constraints.py); products that fit are never mixed with ones that do not.
- "cheaper", "in blue", "for women" change the previous request and keep everything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from catalog.carried import not_carried
from catalog.constraints import fitting_first, label
from catalog.pricing import ORDER_PRICE_HIGH, ORDER_PRICE_LOW, ORDER_RELEVANCE
from catalog.query import (
    filters_from_entities,
    kinds_of,
    order_of,
    request_from_message,
    text_without_filters,
)
from catalog.recommend import popular_products
from catalog.search import (
    ProductHit,
    SearchFilters,
    SearchRequest,
    hits_for_skus,
    product_hits,
    search,
)
from catalog.semantic import known_anywhere
from catalog.terms import query_terms

CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable|budget)\b", re.I)
PRICIER = re.compile(r"\b(more expensive|pricier|higher end|premium|better quality)\b", re.I)
# Words of a refinement that say how, not what: "show me the cheaper ones instead".
_REFINE_TEXT = """cheaper less expensive lower price more affordable budget pricier higher end
premium better quality instead ones options version versions colour color size other only just
but same those them these what about how"""
REFINE_WORDS = frozenset(_REFINE_TEXT.split())
# Entities that name something of the shop's own: where they are, the message is not only
# about a kind the shop lacks.
OWN_ENTITIES = frozenset({"category", "product"})
NEAREST_SHOWN = 3
CONFIDENT_CATEGORY = 0.3


@dataclass(frozen=True)
class Found:
    """What to show for a message, and the request to remember for the next one."""

    request: SearchRequest
    hits: list[ProductHit]
    relaxed: tuple[str, ...] = ()  # filters search dropped to find anything, or "words"
    corrections: tuple[tuple[str, str], ...] = ()  # (typed, searched instead)
    not_carried: str | None = None  # the kind of product the shop has nothing of
    nearest_category: str | None = None  # where the nearest products shown come from
    # The refinement's change: "cheaper" under this price, or above it for "pricier".
    price_reference: int | None = None

    @property
    def nothing_fits(self) -> bool:
        """True when products are shown but none meets everything the shopper asked."""
        return bool(self.hits) and all(hit.misses for hit in self.hits)


def _spans(entities: Sequence[Mapping[str, Any]], names: frozenset[str]) -> list[tuple[int, int]]:
    return [
        (int(e["start"]), int(e["end"]))
        for e in entities
        if e.get("entity") in names and isinstance(e.get("start"), int)
    ]


def _nearest(
    session: Session,
    request: SearchRequest,
    category_scores: Sequence[tuple[str, float]],
    named_categories: Sequence[str],
    today: date,
) -> tuple[list[ProductHit], str | None]:
    """A few products of the carried category nearest to what was asked, or best sellers.

    The category classifier's belief comes first; the shop's own words for its categories
    ("yoga mat" as fitness equipment, catalog vocabulary) come next."""
    confident = [path for path, p in category_scores if p >= CONFIDENT_CATEGORY]
    for path in [*confident[:1], *named_categories]:
        nearest = SearchRequest(
            filters=SearchFilters(category=path, gender=request.filters.gender),
            category_scores=tuple(category_scores),
            limit=NEAREST_SHOWN,
        )
        result = search(session, nearest, today)
        if result.hits and not result.relaxed:
            return result.hits, path.split("/")[-1]
    return popular(session, NEAREST_SHOWN, today), None


def _answer(session: Session, request: SearchRequest, today: date) -> Found:
    result = search(session, request, today)
    nearest_price = {"price_max_cents": ORDER_PRICE_LOW, "price_min_cents": ORDER_PRICE_HIGH}
    dropped = [nearest_price[name] for name in result.relaxed if name in nearest_price]
    if dropped and request.order == ORDER_RELEVANCE:
        # over the budget: the nearest to it first
        result = search(session, replace(request, order=dropped[0]), today)
    hits = fitting_first(label(result.hits, request), request.kinds)
    return Found(
        request=request,
        hits=hits,
        relaxed=result.relaxed,
        corrections=result.corrections,
    )


def find(
    session: Session,
    text: str,
    entities: Sequence[Mapping[str, Any]],
    category_scores: Sequence[tuple[str, float]] = (),
    limit: int = 5,
    today: date | None = None,
) -> Found:
    """The products for a new search message."""
    today = today or date.today()
    request = request_from_message(text, entities, category_scores, limit=limit)
    missing = not_carried(session, text, _spans(entities, OWN_ENTITIES))
    if missing is not None:
        named = [str(e["value"]) for e in entities if e.get("entity") == "category"]
        hits, category = _nearest(session, request, category_scores, named, today)
        return Found(
            request=replace(request, text=""),
            hits=hits,
            not_carried=missing,
            nearest_category=category,
        )
    terms = query_terms(request.text)
    if terms and not request.filters.active() and not known_anywhere(session, terms):
        # words no product has anywhere ("blorp snazzle"): whatever the category classifier
        # or the meaning guesses would be a list of nothing asked for
        return Found(request=request, hits=[])
    return _answer(session, request, today)


def refine(
    session: Session,
    previous: SearchRequest,
    shown: Sequence[str],
    text: str,
    entities: Sequence[Mapping[str, Any]],
    category_scores: Sequence[tuple[str, float]] = (),
    limit: int = 5,
    today: date | None = None,
) -> Found:
    """The previous request changed as the shopper asked; what they did not change stays.

    `shown` are the SKUs "cheaper" and "pricier" compare with: the list the shopper saw, or
    the one product they are looking at.
    """
    today = today or date.today()
    filters = filters_from_entities(entities, base=previous.filters)
    reference: int | None = None
    prices = [hit.price_cents for hit in hits_for_skus(session, shown, today)]
    if CHEAPER.search(text) and prices:
        reference = min(prices)
        filters = replace(filters, price_max_cents=reference - 1, price_min_cents=None)
    elif PRICIER.search(text) and prices:
        reference = max(prices)
        filters = replace(filters, price_min_cents=reference + 1, price_max_cents=None)
    order, words_typed = order_of(text_without_filters(text, entities))
    extra = [
        term
        for term in query_terms(words_typed)
        if term not in REFINE_WORDS and term not in query_terms(previous.text)
    ]
    changed = tuple(
        name
        for name in filters.active() + previous.filters.active()
        if getattr(filters, name) != getattr(previous.filters, name)
    )
    request = SearchRequest(
        text=" ".join([previous.text, *extra]).strip(),
        filters=filters,
        category_scores=(tuple(category_scores) if extra else ()) or previous.category_scores,
        limit=limit,
        keep=tuple(dict.fromkeys(changed)),
        order=order if order != ORDER_RELEVANCE else previous.order,
        kinds=kinds_of(entities) or previous.kinds,
    )
    found = _answer(session, request, today)
    if found.nothing_fits and request.keep and reference is None:
        # Nothing fits the change as asked: keeping it at any cost may mean showing other
        # kinds of products; hoodies a little over the new budget are nearer than tanks.
        # ("cheaper" itself is kept: a product that is not cheaper answers nothing.)
        loose = _answer(session, replace(request, keep=()), today)
        if loose.hits and _distance(loose, request.kinds) < _distance(found, request.kinds):
            found = loose
    return replace(found, price_reference=reference)


def _distance(found: Found, kinds: Sequence[str]) -> int:
    """How far the products shown are from the request: a product of another kind than
    the one asked for is further than one that misses a filter."""
    kind_label = f"not {' or '.join(kind.lower() for kind in kinds)}" if kinds else None
    return min(
        (sum(3 if label == kind_label else 1 for label in hit.misses) for hit in found.hits),
        default=99,
    )


def extra_words(previous: SearchRequest, request: SearchRequest) -> list[str]:
    """The words a refinement added to the previous request's ("something waterproof")."""
    before = set(query_terms(previous.text))
    return [term for term in query_terms(request.text) if term not in before]


def more(session: Session, request: SearchRequest, today: date | None = None) -> Found:
    """The next page of a remembered request, labelled like the first."""
    return _answer(session, request, today or date.today())


def popular(
    session: Session, limit: int = NEAREST_SHOWN, today: date | None = None
) -> list[ProductHit]:
    """Best sellers, for when a search finds nothing at all."""
    chosen = popular_products(session, limit=limit)
    return product_hits(session, [(p.id, 0.0) for p in chosen], today)


def own_words(text: str, entities: Sequence[Mapping[str, Any]]) -> list[str]:
    """The words of what to find in a message, once its filters, its order ("cheapest") and
    the words that only say how to refine ("only", "instead") are taken out: none means the
    message only changes filters."""
    request = request_from_message(text, entities)
    return [term for term in query_terms(request.text) if term not in REFINE_WORDS]
