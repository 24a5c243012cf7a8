"""What a shown product breaks of the shopper's request, in the shopper's words.

Price, gender, colour and size stated by the shopper are constraints: a product that breaks one
is never shown as if it fitted. When nothing fits and search had to relax a filter to find
anything, each product shown carries labels such as "$56.00, over your $50.00" or "no XS in
stock", and the cards and text lines show them (actions/product_cards.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from catalog.policies import ShopSettingsError, policies
from catalog.pricing import ORDER_PRICE_HIGH, ORDER_PRICE_LOW
from catalog.search import (
    ProductHit,
    SearchFilters,
    SearchRequest,
)
from catalog.terms import describe_query
from connectors.products import SHOP_CURRENCY
from core.money import format_money

GENDER_WORDS = {"Men": "men's", "Women": "women's"}
# Products without a gender (bags, watches) and unisex ones suit either.
ANY_GENDER = frozenset({None, "", "Unisex"})


def _in_category(hit: ProductHit, wanted: str) -> bool:
    lowered = wanted.lower().strip("/")
    return any(
        path.lower() == lowered
        or path.lower().startswith(lowered + "/")
        or path.lower().endswith("/" + lowered)
        or f"/{lowered}/" in f"/{path.lower()}/"
        for path in hit.categories
    )


def misses_of(
    hit: ProductHit, filters: SearchFilters, kinds: Sequence[str] = ()
) -> tuple[str, ...]:
    """Labels of each stated constraint `hit` breaks, most decisive first; () if it fits.

    `kinds` are the categories the shopper named; a product in none of them is not what they
    asked for, whatever its words."""
    labels: list[str] = []
    if kinds and not any(_in_category(hit, kind) for kind in kinds):
        labels.append(f"not {' or '.join(kind.lower() for kind in kinds)}")
    price = format_money(hit.price_cents, hit.currency)
    if filters.price_max_cents is not None and hit.price_cents > filters.price_max_cents:
        labels.append(f"{price}, over your {format_money(filters.price_max_cents, hit.currency)}")
    if filters.price_min_cents is not None and hit.price_cents < filters.price_min_cents:
        labels.append(f"{price}, under your {format_money(filters.price_min_cents, hit.currency)}")
    if filters.gender and hit.gender not in ANY_GENDER and hit.gender != filters.gender:
        labels.append(
            f"{GENDER_WORDS.get(hit.gender or '', str(hit.gender))}, not {_gender(filters)}"
        )
    if filters.color and filters.color not in hit.colors:
        labels.append(f"not in {filters.color.lower()}")
    if filters.size and filters.size not in hit.sizes:
        labels.append(f"no {filters.size} in stock")
    if filters.category and not _in_category(hit, filters.category):
        labels.append(f"not in {filters.category.split('/')[-1]}")
    if filters.min_rating is not None and (hit.rating or 0.0) < filters.min_rating:
        labels.append(f"rated {hit.rating or 0:.1f}")
    return tuple(labels)


def _gender(filters: SearchFilters) -> str:
    return GENDER_WORDS.get(filters.gender or "", str(filters.gender))


def label(hits: Sequence[ProductHit], request: SearchRequest) -> list[ProductHit]:
    """The hits with their `misses` set against what the shopper asked."""
    return [replace(hit, misses=misses_of(hit, request.filters, request.kinds)) for hit in hits]


def fitting_first(hits: Sequence[ProductHit], kinds: Sequence[str] = ()) -> list[ProductHit]:
    """What to show of labelled hits: only those that fit, when any does; otherwise all of
    them, each saying what it misses.

    Of the fitting ones, close matches (the words only in a description, or found by meaning)
    stay only when the shopper named a kind they are of; without a kind to hold them to, a
    bag whose description mentions a water bottle is not shown beside the water bottle."""
    fits = [hit for hit in hits if not hit.misses]
    if not fits:
        return list(hits)
    exact = [hit for hit in fits if hit.exact]
    return exact if exact and not kinds else fits


def shop_currency() -> str:
    """The shop's currency (shop.yml): what a shopper's "under 50" is in, so the summary of
    the search says "up to €50.00" in a euro shop; the default when shop.yml is unreadable."""
    try:
        return policies().currency
    except ShopSettingsError:
        return SHOP_CURRENCY


def describe(request: SearchRequest) -> str:
    """The request in the shopper's terms, filters included: "cheapest men's black hoodie,
    size XL, under $60.00". The words alone would lose what became a filter."""
    filters = request.filters
    head = {ORDER_PRICE_LOW: "cheapest", ORDER_PRICE_HIGH: "most expensive"}.get(request.order)
    words = [
        head,
        GENDER_WORDS.get(filters.gender or "") if filters.gender else None,
        filters.color.lower() if filters.color else None,
        describe_query(request.text) or ("products" if filters.active() else None),
    ]
    text = " ".join(word for word in words if word)
    extras = []
    if filters.size:
        extras.append(f"size {filters.size}")
    low, high = filters.price_min_cents, filters.price_max_cents
    currency = shop_currency() if low is not None or high is not None else SHOP_CURRENCY
    if low is not None and high is not None:
        extras.append(f"{format_money(low, currency)} to {format_money(high, currency)}")
    elif high is not None:
        extras.append(f"up to {format_money(high, currency)}")
    elif low is not None:
        extras.append(f"from {format_money(low, currency)}")
    return ", ".join([text, *extras]) if text else ", ".join(extras)
