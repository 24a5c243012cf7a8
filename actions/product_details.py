"""Talking about products already shown: pick one, compare some, ask about one.

"The second one" and "compare the first two" point into the last list the shopper saw;
"it" is the product last picked. Questions are answered from the product's attributes,
description and reviews (catalog/answers.py), quoting the shop's own words.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.catalog_access import catalog_failure, catalog_session
from actions.forms import leaves_form
from actions.product_cards import send_products
from actions.products import ActionRefineSearch, ActionSearchProducts
from actions.search_state import FOCUS_SLOT, ShoppingState, entities_of, entity_values, ordinals
from catalog.answers import answer_question, summarise_reviews
from catalog.models import Product
from catalog.naming import product_named_in
from catalog.recommend import product_by_sku
from catalog.search import ProductHit, hits_for_skus
from catalog.text import format_price

# Entities that name a kind of product rather than one product.
KIND_ENTITIES = frozenset({"category"})
WHICH_TEXT = (
    "Which product do you mean? Say for example “the first one”, or ask me to find something first."
)


def resolve_product(session: Session, tracker: Tracker) -> Product | None:
    """The product the message is about: a position, a product name (whole, or a clear part
    of it: catalog/naming.py), else the one in focus."""
    state = ShoppingState.of(tracker)
    positions = ordinals(tracker)
    if positions:
        sku = state.pick(positions[0])
        return product_by_sku(session, sku) if sku else None
    for name in entity_values(tracker, "product"):
        found = session.scalars(
            select(Product).where(func.lower(Product.name) == str(name).lower()).limit(1)
        ).first()
        if found is not None:
            return found
    named = product_named_in(session, str(tracker.latest_message.get("text") or ""))
    if named is not None:
        return named
    if state.focus:
        return product_by_sku(session, state.focus)
    if len(state.shown) == 1:
        return product_by_sku(session, state.shown[0])
    return None


def which_text(tracker: Tracker) -> str:
    """Which product? Saying how many were shown when a position was out of range."""
    shown = ShoppingState.of(tracker).shown
    if ordinals(tracker) and shown:
        count = "only one product" if len(shown) == 1 else f"{len(shown)} products"
        return f"I showed {count} in the last list. Which one do you mean?"
    return WHICH_TEXT


def stock_summary(product: Product) -> str:
    colors = sorted({v.color for v in product.variants if v.qty > 0 and v.color})
    sizes = list(dict.fromkeys(v.size for v in product.variants if v.qty > 0 and v.size))
    if not any(v.qty > 0 for v in product.variants):
        return "It is out of stock at the moment."
    parts = []
    if colors:
        parts.append(f"colours {', '.join(colors)}")
    if sizes:
        parts.append(f"sizes {', '.join(sizes)}")
    return f"In stock in {' and '.join(parts)}." if parts else "It is in stock."


# Questions the shop's own data answers, before the page's words: the price paid today, and
# the colours and sizes in stock.
PRICE_QUESTION = re.compile(r"\b(how much|price|prices|priced|cost|costs|expensive|cheap)\b", re.I)
STOCK_QUESTION = re.compile(
    r"\b(what|which|any|other)\s+(colou?rs?|sizes?)\b|\bcome in\b|\bavailable in\b", re.I
)


def shop_fact(session: Session, product: Product, question: str) -> str:
    """The answer to a question about one product: its price or stock from the catalog, or
    what its page says on the question's topic (catalog/answers.py)."""
    if PRICE_QUESTION.search(question):
        [hit] = hits_for_skus(session, [product.sku])
        price = format_price(hit.price_cents, hit.currency)
        was = ""
        if hit.price_cents < hit.regular_price_cents:
            was = f" (on sale, was {format_price(hit.regular_price_cents, hit.currency)})"
        return f"The {product.name} costs {price}{was}. {stock_summary(product)}"
    if STOCK_QUESTION.search(question):
        return f"The {product.name}: {stock_summary(product)}"
    return answer_question(product, question).text


@leaves_form
class ProductAction(Action, ABC):
    """An action about the one product the shopper points at ("it", "the second one", a
    name): finds it, or asks which; subclasses say what to answer about it."""

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            with catalog_session() as session:
                product = self.product(session, tracker)
                if product is None:
                    return self.without_product(dispatcher, tracker, domain)
                return self.answer(dispatcher, tracker, session, product)
        except SQLAlchemyError:
            return catalog_failure(dispatcher)

    def product(self, session: Session, tracker: Tracker) -> Product | None:
        return resolve_product(session, tracker)

    def without_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """No product to talk about: a question about a kind of product ("whats the cheapest
        jacket you have") is a search; otherwise the bot asks which product."""
        names = {e.get("entity") for e in entities_of(tracker) if e.get("value")}
        if names & KIND_ENTITIES and not ordinals(tracker):
            return ActionSearchProducts().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text=which_text(tracker))
        return []

    @abstractmethod
    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        """Reply about `product`; the events to apply."""


def rating_text(hit: ProductHit) -> str:
    if hit.rating is None or not hit.review_count:
        return "no reviews yet"
    return f"{hit.rating:.1f}/5 ({hit.review_count} reviews)"


class ActionSelectProduct(ProductAction):
    def name(self) -> str:
        return "action_select_product"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        [hit] = hits_for_skus(session, [product.sku])
        first = " ".join(product.description.split(". ")[:2]).strip()
        intro = (
            f"The {product.name} costs {format_price(hit.price_cents, hit.currency)}, "
            f"{rating_text(hit)}. {stock_summary(product)}\n{first}"
        )
        send_products(dispatcher, tracker, intro.strip(), [hit])
        return [SlotSet(FOCUS_SLOT, product.sku)]


@leaves_form
class ActionCompareProducts(Action):
    def name(self) -> str:
        return "action_compare_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = ShoppingState.of(tracker)
        positions = list(dict.fromkeys(ordinals(tracker))) or [1, 2]
        if len(positions) == 1:
            positions = [1, positions[0]] if positions[0] != 1 else [1, 2]
        skus = [sku for sku in (state.pick(p) for p in positions) if sku]
        if len(skus) < 2:
            dispatcher.utter_message(
                text="I need at least two products from the last list to compare. "
                "Ask me to find something first, then say “compare the first two”."
            )
            return []
        try:
            with catalog_session() as session:
                hits = hits_for_skus(session, skus)
                lines = ["Here is how they compare:"]
                for hit in hits:
                    product = product_by_sku(session, hit.sku)
                    if product is None:
                        continue
                    material = ", ".join(
                        a.value for a in product.attributes if a.name == "material"
                    )
                    lines.append(
                        f"• {product.name}: {format_price(hit.price_cents, hit.currency)}, "
                        f"{rating_text(hit)}"
                        + (f", {material}" if material else "")
                        + f". {stock_summary(product)}"
                    )
                send_products(dispatcher, tracker, "\n".join(lines), hits)
                return []
        except SQLAlchemyError:
            return catalog_failure(dispatcher)


class ActionProductQuestion(ProductAction):
    def name(self) -> str:
        return "action_product_question"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        question = tracker.latest_message.get("text") or ""
        dispatcher.utter_message(text=shop_fact(session, product, question))
        return [SlotSet(FOCUS_SLOT, product.sku)]


class ActionProductReviews(ProductAction):
    def name(self) -> str:
        return "action_product_reviews"

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=summarise_reviews(product).text)
        return [SlotSet(FOCUS_SLOT, product.sku)]


class ActionCheckAvailability(ProductAction):
    """ "Do you have it in M?": stock of the product in focus in a size and/or colour."""

    def name(self) -> str:
        return "action_check_availability"

    def without_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """With a search on and a size or colour named, it is a refinement of the search."""
        wanted = entity_values(tracker, "size") + entity_values(tracker, "color")
        if ShoppingState.of(tracker).request is not None and wanted:
            return ActionRefineSearch().run(dispatcher, tracker, domain)
        return super().without_product(dispatcher, tracker, domain)

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        sizes = [str(v).upper() for v in entity_values(tracker, "size")]
        colors = [str(v).lower() for v in entity_values(tracker, "color")]
        dispatcher.utter_message(text=availability_text(product, sizes, colors))
        return [SlotSet(FOCUS_SLOT, product.sku)]


def availability_text(product: Product, sizes: list[str], colors: list[str]) -> str:
    wanted = " ".join([*(c.title() for c in colors), *sizes]) or "stock"

    def matches(size: str | None, color: str | None) -> bool:
        return (not sizes or (size or "").upper() in sizes) and (
            not colors or (color or "").lower() in colors
        )

    in_stock = [v for v in product.variants if v.qty > 0 and matches(v.size, v.color)]
    if in_stock:
        options = sorted({" ".join(filter(None, (v.color, v.size))) for v in in_stock})
        return f"Yes, the {product.name} is in stock in {', '.join(options[:8])}."
    exists = any(matches(v.size, v.color) for v in product.variants)
    reason = "sold out" if exists else "not made"
    return f"Sorry, the {product.name} is {reason} in {wanted}. {stock_summary(product)}"
