"""A bare answer when no form asked a question: "hoodie", "mens xl", "the second one".

The classifier reads such short messages as `inform`, the intent of answers to the forms'
questions. With no form asking, rules.yml sends order numbers and e-mails to order tracking and
everything else here; actions/routing.py says what the message asks for, and this action does
it: a search, a pick from the last list, or a question back when there is nothing to go on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.catalog_access import catalog_session
from actions.contract import Action as ActionName
from actions.contract import Entity, Form, Intent
from actions.forms import latest_text
from actions.product_details import ActionProductQuestion, ActionSelectProduct
from actions.products import ActionRefineSearch, ActionSearchProducts, acts_as
from actions.routing import effective_intent
from actions.search_state import ShoppingState, entities_of
from catalog.carried import kinds_in
from catalog.finding import own_words
from catalog.naming import product_named_in
from catalog.search import strict_matches


class ActionRouteInform(Action):
    def name(self) -> str:
        return ActionName.ACTION_ROUTE_INFORM

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        routed = acts_as(tracker, form_asks=False)  # a form that asked did not take it
        if routed == Intent.TRACK_ORDER:
            return [FollowupAction(Form.TRACK_ORDER_FORM)]
        if routed == Intent.REFINE_SEARCH:
            return ActionRefineSearch().run(dispatcher, tracker, domain)
        if routed == Intent.SELECT_PRODUCT:
            return ActionSelectProduct().run(dispatcher, tracker, domain)
        shopping = as_shopping(dispatcher, tracker, domain, bare_answer=True)
        if shopping is not None:
            return shopping
        dispatcher.utter_message(response="utter_unclear")
        return []


# "what is the juliana tee made of", "is the hero hoodie warm": a question about the product
# named, rather than whether the shop sells it ("do you still sell the hero hoodie").
ASKS_ABOUT = re.compile(
    r"^\s*(?:what|whats|what's|is|are|does|do(?! (?:you|u|ya) (?:sell|have|carry|stock|got))|"
    r"how|which|can|will|tell me)\b|\?\s*$",
    re.IGNORECASE,
)


# Words that ask a shop for something: "do you sell", "got any", "looking for", "need".
ASKS_FOR = re.compile(
    r"\b(sell|selling|sold|have|got|carry|carrying|stock|buy|looking for|want|need|find|any|"
    r"wtb|shop for|searching for)\b",
    re.IGNORECASE,
)


def shopping_reading(
    session: Session,
    text: str,
    entities: Sequence[Mapping[str, Any]],
    *,
    searching: bool,
    bare_answer: bool = False,
) -> str | None:
    """What a message the classifier did not read as shopping plainly asks of the shop, or
    None: a refinement of the search under way, a question about a product it names, or a
    search for what it names. The entity extractor's findings, the kinds of products and
    product names count; words that products have count only for a `bare_answer` (read as
    `inform`: "kettlebell", "hoodie"), never for a fallback, so "blorp snazzle" stays None.
    """
    routed = effective_intent(
        Intent.INFORM,
        entities,
        form_active=False,
        searching=searching,
        words=own_words(text, entities),
    )
    if routed == Intent.REFINE_SEARCH:
        return Intent.REFINE_SEARCH
    named = product_named_in(session, text) is not None or any(
        e.get("entity") == Entity.PRODUCT for e in entities
    )
    if named and ASKS_ABOUT.search(text):
        return Intent.PRODUCT_QUESTION
    if routed == Intent.SEARCH_PRODUCT or named:
        return Intent.SEARCH_PRODUCT
    if kinds_in(text) and (bare_answer or ASKS_FOR.search(text)):
        # a kind alone counts only when it is asked for: "do u sell protein powder", not
        # "'; DROP TABLE orders; --"
        return Intent.SEARCH_PRODUCT
    if bare_answer and strict_matches(session, text) > 0:
        return Intent.SEARCH_PRODUCT
    return None


def as_shopping(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: dict[str, Any],
    bare_answer: bool = False,
) -> list[dict[str, Any]] | None:
    """The answer to a message the classifier was unsure of, or read as none of the shop's
    business, when it plainly asks for products (`shopping_reading`); None otherwise."""
    try:
        with catalog_session() as session:
            reading = shopping_reading(
                session,
                latest_text(tracker),
                entities_of(tracker),
                searching=ShoppingState.of(tracker).request is not None,
                bare_answer=bare_answer,
            )
    except SQLAlchemyError:
        return None
    if reading == Intent.REFINE_SEARCH:
        return ActionRefineSearch().run(dispatcher, tracker, domain)
    if reading == Intent.PRODUCT_QUESTION:
        return ActionProductQuestion().run(dispatcher, tracker, domain)
    if reading == Intent.SEARCH_PRODUCT:
        return ActionSearchProducts().run(dispatcher, tracker, domain)
    return None
