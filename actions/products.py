"""Finding products: a new search, a refinement of the current one, and the next page.

"black hoodie for men under 60" starts a search; "cheaper", "in red", "for women",
"something waterproof" refine it (the filters named replace the old ones, the rest stay);
"show more" pages on. Every answer lists products as text and as cards, says which of the
shopper's wishes were relaxed when nothing matched them all, and remembers the request.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.catalog_access import catalog_failure, catalog_session
from actions.product_cards import send_products
from actions.search_state import (
    ShoppingState,
    category_scores,
    entities_of,
    remember,
)
from catalog.query import filters_from_entities, request_from_message, text_without_filters
from catalog.recommend import popular_products
from catalog.search import (
    FILTER_LABELS,
    SearchRequest,
    SearchResult,
    describe_query,
    hits_for_skus,
    product_hits,
    query_terms,
    search,
)
from catalog.text import format_price

PAGE_SIZE = 5
HITS_SLOT = "search_hits"  # 0 marks a search with zero results (docs/analytics.md)
CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable|budget)\b", re.I)
PRICIER = re.compile(r"\b(more expensive|pricier|higher end|premium|better quality)\b", re.I)
# Words of a refinement that say how, not what: "show me the cheaper ones instead".
_REFINE_TEXT = """cheaper less expensive lower price more affordable budget pricier higher end
premium better quality instead ones options version versions colour color size other only just
but same those them these what about how"""
REFINE_WORDS = frozenset(_REFINE_TEXT.split())
NOTHING_TEXT = (
    "Sorry, I couldn't find anything matching “{query}” in our shop. "
    "Try other words, for example “hoodie”, “running shorts” or “watch”."
)


def explain(result: SearchResult) -> str:
    """A sentence on what the search changed to find anything, or ''."""
    notes = []
    if result.corrections:
        fixed = ", ".join(f"“{typed}” as “{meant}”" for typed, meant in result.corrections)
        notes.append(f"I read {fixed}.")
    dropped = [FILTER_LABELS[name] for name in result.relaxed if name != "words"]
    if dropped:
        notes.append(
            f"I found nothing matching everything, so I left out the {' and '.join(dropped)}."
        )
    if "words" in result.relaxed:
        notes.append("Nothing matched all your words, so these match some of them.")
    return " ".join(notes)


def answer_search(
    dispatcher: CollectingDispatcher,
    session: Session,
    request: SearchRequest,
    intro: str,
    nothing: str,
    result: SearchResult | None = None,
) -> list[dict[str, Any]]:
    """Reply with the products `request` finds (or popular ones if none), remember the state.

    `result` is the request's result when the caller has already searched."""
    result = result or search(session, request)
    if not result.hits:
        popular = product_hits(session, [(p.id, 0.0) for p in popular_products(session, limit=3)])
        if popular:
            nothing += " Here are some of our most popular products instead:"
        send_products(dispatcher, nothing, popular)
        return [*remember(request, [h.sku for h in popular]), SlotSet(HITS_SLOT, 0.0)]
    note = explain(result)
    send_products(dispatcher, f"{intro} {note}".strip(), result.hits, start=request.offset + 1)
    return [
        *remember(request, [hit.sku for hit in result.hits]),
        SlotSet(HITS_SLOT, float(len(result.hits))),
    ]


class ActionSearchProducts(Action):
    def name(self) -> str:
        return "action_search_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message.get("text") or "").strip()
        request = request_from_message(
            text, entities_of(tracker), category_scores(tracker), limit=PAGE_SIZE
        )
        described = describe_query(text) or text[:60]
        try:
            with catalog_session() as session:
                return answer_search(
                    dispatcher,
                    session,
                    request,
                    intro=f"Here is what I found for “{described}”:",
                    nothing=NOTHING_TEXT.format(query=described),
                )
        except SQLAlchemyError:
            return catalog_failure(dispatcher)


def refined_request(
    session: Session, previous: SearchRequest, tracker: Tracker, state: ShoppingState
) -> tuple[SearchRequest, str]:
    """The previous request changed as the shopper asked, and how to introduce the answer."""
    text = tracker.latest_message.get("text") or ""
    entities = entities_of(tracker)
    filters = filters_from_entities(entities, base=previous.filters)
    intro = "Here are more options that fit:"
    reference = state.shown if state.focus is None else [state.focus]
    prices = [hit.price_cents for hit in hits_for_skus(session, reference)]
    if CHEAPER.search(text) and prices:
        filters = replace(filters, price_max_cents=min(prices) - 1, price_min_cents=None)
        intro = f"Here are cheaper options (under {format_price(min(prices))}):"
    elif PRICIER.search(text) and prices:
        filters = replace(filters, price_min_cents=max(prices) + 1, price_max_cents=None)
        intro = f"Here are options above {format_price(max(prices))}:"
    extra = [
        term
        for term in query_terms(text_without_filters(text, entities))
        if term not in REFINE_WORDS and term not in query_terms(previous.text)
    ]
    if extra and intro == "Here are more options that fit:":
        intro = f"Here are options that are also “{' '.join(extra)}”:"
    words = " ".join([previous.text, *extra]).strip()
    scores = category_scores(tracker) if extra else previous.category_scores
    changed = tuple(
        name
        for name in filters.active() + previous.filters.active()
        if getattr(filters, name) != getattr(previous.filters, name)
    )
    return (
        SearchRequest(
            text=words,
            filters=filters,
            category_scores=scores or previous.category_scores,
            limit=PAGE_SIZE,
            keep=tuple(dict.fromkeys(changed)),
        ),
        intro,
    )


class ActionRefineSearch(Action):
    def name(self) -> str:
        return "action_refine_search"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = ShoppingState.of(tracker)
        if state.request is None:
            return ActionSearchProducts().run(dispatcher, tracker, domain)
        try:
            with catalog_session() as session:
                request, intro = refined_request(session, state.request, tracker, state)
                result = search(session, request)
                if not result.hits:
                    # The list the shopper has stays theirs: nothing is remembered.
                    dispatcher.utter_message(
                        text="Sorry, I have nothing that fits that as well. You can pick from "
                        "the products above, or change what you are looking for."
                    )
                    return [SlotSet(HITS_SLOT, 0.0)]
                return answer_search(dispatcher, session, request, intro, "", result)
        except SQLAlchemyError:
            return catalog_failure(dispatcher)


class ActionShowMore(Action):
    def name(self) -> str:
        return "action_show_more"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = ShoppingState.of(tracker)
        if state.request is None:
            dispatcher.utter_message(
                text="What would you like me to look for? For example “women's running shorts”."
            )
            return []
        try:
            with catalog_session() as session:
                result = search(session, state.request)
                if not result.hits:
                    dispatcher.utter_message(
                        text="That's everything I have for this search. You can ask for "
                        "something different, or change the colour, size or price."
                    )
                    return []
                send_products(
                    dispatcher, "Here are more:", result.hits, start=state.request.offset + 1
                )
                return remember(state.request, [hit.sku for hit in result.hits])
        except SQLAlchemyError:
            return catalog_failure(dispatcher)
