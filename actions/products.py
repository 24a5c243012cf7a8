"""Finding products in the catalog for the shopper's words."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import UNAVAILABLE_TEXT, catalog_session, settings
from catalog.search import ProductHit, describe_query, search_products
from catalog.text import format_price

log = logging.getLogger(__name__)
MAX_RESULTS = 5


def product_url(hit: ProductHit) -> str:
    return f"{settings().shop_url}/{hit.url_key}.html"


def format_results(query: str, hits: list[ProductHit]) -> str:
    if not hits:
        return (
            f"Sorry, I couldn't find anything matching “{query}” in our shop. "
            "Try other words, for example “hoodie”, “running shorts” or “watch”."
        )
    lines = [f"Here is what I found for “{query}”:"]
    for rank, hit in enumerate(hits, start=1):
        lines.append(f"{rank}. {hit.name} — {format_price(hit.price_cents)} — {product_url(hit)}")
    return "\n".join(lines)


class ActionSearchProducts(Action):
    def name(self) -> str:
        return "action_search_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        query = (tracker.latest_message.get("text") or "").strip()
        try:
            with catalog_session() as session:
                hits = search_products(session, query, limit=MAX_RESULTS)
        except SQLAlchemyError:
            log.exception("catalog search failed")
            dispatcher.utter_message(text=UNAVAILABLE_TEXT)
            return []
        dispatcher.utter_message(text=format_results(describe_query(query) or query, hits))
        return []
