"""A bare answer when no form asked a question: "hoodie", "mens xl", "the second one".

The classifier reads such short messages as `inform`, the intent of answers to the forms'
questions. With no form asking, rules.yml sends order numbers and e-mails to order tracking and
everything else here; actions/routing.py says what the message asks for, and this action does
it: a search, a pick from the last list, or a question back when there is nothing to go on.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.catalog_access import catalog_session
from actions.forms import latest_text
from actions.product_details import ActionSelectProduct
from actions.products import ActionRefineSearch, ActionSearchProducts, acts_as
from actions.routing import (
    INFORM,
    REFINE_SEARCH,
    SEARCH_PRODUCT,
    SELECT_PRODUCT,
    TRACK_ORDER,
    effective_intent,
)
from actions.search_state import ShoppingState, entities_of
from catalog.carried import kinds_in
from catalog.finding import own_words
from catalog.search import strict_matches

TRACK_ORDER_FORM = "track_order_form"
UNCLEAR_TEXT = (
    "I'm not sure what you'd like me to do with that. I can find products (for example "
    "“men's hoodies under $50”), track an order or a refund, start a return and answer "
    "questions about delivery, payment and your account. What would you like?"
)


def names_products(text: str) -> bool:
    """Whether the words name a kind of product, carried or not, or match one of the shop's."""
    if kinds_in(text):
        return True
    try:
        with catalog_session() as session:
            return strict_matches(session, text) > 0
    except SQLAlchemyError:
        return False


class ActionRouteInform(Action):
    def name(self) -> str:
        return "action_route_inform"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        routed = acts_as(tracker, form_asks=False)  # a form that asked did not take it
        if routed == TRACK_ORDER:
            return [FollowupAction(TRACK_ORDER_FORM)]
        if routed == REFINE_SEARCH:
            return ActionRefineSearch().run(dispatcher, tracker, domain)
        if routed == SELECT_PRODUCT:
            return ActionSelectProduct().run(dispatcher, tracker, domain)
        if routed == SEARCH_PRODUCT or names_products(latest_text(tracker)):
            return ActionSearchProducts().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text=UNCLEAR_TEXT)
        return []


def as_shopping(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
) -> list[dict[str, Any]] | None:
    """The answer to a message the classifier was unsure of when it plainly names products
    ("hoodie", "under 30 bucks" after a search): the search or refinement it asks for, or None.

    Only the entity extractor's findings and the kinds of products count here, never a loose
    word match, so "blorp snazzle" still gets a request to rephrase.
    """
    text = latest_text(tracker)
    entities = entities_of(tracker)
    routed = effective_intent(
        INFORM,
        entities,
        form_active=False,
        searching=ShoppingState.of(tracker).request is not None,
        words=own_words(text, entities),
    )
    if routed == REFINE_SEARCH:
        return ActionRefineSearch().run(dispatcher, tracker, domain)
    if routed == SEARCH_PRODUCT or kinds_in(text):
        return ActionSearchProducts().run(dispatcher, tracker, domain)
    return None
