"""What a bare answer means when no form asked a question.

The classifier reads short answers ("000000101", "the hoodie", "XS", "jane@example.com") as
`inform`: they are the replies to the forms' questions. When no form is asking, such a message
is the shopper's first words, and what it contains says what they want: an order number or an
e-mail is about an order, a position picks from the list just shown, and a product, a category,
a colour, a size, a gender or a price is a search. Only an `inform` with none of these is left as
it is, and the bot asks what the shopper would like (actions/inform.py). The same function tells
the shopper benchmark (benchmarks/shoppers.py) what the bot acts on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from actions.contract import Entity, Intent

ORDER_ENTITIES: Final = frozenset({Entity.ORDER_NUMBER, Entity.EMAIL})
FILTER_ENTITIES: Final = frozenset(
    {Entity.COLOR, Entity.SIZE, Entity.GENDER, Entity.PRICE_MIN, Entity.PRICE_MAX}
)
SEARCH_ENTITIES: Final = FILTER_ENTITIES | {Entity.PRODUCT, Entity.CATEGORY}


def entity_names(entities: Sequence[Mapping[str, Any]]) -> set[str]:
    return {str(e.get("entity")) for e in entities if e.get("value") not in (None, "")}


def only_filters(entities: Sequence[Mapping[str, Any]], words: Sequence[str] = ()) -> bool:
    """Whether the message only changes filters ("mens L", "in red", "under 45"): filter
    entities and no kind of product, product name or other words of what to find."""
    names = entity_names(entities)
    return bool(names & FILTER_ENTITIES) and not names - FILTER_ENTITIES and not words


def effective_intent(
    intent: str | None,
    entities: Sequence[Mapping[str, Any]],
    *,
    form_active: bool,
    searching: bool = False,
    words: Sequence[str] = (),
) -> str | None:
    """The request the bot acts on for a message read as `intent` with `entities`.

    Inside a form an `inform` answers the form's question, so it stays `inform`. Outside one,
    order details win over products ("the hoodie from order 000000101" is about the order).
    `searching` says a search is under way: then a message that only changes filters refines
    it, whether read as a search or a bare answer; without one, a refinement is a new search.
    `words` are the message's search words once its filters are taken out (catalog.search
    `query_terms`): with words of their own it is a new search.
    """
    if intent == Intent.REFINE_SEARCH and not searching:
        return Intent.SEARCH_PRODUCT
    if intent == Intent.SEARCH_PRODUCT and searching and only_filters(entities, words):
        return Intent.REFINE_SEARCH
    if intent != Intent.INFORM or form_active:
        return intent
    names = entity_names(entities)
    if names & ORDER_ENTITIES:
        return Intent.TRACK_ORDER
    if Entity.ORDINAL in names and not names & SEARCH_ENTITIES:
        return Intent.SELECT_PRODUCT
    if searching and only_filters(entities, words):
        return Intent.REFINE_SEARCH
    if names & SEARCH_ENTITIES:
        return Intent.SEARCH_PRODUCT
    return Intent.INFORM
