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

from actions.catalog_access import apologise_if_catalog_down, catalog_session
from actions.contract import Action as ActionName
from actions.contract import Intent, Slot
from actions.forms import leaves_form
from actions.product_cards import send_products
from actions.replies import Reply
from actions.routing import effective_intent
from actions.search_state import (
    ShoppingState,
    category_scores,
    entities_of,
    remember,
)
from catalog.constraints import describe, shop_currency
from catalog.finding import Found, extra_words, find, more, own_words, popular, refine
from catalog.search import FILTER_LABELS, SearchRequest
from core.money import format_money

PAGE_SIZE = 5


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


def hits_slot(count: int) -> dict[str, Any]:
    """`search_hits`: how many products a search found, 0 for none (docs/analytics.md)."""
    event: dict[str, Any] = SlotSet(Slot.SEARCH_HITS, float(count))
    return event


def notes(found: Found) -> list[Reply]:
    """What the search changed to find anything, said before the products: the words it
    corrected, the filters it left out, that it matched only some words."""
    said = [
        Reply("utter_search_read_as", {"typed": typed, "meant": meant})
        for typed, meant in found.corrections
    ]
    dropped = [FILTER_LABELS[name] for name in found.relaxed if name != "words"]
    if dropped and not found.nothing_fits:
        said.append(Reply("utter_search_left_out", {"filters": " and ".join(dropped)}))
    if "words" in found.relaxed:
        said.append(Reply("utter_search_some_words"))
    return said


def nothing_fits(found: Found) -> Reply:
    """The lead when no product meets everything: it says so instead of "Here is what I found"."""
    dropped = [FILTER_LABELS[name] for name in found.relaxed if name != "words"]
    if dropped:
        return Reply("utter_nothing_fits_left_out", {"filters": " and ".join(dropped)})
    return Reply("utter_nothing_fits")


def not_carried(found: Found) -> Reply:
    """A kind the shop does not carry, with the nearest products or the popular ones."""
    kind = {"kind": found.not_carried}
    if not found.hits:
        return Reply("utter_not_carried", kind)
    if found.nearest_category:
        return Reply(
            "utter_not_carried_nearest", {**kind, "category": found.nearest_category.lower()}
        )
    return Reply("utter_not_carried_popular", kind)


def answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    found: Found,
    intro: Reply,
    nothing: Reply,
) -> list[dict[str, Any]]:
    """Reply with what `found` holds and remember it for "cheaper", "more", "the second"."""
    request = found.request
    if found.not_carried is not None:
        said = not_carried(found)
        if found.hits:
            send_products(dispatcher, tracker, said, found.hits)
        else:
            said.send(dispatcher)
        return [*remember(request, [h.sku for h in found.hits]), hits_slot(0)]
    if not found.hits:
        nothing.send(dispatcher)
        return [hits_slot(0)]
    for note in notes(found):
        note.send(dispatcher)
    # When nothing fits, that leads; "Here is what I found" would not be true.
    lead = nothing_fits(found) if found.nothing_fits else intro
    send_products(dispatcher, tracker, lead, found.hits, start=request.offset + 1)
    return [*remember(request, [hit.sku for hit in found.hits]), hits_slot(len(found.hits))]


@leaves_form
class ActionSearchProducts(Action):
    def name(self) -> str:
        return ActionName.ACTION_SEARCH_PRODUCTS

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        text = (tracker.latest_message.get("text") or "").strip()
        if acts_as(tracker) == Intent.REFINE_SEARCH:
            # "mens L" after "tshirts": the shopper narrows the search under way
            return ActionRefineSearch().run(dispatcher, tracker, domain)
        with catalog_session() as session:
            found = find(session, text, entities_of(tracker), category_scores(tracker), PAGE_SIZE)
            query = {"query": describe(found.request) or text[:60]}
            if not found.hits and found.not_carried is None:
                shown = popular(session)
                if shown:
                    send_products(
                        dispatcher, tracker, Reply("utter_search_nothing_popular", query), shown
                    )
                    return [*remember(found.request, [h.sku for h in shown]), hits_slot(0)]
            return answer(
                dispatcher,
                tracker,
                found,
                Reply("utter_search_results", query),
                Reply("utter_search_nothing", query),
            )


def refine_intro(found: Found, previous: SearchRequest) -> Reply:
    """What the refinement changed: cheaper, pricier, more words, or just more that fit."""
    if found.price_reference is not None:
        currency = found.hits[0].currency if found.hits else shop_currency()
        price = {"price": format_money(found.price_reference, currency)}
        if found.request.filters.price_max_cents is not None:
            return Reply("utter_refine_cheaper", price)
        return Reply("utter_refine_pricier", price)
    extra = extra_words(previous, found.request)
    if extra:
        return Reply("utter_refine_also", {"words": " ".join(extra)})
    return Reply("utter_refine_more")


@leaves_form
class ActionRefineSearch(Action):
    def name(self) -> str:
        return ActionName.ACTION_REFINE_SEARCH

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = ShoppingState.of(tracker)
        if state.request is None:
            return ActionSearchProducts().run(dispatcher, tracker, domain)
        text = tracker.latest_message.get("text") or ""
        reference = state.shown if state.focus is None else [state.focus]
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
                dispatcher.utter_message(response="utter_refine_nothing")
                return [hits_slot(0)]
            return answer(
                dispatcher,
                tracker,
                found,
                refine_intro(found, state.request),
                Reply("utter_refine_nothing"),
            )


@leaves_form
class ActionShowMore(Action):
    def name(self) -> str:
        return ActionName.ACTION_SHOW_MORE

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        state = ShoppingState.of(tracker)
        if state.request is None:
            dispatcher.utter_message(response="utter_what_to_find")
            return []
        with catalog_session() as session:
            result = more(session, state.request)
            if not result.hits:
                dispatcher.utter_message(response="utter_no_more_products")
                return []
            send_products(
                dispatcher,
                tracker,
                Reply("utter_more_products"),
                result.hits,
                start=state.request.offset + 1,
            )
            return remember(state.request, [hit.sku for hit in result.hits])
