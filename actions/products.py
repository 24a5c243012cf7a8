"""Finding products: a new search, a refinement of the current one, and the next page.

"black hoodie for men under 60" starts a search; "cheaper", "in red", "for women",
"something waterproof" refine it (the filters named replace the old ones, the rest stay);
"show more" pages on. catalog/finding.py decides what to show: what the shopper asked is
kept, and when nothing fits the products shown say what they miss; a kind of product the shop
does not carry is said to be not carried. Each answer remembers the request, and a shopping
request ends any form that was asking something else (actions/forms.py `leaves_form`).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import catalog_failure, catalog_session
from actions.forms import leaves_form
from actions.product_cards import send_products
from actions.routing import REFINE_SEARCH, effective_intent
from actions.search_state import (
    ShoppingState,
    category_scores,
    entities_of,
    remember,
)
from catalog.constraints import describe
from catalog.finding import Found, extra_words, find, more, own_words, popular, refine
from catalog.search import FILTER_LABELS, SearchRequest
from catalog.text import format_price

PAGE_SIZE = 5
HITS_SLOT = "search_hits"  # 0 marks a search with zero results (docs/analytics.md)
NOTHING_TEXT = (
    "Sorry, I couldn't find anything matching “{query}” in our shop. "
    "Try other words, for example “hoodie”, “running shorts” or “watch”."
)
NOT_CARRIED_TEXT = "Sorry, we don't carry {kind} in our shop."
NEAREST_TEXT = " The nearest we have are these {category}:"
POPULAR_TEXT = " Here are some of our most popular products instead:"
NOTHING_FITS_TEXT = (
    "I have nothing that fits everything you asked for{dropped}. These come closest, each "
    "with what it misses; tell me what you could do without, or change your request:"
)


def acts_as(tracker: Tracker, form_asks: bool | None = None) -> str | None:
    """What the bot does with the latest message (actions/routing.py), given whether a search
    is under way and what words of its own the message has. `form_asks` overrides whether a
    form is waiting for an answer (a form that rejected the message is not)."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    text = str(tracker.latest_message.get("text") or "")
    entities = entities_of(tracker)
    return effective_intent(
        intent,
        entities,
        form_active=(
            bool((tracker.active_loop or {}).get("name")) if form_asks is None else form_asks
        ),
        searching=ShoppingState.of(tracker).request is not None,
        words=own_words(text, entities),
    )


def explain(found: Found) -> str:
    """A sentence on what the search changed to find anything, or ''."""
    notes = []
    if found.corrections:
        fixed = ", ".join(f"“{typed}” as “{meant}”" for typed, meant in found.corrections)
        notes.append(f"I read {fixed}.")
    dropped = [FILTER_LABELS[name] for name in found.relaxed if name != "words"]
    if found.nothing_fits:
        left_out = f", so I left out the {' and '.join(dropped)}" if dropped else ""
        notes.append(NOTHING_FITS_TEXT.format(dropped=left_out))
    elif dropped:
        notes.append(
            f"I found nothing matching everything, so I left out the {' and '.join(dropped)}."
        )
    if "words" in found.relaxed:
        notes.append(
            "Nothing had all your words, so these match some of them or come nearest in meaning."
        )
    return " ".join(notes)


def not_carried_text(found: Found) -> str:
    text = NOT_CARRIED_TEXT.format(kind=found.not_carried)
    if not found.hits:
        return text
    if found.nearest_category:
        return text + NEAREST_TEXT.format(category=found.nearest_category.lower())
    return text + POPULAR_TEXT


def answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, found: Found, intro: str, nothing: str
) -> list[dict[str, Any]]:
    """Reply with what `found` holds and remember it for "cheaper", "more", "the second"."""
    request = found.request
    if found.not_carried is not None:
        send_products(dispatcher, tracker, not_carried_text(found), found.hits)
        return [*remember(request, [h.sku for h in found.hits]), SlotSet(HITS_SLOT, 0.0)]
    if not found.hits:
        dispatcher.utter_message(text=nothing)
        return [SlotSet(HITS_SLOT, 0.0)]
    note = explain(found)
    # When nothing fits, the note says so and leads; "Here is what I found" would not be true.
    text = note if found.nothing_fits else f"{intro} {note}".strip()
    send_products(dispatcher, tracker, text, found.hits, start=request.offset + 1)
    return [
        *remember(request, [hit.sku for hit in found.hits]),
        SlotSet(HITS_SLOT, float(len(found.hits))),
    ]


@leaves_form
class ActionSearchProducts(Action):
    def name(self) -> str:
        return "action_search_products"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message.get("text") or "").strip()
        if acts_as(tracker) == REFINE_SEARCH:
            # "mens L" after "tshirts": the shopper narrows the search under way
            return ActionRefineSearch().run(dispatcher, tracker, domain)
        try:
            with catalog_session() as session:
                found = find(
                    session, text, entities_of(tracker), category_scores(tracker), PAGE_SIZE
                )
                described = describe(found.request) or text[:60]
                nothing = NOTHING_TEXT.format(query=described)
                if not found.hits and found.not_carried is None:
                    shown = popular(session)
                    if shown:
                        send_products(dispatcher, tracker, nothing + POPULAR_TEXT, shown)
                        return [
                            *remember(found.request, [h.sku for h in shown]),
                            SlotSet(HITS_SLOT, 0.0),
                        ]
                return answer(
                    dispatcher, tracker, found, f"Here is what I found for “{described}”:", nothing
                )
        except SQLAlchemyError:
            return catalog_failure(dispatcher)


def refine_intro(found: Found, previous: SearchRequest) -> str:
    if found.price_reference is not None and found.request.filters.price_max_cents is not None:
        return f"Here are cheaper options (under {format_price(found.price_reference)}):"
    if found.price_reference is not None:
        return f"Here are options above {format_price(found.price_reference)}:"
    extra = extra_words(previous, found.request)
    if extra:
        return f"Here are options that are also “{' '.join(extra)}”:"
    return "Here are more options that fit:"


@leaves_form
class ActionRefineSearch(Action):
    def name(self) -> str:
        return "action_refine_search"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = ShoppingState.of(tracker)
        if state.request is None:
            return ActionSearchProducts().run(dispatcher, tracker, domain)
        text = tracker.latest_message.get("text") or ""
        reference = state.shown if state.focus is None else [state.focus]
        try:
            with catalog_session() as session:
                found = refine(
                    session,
                    state.request,
                    reference,
                    text,
                    entities_of(tracker),
                    category_scores(tracker),
                    PAGE_SIZE,
                )
                if not found.hits:
                    # The list the shopper has stays theirs: nothing is remembered.
                    dispatcher.utter_message(
                        text="Sorry, I have nothing that fits that as well. You can pick from "
                        "the products above, or change what you are looking for."
                    )
                    return [SlotSet(HITS_SLOT, 0.0)]
                return answer(dispatcher, tracker, found, refine_intro(found, state.request), "")
        except SQLAlchemyError:
            return catalog_failure(dispatcher)


@leaves_form
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
                result = more(session, state.request)
                if not result.hits:
                    dispatcher.utter_message(
                        text="That's everything I have for this search. You can ask for "
                        "something different, or change the colour, size or price."
                    )
                    return []
                send_products(
                    dispatcher,
                    tracker,
                    "Here are more:",
                    result.hits,
                    start=state.request.offset + 1,
                )
                return remember(state.request, [hit.sku for hit in result.hits])
        except SQLAlchemyError:
            return catalog_failure(dispatcher)
