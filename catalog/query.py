"""A shopper's message and its entities as a search request.

Colour, size, gender and price entities become filters and their words leave the text, so
"black hoodie for men under 60" searches the words "hoodie" with four filters. Category and
product-name entities stay in the text: full-text search and the category classifier already
rank by them, and a hard category filter would hide a "rain jacket" filed under Collections.
The entity dictionaries follow Rasa's shape (entity, value, start, end); catalog/ reads them
without depending on where they came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from catalog.pricing import ORDER_PRICE_HIGH, ORDER_PRICE_LOW, ORDER_RELEVANCE
from catalog.search import (
    SearchFilters,
    SearchRequest,
)

FILTER_ENTITIES = ("color", "size", "gender", "price_min", "price_max")
# "the cheapest jacket", "your most expensive watch": an order, not words a product has.
CHEAPEST = re.compile(
    r"\b(?:cheapest|cheap|lowest[- ]priced?|least expensive|most affordable|affordable|"
    r"inexpensive|budget|low[- ]cost|lowest price)\b",
    re.IGNORECASE,
)
PRICIEST = re.compile(
    r"\b(?:most expensive|priciest|pricey|highest[- ]priced?|top of the range|premium|"
    r"high[- ]end|luxury)\b",
    re.IGNORECASE,
)


def _cents(value: Any) -> int | None:
    try:
        return round(float(value) * 100)
    except (TypeError, ValueError):
        return None


def filters_from_entities(
    entities: Sequence[Mapping[str, Any]], base: SearchFilters | None = None
) -> SearchFilters:
    """`base` with every filter the entities name replaced (a refinement keeps the rest)."""
    filters = base or SearchFilters()
    for entity in entities:
        name, value = entity.get("entity"), entity.get("value")
        if value in (None, ""):
            continue
        if name == "color":
            filters = replace(filters, color=str(value))
        elif name == "size":
            filters = replace(filters, size=str(value))
        elif name == "gender":
            filters = replace(filters, gender=str(value))
        elif name == "price_min":
            filters = replace(filters, price_min_cents=_cents(value))
        elif name == "price_max":
            filters = replace(filters, price_max_cents=_cents(value))
    return filters


def text_without_filters(text: str, entities: Sequence[Mapping[str, Any]]) -> str:
    """The message with the words of its filter entities blanked out."""
    chars = list(text)
    for entity in entities:
        start, end = entity.get("start"), entity.get("end")
        if entity.get("entity") in FILTER_ENTITIES and isinstance(start, int):
            for index in range(start, min(int(end or start), len(chars))):
                chars[index] = " "
    return " ".join("".join(chars).split())


def kinds_of(entities: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The shop's category names the message names ("hoodie" → "Hoodies & Sweatshirts")."""
    named = [str(e["value"]) for e in entities if e.get("entity") == "category" and e.get("value")]
    return tuple(dict.fromkeys(named))


def order_of(text: str) -> tuple[str, str]:
    """How the shopper wants results ordered, and the text without the words that said so."""
    for pattern, order in ((PRICIEST, ORDER_PRICE_HIGH), (CHEAPEST, ORDER_PRICE_LOW)):
        if pattern.search(text):
            return order, " ".join(pattern.sub(" ", text).split())
    return ORDER_RELEVANCE, text


def request_from_message(
    text: str,
    entities: Sequence[Mapping[str, Any]],
    category_scores: Sequence[tuple[str, float]] = (),
    limit: int = 10,
) -> SearchRequest:
    order, words = order_of(text_without_filters(text, entities))
    return SearchRequest(
        kinds=kinds_of(entities),
        text=words,
        filters=filters_from_entities(entities),
        category_scores=tuple((str(path), float(p)) for path, p in category_scores),
        limit=limit,
        order=order,
    )
