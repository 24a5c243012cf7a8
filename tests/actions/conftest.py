import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from tests.actions.render import render

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def tracker_from() -> Callable[..., Tracker]:
    """A tracker from a JSON fixture, with slots and the latest message's fields replaced."""

    def load(name: str, slots: dict[str, Any] | None = None, **latest: object) -> Tracker:
        state = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        state["slots"].update(slots or {})
        state["latest_message"].update(latest)
        return Tracker.from_dict(state)

    return load


def with_text(message: dict[str, Any], slots: dict[str, Any] | None = None) -> dict[str, Any]:
    """A dispatcher message with the `text` the shopper reads: a response rendered from the
    domain as Rasa renders it (tests/actions/render.py)."""
    if not message.get("response"):
        return message
    return {**message, "text": render(message, slots)}


class Chat:
    """A shopper's conversation replayed through the actions, as Rasa would run it: each
    message gets the real entity extractor's entities, its responses are rendered from the
    domain, and slot events carry over."""

    def __init__(self, tracker_from: Callable[..., Tracker], vocabulary: Any) -> None:
        self.tracker_from = tracker_from
        self.vocabulary = vocabulary
        self.slots: dict[str, Any] = {}

    def say(
        self,
        action: Action,
        text: str,
        intent: str,
        categories: list[dict[str, Any]] | None = None,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        from nlu_models.entities import extract_entities

        tracker = self.tracker_from(
            "shopping",
            slots=self.slots,
            text=text,
            intent={"name": intent, "confidence": 0.97},
            entities=list(extract_entities(text, self.vocabulary)),
            product_category=categories or [],
        )
        dispatcher = CollectingDispatcher()
        events = action.run(dispatcher, tracker, {})
        said = [with_text(message, self.slots) for message in dispatcher.messages]
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        return said, events


@pytest.fixture
def chat(catalog_env: str, tracker_from: Callable[..., Tracker]) -> Chat:
    from catalog.db import session_scope
    from nlu_models.vocabulary import build_vocabulary

    with session_scope(catalog_env) as session:
        vocabulary = build_vocabulary(session)
    return Chat(tracker_from, vocabulary)


@pytest.fixture
def order_book_env(
    luma_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A writable copy of the Luma catalog with the demo order book, for actions that change
    orders; the showcase orders (catalog/demo/order_book.py) are the ones the tests use."""
    import sqlite3
    from datetime import date

    from actions import catalog_access
    from catalog.db import session_scope
    from catalog.demo.order_book import generate_order_book
    from catalog.policies import policies

    copy = tmp_path / "shop.sqlite3"
    # SQLite's backup API: a file copy could miss pages still in the write-ahead log
    with (
        sqlite3.connect(luma_db_url.removeprefix("sqlite:///")) as source,
        sqlite3.connect(copy) as target,
    ):
        source.backup(target)
    url = f"sqlite:///{copy}"
    with session_scope(url) as session:
        generate_order_book(session, today=date.today())
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", url)
    monkeypatch.setenv("SHOPDESK_SHOP_URL", "https://shop.test")
    catalog_access.settings.cache_clear()
    policies.cache_clear()
    yield url
    catalog_access.settings.cache_clear()
    policies.cache_clear()


# Issue 21 (business hours): a handoff's reply depends on the shop's support hours, so the
# actions' tests run at a fixed moment inside the shipped shop.yml's hours (a Wednesday, 10:00
# in Los Angeles) unless a test sets its own (tests/actions/test_handoff_hours.py).
SUPPORT_IN: Final = datetime(2026, 12, 9, 18, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def support_is_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("actions.handoff.utc_now", lambda: SUPPORT_IN)
