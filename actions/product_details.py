"""Talking about products already shown: pick one, compare some, ask about one.

"The second one" and "compare the first two" point into the last list the shopper saw;
"it" is the product last picked. Questions are answered from the product's attributes,
description and reviews (catalog/answers.py), quoting the shop's own words. The sentences
are responses of bot/domain.yml; prices, names, colours and sizes fill their variables.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.catalog_access import apologise_if_catalog_down, catalog_session
from actions.contract import Action as ActionName
from actions.contract import Entity, Slot
from actions.forms import leaves_form
from actions.product_cards import listing, send_products
from actions.products import ActionRefineSearch, ActionSearchProducts
from actions.replies import Reply
from actions.search_state import ShoppingState, entities_of, entity_values, ordinals
from catalog.answers import answer_question, summarise_reviews
from catalog.models import Product
from catalog.naming import product_by_name, product_named_in
from catalog.recommend import product_by_sku
from catalog.search import ProductHit, hits_for_skus
from core.money import format_money

# Entities that name a kind of product rather than one product.
KIND_ENTITIES = frozenset({Entity.CATEGORY})


def resolve_product(session: Session, tracker: Tracker) -> Product | None:
    """The product the message is about: a position, a product name (whole, or a clear part
    of it: catalog/naming.py), else the one in focus."""
    state = ShoppingState.of(tracker)
    positions = ordinals(tracker)
    if positions:
        sku = state.pick(positions[0])
        return product_by_sku(session, sku) if sku else None
    for name in entity_values(tracker, Entity.PRODUCT):
        found = product_by_name(session, str(name))
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


def which_product(tracker: Tracker) -> Reply:
    """Which product? Saying how many were shown when a position was out of range."""
    shown = ShoppingState.of(tracker).shown
    if ordinals(tracker) and shown:
        if len(shown) == 1:
            return Reply("utter_which_of_one")
        return Reply("utter_which_of_many", {"count": len(shown)})
    return Reply("utter_which_product")


def stock_summary(product: Product) -> Reply:
    """The colours and sizes `product` is in stock in, or that it is out of stock."""
    colors = ", ".join(sorted({v.color for v in product.variants if v.qty > 0 and v.color}))
    sizes = ", ".join(dict.fromkeys(v.size for v in product.variants if v.qty > 0 and v.size))
    named = {"product": product.name}
    if not any(v.qty > 0 for v in product.variants):
        return Reply("utter_stock_none", named)
    if colors and sizes:
        return Reply("utter_stock_colours_sizes", {**named, "colours": colors, "sizes": sizes})
    if colors:
        return Reply("utter_stock_colours", {**named, "colours": colors})
    if sizes:
        return Reply("utter_stock_sizes", {**named, "sizes": sizes})
    return Reply("utter_stock_any", named)


def stock_note(product: Product) -> str:
    """The stock of `product` as a comparison line shows it (data, like a product list)."""
    if not any(v.qty > 0 for v in product.variants):
        return "out of stock"
    colors = sorted({v.color for v in product.variants if v.qty > 0 and v.color})
    sizes = list(dict.fromkeys(v.size for v in product.variants if v.qty > 0 and v.size))
    return "; ".join(", ".join(values) for values in (colors, sizes) if values) or "in stock"


# Questions the shop's own data answers, before the page's words: the price paid today, and
# the colours and sizes in stock.
PRICE_QUESTION = re.compile(r"\b(how much|price|prices|priced|cost|costs|expensive|cheap)\b", re.I)
STOCK_QUESTION = re.compile(
    r"\b(what|which|any|other)\s+(colou?rs?|sizes?)\b|\bcome in\b|\bavailable in\b", re.I
)


def price_of(hit: ProductHit) -> Reply:
    """What `hit` costs today, with the regular price when it is on sale."""
    price = {"product": hit.name, "price": format_money(hit.price_cents, hit.currency)}
    if hit.price_cents < hit.regular_price_cents:
        regular = format_money(hit.regular_price_cents, hit.currency)
        return Reply("utter_product_price_on_sale", {**price, "regular_price": regular})
    return Reply("utter_product_price", price)


def shop_fact(session: Session, product: Product, question: str) -> list[Reply]:
    """The answer to a question about one product: its price or stock from the catalog, or
    what its page says on the question's topic (catalog/answers.py)."""
    if PRICE_QUESTION.search(question):
        [hit] = hits_for_skus(session, [product.sku])
        return [price_of(hit), stock_summary(product)]
    if STOCK_QUESTION.search(question):
        return [stock_summary(product)]
    return [Reply("utter_product_answer", {"answer": answer_question(product, question).text})]


@leaves_form
class ProductAction(Action, ABC):
    """An action about the one product the shopper points at ("it", "the second one", a
    name): finds it, or asks which; subclasses say what to answer about it."""

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        with catalog_session() as session:
            product = self.product(session, tracker)
            if product is None:
                return self.without_product(dispatcher, tracker, domain)
            return self.answer(dispatcher, tracker, session, product)

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
        which_product(tracker).send(dispatcher)
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


def rating_note(hit: ProductHit) -> str:
    """'★4.3 (3)' as product lists show a rating (actions/product_cards.py), or ''."""
    if hit.rating is None or not hit.review_count:
        return ""
    return f"★{hit.rating:.1f} ({hit.review_count})"


def summary(hit: ProductHit) -> Reply:
    """The price and rating of the product picked."""
    price = {"product": hit.name, "price": format_money(hit.price_cents, hit.currency)}
    if hit.rating is None or not hit.review_count:
        return Reply("utter_product_summary_unrated", price)
    rating = {"rating": f"{hit.rating:.1f}", "reviews": hit.review_count}
    return Reply("utter_product_summary", {**price, **rating})


class ActionSelectProduct(ProductAction):
    def name(self) -> str:
        return ActionName.ACTION_SELECT_PRODUCT

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        [hit] = hits_for_skus(session, [product.sku])
        first = " ".join(product.description.split(". ")[:2]).strip() or product.name
        summary(hit).send(dispatcher)
        stock_summary(product).send(dispatcher)
        send_products(
            dispatcher, tracker, Reply("utter_product_description", {"description": first}), [hit]
        )
        return [SlotSet(Slot.FOCUSED_PRODUCT, product.sku)]


@leaves_form
class ActionCompareProducts(Action):
    def name(self) -> str:
        return ActionName.ACTION_COMPARE_PRODUCTS

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = ShoppingState.of(tracker)
        positions = list(dict.fromkeys(ordinals(tracker))) or [1, 2]
        if len(positions) == 1:
            positions = [1, positions[0]] if positions[0] != 1 else [1, 2]
        skus = [sku for sku in (state.pick(p) for p in positions) if sku]
        if len(skus) < 2:
            dispatcher.utter_message(response="utter_compare_needs_two")
            return []
        with catalog_session() as session:
            hits = hits_for_skus(session, skus)
            lines = []
            for hit in hits:
                product = product_by_sku(session, hit.sku)
                if product is None:
                    continue
                material = ", ".join(a.value for a in product.attributes if a.name == "material")
                facts = [format_money(hit.price_cents, hit.currency), rating_note(hit)]
                facts += [material, stock_note(product)]
                lines.append(f"• {product.name}: {', '.join(f for f in facts if f)}")
            # the comparison lines are data, like a product list's (product_cards.py)
            send_products(
                dispatcher,
                tracker,
                Reply("utter_compare", {"comparison": listing(lines)}),
                hits,
            )
            return []


class ActionProductQuestion(ProductAction):
    def name(self) -> str:
        return ActionName.ACTION_PRODUCT_QUESTION

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        question = tracker.latest_message.get("text") or ""
        for reply in shop_fact(session, product, question):
            reply.send(dispatcher)
        return [SlotSet(Slot.FOCUSED_PRODUCT, product.sku)]


class ActionProductReviews(ProductAction):
    def name(self) -> str:
        return ActionName.ACTION_PRODUCT_REVIEWS

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        session: Session,
        product: Product,
    ) -> list[dict[str, Any]]:
        # catalog/answers.py words the summary from the reviews themselves
        answer = summarise_reviews(product).text
        dispatcher.utter_message(response="utter_product_answer", answer=answer)
        return [SlotSet(Slot.FOCUSED_PRODUCT, product.sku)]


class ActionCheckAvailability(ProductAction):
    """ "Do you have it in M?": stock of the product in focus in a size and/or colour."""

    def name(self) -> str:
        return ActionName.ACTION_CHECK_AVAILABILITY

    def without_product(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """With a search on and a size or colour named, it is a refinement of the search."""
        wanted = entity_values(tracker, Entity.SIZE) + entity_values(tracker, Entity.COLOR)
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
        sizes = [str(v).upper() for v in entity_values(tracker, Entity.SIZE)]
        colors = [str(v).lower() for v in entity_values(tracker, Entity.COLOR)]
        for reply in availability(product, sizes, colors):
            reply.send(dispatcher)
        return [SlotSet(Slot.FOCUSED_PRODUCT, product.sku)]


def availability(product: Product, sizes: list[str], colors: list[str]) -> list[Reply]:
    """Whether `product` is in stock in the sizes and colours asked; if not, what it is in."""
    wanted = " ".join([*(c.title() for c in colors), *sizes])

    def matches(size: str | None, color: str | None) -> bool:
        return (not sizes or (size or "").upper() in sizes) and (
            not colors or (color or "").lower() in colors
        )

    in_stock = [v for v in product.variants if v.qty > 0 and matches(v.size, v.color)]
    named = {"product": product.name}
    if in_stock:
        options = sorted({" ".join(filter(None, (v.color, v.size))) for v in in_stock})
        return [Reply("utter_in_stock_in", {**named, "options": ", ".join(options[:8])})]
    if not wanted:
        return [stock_summary(product)]
    exists = any(matches(v.size, v.color) for v in product.variants)
    reason = "utter_sold_out_in" if exists else "utter_not_made_in"
    return [Reply(reason, {**named, "wanted": wanted}), stock_summary(product)]
