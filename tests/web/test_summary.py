"""The summary on top of a transcript: what the shopper wanted, the order, the products."""

from __future__ import annotations

from sqlalchemy.orm import Session

from catalog.db import session_scope
from web.summary import summarize


def user(intent: str, text: str = "…") -> dict[str, object]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def test_requests_in_order_the_verified_order_and_product_names(luma_db_url: str) -> None:
    tracker = {
        "events": [user("greet"), user("track_order"), user("inform"), user("complaint"),
                   user("track_order"), user("contact_human_agent")],
        "slots": {"order_number": "000000101", "verified_order_number": "000000101",
                  "shown_products": ["MH01", "NOT-A-SKU"], "requested_slot": None,
                  "search_request": {"text": "hoodie"}, "email": "a@example.com"},
    }  # fmt: skip
    with session_scope(luma_db_url) as session:
        summary = summarize(session, tracker)
    assert summary["wanted"] == "track order, then complaint, then contact human agent"
    assert summary["order_number"] == "000000101"
    assert summary["products_shown"] == ["Chaz Kangeroo Hoodie", "NOT-A-SKU"]
    assert summary["slots"] == {
        "order_number": "000000101", "verified_order_number": "000000101", "email": "a@example.com"
    }  # fmt: skip


def test_an_empty_conversation(luma_db_url: str) -> None:
    session: Session
    with session_scope(luma_db_url) as session:
        assert summarize(session, {"events": [], "slots": {}})["wanted"] == "nothing said yet"
