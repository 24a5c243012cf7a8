"""Products in a reply, in the form the shopper's channel shows best.

A channel that renders cards (the chat widget, through the web server; actions/channel.py)
gets one short sentence and the custom payload `{"type": "product_cards", "products": [...]}`,
which the widget shows as a carousel: no list of links to read past. Any other channel (the
terminal, a REST client that says nothing about itself) gets the numbered list as text, then
the same payload, which Rasa's REST contract lets a client render or ignore. The card fields
are documented in docs/contracts.md.

The sentence is a response of bot/domain.yml ending in `{products}`: empty where cards render,
the numbered list (data, not wording) on a text channel, so one message carries both and the
wording stays in the domain. Close matches follow under `utter_close_matches`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.catalog_access import settings
from actions.channel import shows_cards
from actions.replies import Reply
from catalog.search import ProductHit
from core.money import format_money

CARDS_TYPE = "product_cards"
# The variable of every response that introduces products (the module's docstring says why).
PRODUCTS_VARIABLE = "products"


def misses(hit: ProductHit) -> list[str]:
    """What a close match breaks of the shopper's request, as the shopper reads it
    ("$56.00, over your $50.00", "no XS in stock"); empty when it fits."""
    return [label for label in hit.misses if label]


def product_url(hit: ProductHit) -> str:
    """The product's page: the link its feed gave (a Shopify or WooCommerce URL), else the
    Magento pattern `<shop URL>/<url_key>.html` the demo shop serves."""
    if hit.url and hit.url.startswith(("http://", "https://")):
        return hit.url
    return f"{settings().shop_url}/{hit.url_key}.html"


def image_url(hit: ProductHit) -> str | None:
    if not hit.image:
        return None
    if hit.image.startswith(("http://", "https://")):
        return hit.image
    return f"{settings().shop_url}/media/catalog/product{hit.image}"


def card(hit: ProductHit) -> dict[str, Any]:
    on_sale = hit.price_cents < hit.regular_price_cents
    return {
        "sku": hit.sku,
        "name": hit.name,
        "price": format_money(hit.price_cents, hit.currency),
        "price_cents": hit.price_cents,
        "currency": hit.currency,
        "regular_price": format_money(hit.regular_price_cents, hit.currency) if on_sale else None,
        "image": image_url(hit),
        "url": product_url(hit),
        "rating": round(hit.rating, 1) if hit.rating is not None else None,
        "review_count": hit.review_count,
        "in_stock": hit.in_stock,
        "colors": list(hit.colors),
        "sizes": list(hit.sizes),
        "exact": hit.exact,
        "misses": misses(hit),
    }


def text_line(position: int, hit: ProductHit) -> str:
    """'1. Chaz Kangeroo Hoodie — $52.00 — ★4.3 (3) — https://…' for channels without cards;
    a close match says what it breaks before the link ('— $56.00, over your $50.00')."""
    parts = [f"{position}. {hit.name}", format_money(hit.price_cents, hit.currency)]
    if hit.price_cents < hit.regular_price_cents:
        parts[1] += f" (was {format_money(hit.regular_price_cents, hit.currency)})"
    if hit.rating is not None and hit.review_count:
        parts.append(f"★{hit.rating:.1f} ({hit.review_count})")
    if not hit.in_stock:
        parts.append("out of stock")
    if broken := misses(hit):
        parts.append("; ".join(broken))
    parts.append(product_url(hit))
    return " — ".join(parts)


def listing(lines: Sequence[str]) -> str:
    """The `{products}` of a response on a text channel: each line on its own line."""
    return "".join(f"\n{line}" for line in lines)


def send_products(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    intro: Reply,
    hits: Sequence[ProductHit],
    start: int = 1,
) -> None:
    """The products in the form the channel shows best (the module's docstring says which).

    `intro` is a response with a `{products}` variable. `start` numbers the text list (the
    second page starts at 6). Close matches (missing a filter or matching the words only in
    their description) follow the exact ones: on a text channel in a message of their own
    (`utter_close_matches`), on a card marked `exact: false` with their `misses`.
    """
    cards = {"type": CARDS_TYPE, "products": [card(hit) for hit in hits]}
    if shows_cards(tracker):
        intro.send(dispatcher, **{PRODUCTS_VARIABLE: ""})
        if hits:
            dispatcher.utter_message(json_message=cards)
        return
    groups: list[list[str]] = [[]]
    for i, hit in enumerate(hits):
        if not hit.exact and (i == 0 or hits[i - 1].exact):
            groups.append([])
        groups[-1].append(text_line(start + i, hit))
    intro.send(dispatcher, **{PRODUCTS_VARIABLE: listing(groups[0])})
    for close in groups[1:]:
        dispatcher.utter_message(response="utter_close_matches", products=listing(close))
    if hits:
        dispatcher.utter_message(json_message=cards)
