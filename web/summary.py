"""The few lines on top of a transcript that let an agent start without reading it all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Product

# Intents that answer the bot rather than ask for something.
NOT_A_REQUEST = frozenset(
    {"greet", "goodbye", "thanks", "affirm", "deny", "inform", "nlu_fallback", "out_of_scope",
     "bot_challenge", "classifier_unavailable"}
)  # fmt: skip
# Slots that are machinery, not facts about the shopper's request.
HIDDEN_SLOTS = frozenset(
    {"requested_slot", "search_request", "shown_products", "session_started_metadata",
     "handoff_status", "verification_failures"}
)  # fmt: skip


def wanted(events: list[dict[str, Any]]) -> list[str]:
    """The shopper's requests in order ("track order", "complaint"), each once."""
    seen: list[str] = []
    for event in events:
        if event.get("event") != "user":
            continue
        name = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if name and name not in NOT_A_REQUEST:
            label = str(name).replace("_", " ")
            if label not in seen:
                seen.append(label)
    return seen


def summarize(session: Session, tracker: dict[str, Any]) -> dict[str, Any]:
    events = list(tracker.get("events") or [])
    slots = {k: v for k, v in (tracker.get("slots") or {}).items() if v not in (None, "", [])}
    shown = [str(sku) for sku in slots.get("shown_products") or []]
    rows = session.execute(select(Product.sku, Product.name).where(Product.sku.in_(shown))).all()
    names = {str(sku): str(name) for sku, name in rows}
    return {
        "wanted": ", then ".join(wanted(events)) or "nothing said yet",
        "order_number": slots.get("verified_order_number") or slots.get("order_number"),
        "products_shown": [names.get(sku, sku) for sku in shown],
        "slots": {
            name: value
            for name, value in slots.items()
            if name not in HIDDEN_SLOTS and isinstance(value, str | int | float | bool)
        },
    }
