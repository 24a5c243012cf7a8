"""What a shopping conversation remembers between turns, kept in Rasa slots.

`search_request` holds the current query (words, filters, category predictions, how many
results were shown), `shown_products` the SKUs of the list the shopper last saw, in order,
and `focused_product` the product "it" refers to. With these, "cheaper", "show more",
"the second one" and "is it waterproof?" all know what they are about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from actions.contract import Entity, Slot
from catalog.pricing import ORDER_RELEVANCE, ORDERS
from catalog.search import SearchFilters, SearchRequest


def entities_of(tracker: Tracker) -> list[dict[str, Any]]:
    return list(tracker.latest_message.get("entities") or [])


def entity_values(tracker: Tracker, name: Entity) -> list[Any]:
    return [e.get("value") for e in entities_of(tracker) if e.get("entity") == name]


def category_scores(tracker: Tracker) -> tuple[tuple[str, float], ...]:
    """The classifier's product categories for this message: ((path, probability), ...)."""
    scored = tracker.latest_message.get("product_category") or []
    return tuple(
        (str(item["name"]), float(item["confidence"]))
        for item in scored
        if isinstance(item, dict) and "name" in item and "confidence" in item
    )


def ordinals(tracker: Tracker) -> list[int]:
    values = []
    for value in entity_values(tracker, Entity.ORDINAL):
        try:
            values.append(int(value))
        except (TypeError, ValueError):
            continue
    return values


@dataclass(frozen=True)
class ShoppingState:
    request: SearchRequest | None
    shown: list[str]
    focus: str | None

    @classmethod
    def of(cls, tracker: Tracker) -> ShoppingState:
        shown = tracker.get_slot(Slot.SHOWN_PRODUCTS)
        focus = tracker.get_slot(Slot.FOCUSED_PRODUCT)
        return cls(
            request=request_from_slot(tracker.get_slot(Slot.SEARCH_REQUEST)),
            shown=[str(sku) for sku in shown] if isinstance(shown, list) else [],
            focus=str(focus) if focus else None,
        )

    def pick(self, position: int) -> str | None:
        """The SKU at a 1-based position of the last list (-1 is the last one)."""
        if position == -1 and self.shown:
            return self.shown[-1]
        if 1 <= position <= len(self.shown):
            return self.shown[position - 1]
        return None


def request_to_slot(request: SearchRequest) -> dict[str, Any]:
    return {
        "text": request.text,
        "filters": request.filters.to_dict(),
        "category_scores": [list(pair) for pair in request.category_scores],
        "offset": request.offset,
        "limit": request.limit,
        "keep": list(request.keep),
        "order": request.order,
        "kinds": list(request.kinds),
    }


def request_from_slot(value: Any) -> SearchRequest | None:
    """The stored request, or None if there is none or it cannot be read (never an error)."""
    if not isinstance(value, dict):
        return None
    try:
        return SearchRequest(
            text=str(value.get("text") or ""),
            filters=SearchFilters.from_dict(dict(value.get("filters") or {})),
            category_scores=tuple(
                (str(path), float(p)) for path, p in value.get("category_scores") or []
            ),
            offset=max(0, int(value.get("offset") or 0)),
            limit=max(1, min(10, int(value.get("limit") or 5))),
            keep=tuple(str(name) for name in value.get("keep") or ()),
            kinds=tuple(str(kind) for kind in value.get("kinds") or ()),
            order=str(value.get("order") or ORDER_RELEVANCE)
            if value.get("order") in ORDERS
            else ORDER_RELEVANCE,
        )
    except (TypeError, ValueError):
        return None


def remember(
    request: SearchRequest, shown: Sequence[str], focus: str | None = None
) -> list[dict[str, Any]]:
    """Slot events after showing `shown` for `request` (offset moved past what was shown)."""
    after = replace(request, offset=request.offset + len(shown))
    if focus is None and len(shown) == 1:
        focus = shown[0]
    return [
        SlotSet(Slot.SEARCH_REQUEST, request_to_slot(after)),
        SlotSet(Slot.SHOWN_PRODUCTS, list(shown)),
        SlotSet(Slot.FOCUSED_PRODUCT, focus),
    ]
