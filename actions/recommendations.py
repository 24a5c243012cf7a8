"""Recommending products: more like one, what goes with one, and picks for a known customer.

"More like this" uses the catalog's text embeddings; "something like this but for running"
keeps only candidates matching the extra words. "What goes with it" combines the shop's
cross-sell and related links with what other shoppers bought together. "Recommend something
for me" uses the order history of a verified customer and, for anyone else, says so and
offers the best sellers.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.catalog_access import apologise_if_catalog_down, catalog_session
from actions.contract import Action as ActionName
from actions.contract import Slot
from actions.forms import leaves_form
from actions.product_cards import send_products
from actions.product_details import ProductAction, resolve_product
from actions.replies import Reply
from actions.search_state import ShoppingState, remember
from catalog.models import Customer, Product
from catalog.recommend import (
    bought_together,
    linked_products,
    popular_products,
    product_by_sku,
    recommend_for_customer,
    similar_products,
)
from catalog.search import CANDIDATES, SearchRequest, hits_for_skus, search
from catalog.terms import query_terms

PAGE_SIZE = 5
# Words of "something like this but for running" that point at the product, not the wish.
_LIKE_THIS = re.compile(
    r"\b(more|something|anything|others?|ones?|products?|items?|similar|like|this|that|it|"
    r"these|those|but|same|kind|sort|style|show|me|similar to|alike|look|looks|one|first|second|"
    r"third|fourth|fifth|last|number|option|\d)\b",
    re.IGNORECASE,
)


def extra_wish(text: str, product_name: str) -> str:
    """The words of 'like this but for running' beyond 'like this' and the product's name."""
    own = set(query_terms(product_name))
    words = [w for w in query_terms(_LIKE_THIS.sub(" ", text)) if w not in own]
    return " ".join(words)


class ActionSimilarProducts(ProductAction):
    def name(self) -> str:
        return ActionName.ACTION_SIMILAR_PRODUCTS

    def product(self, session: Session, tracker: Tracker) -> Product | None:
        """The product pointed at, else the first of the last list ("more like these")."""
        shown = ShoppingState.of(tracker).shown
        found = resolve_product(session, tracker)
        return found or (product_by_sku(session, shown[0]) if shown else None)

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        wish = extra_wish(tracker.latest_message.get("text") or "", product.name)
        within = None
        if wish:
            found = search(session, SearchRequest(text=wish, limit=CANDIDATES))
            within = {hit.id for hit in found.hits}
        similar = similar_products(session, product.sku, PAGE_SIZE, within_ids=within)
        named = {"product": product.name, **({"wish": wish} if wish else {})}
        if not similar:
            none = "utter_no_similar_wished" if wish else "utter_no_similar"
            dispatcher.utter_message(response=none, **named)
            return []
        hits = hits_for_skus(session, [p.sku for p in similar])
        like = "utter_similar_wished" if wish else "utter_similar"
        send_products(dispatcher, tracker, Reply(like, named), hits)
        return remember(
            SearchRequest(text=wish or product.name, limit=PAGE_SIZE), [h.sku for h in hits]
        )


class ActionComplementaryProducts(ProductAction):
    """ "What goes with it?": cross-sells and related links first, then bought together."""

    def name(self) -> str:
        return ActionName.ACTION_COMPLEMENTARY_PRODUCTS

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        skus = [p.sku for _, p in linked_products(session, product.sku, ("crosssell",))]
        skus += [p.sku for p, _ in bought_together(session, product.sku)]
        skus += [p.sku for _, p in linked_products(session, product.sku, ("related", "upsell"))]
        skus = list(dict.fromkeys(skus))[:PAGE_SIZE]
        named = {"product": product.name}
        if not skus:
            dispatcher.utter_message(response="utter_no_complements", **named)
            return []
        hits = hits_for_skus(session, skus)
        send_products(dispatcher, tracker, Reply("utter_complements", named), hits)
        return remember(SearchRequest(text=product.name, limit=PAGE_SIZE), skus)


@leaves_form
class ActionRecommendForMe(Action):
    def name(self) -> str:
        return ActionName.ACTION_RECOMMEND_FOR_ME

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        email = tracker.get_slot(Slot.VERIFIED_CUSTOMER_EMAIL)
        with catalog_session() as session:
            customer = (
                session.scalars(select(Customer).where(Customer.email == str(email))).first()
                if email
                else None
            )
            picks = recommend_for_customer(session, customer.id) if customer else []
            if customer is not None and picks:
                intro = Reply("utter_picks_for_you", {"first_name": customer.first_name})
            else:
                picks = popular_products(session, limit=PAGE_SIZE)
                unknown = customer is None
                intro = Reply("utter_best_sellers" if unknown else "utter_best_sellers_no_orders")
            hits = hits_for_skus(session, [p.sku for p in picks])
            send_products(dispatcher, tracker, intro, hits)
            return remember(SearchRequest(limit=PAGE_SIZE), [h.sku for h in hits])
