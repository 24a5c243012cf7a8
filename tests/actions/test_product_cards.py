"""A product answer takes the form the shopper's channel shows best (actions/channel.py,
actions/product_cards.py): a sentence and cards where cards render, the numbered list of links
elsewhere; a close match says what it misses in both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.channel import BUTTONS, CAPABILITIES_KEY, CARDS, channel_capabilities, shows_cards
from actions.product_cards import CARDS_TYPE, send_products
from actions.replies import Reply
from catalog.search import ProductHit
from tests.actions.conftest import with_text
from tests.actions.render import fill, template
from web.shopper import CAPABILITIES_KEY as RELAYED_KEY
from web.shopper import SOCKET_CAPABILITIES

WIDGET = {CAPABILITIES_KEY: ["cards", "buttons"]}
INTRO = "Here is what I found for “hoodie”:"
CLOSE_MATCHES = fill(template("utter_close_matches"), {"products": ""})


@pytest.fixture(autouse=True)
def shop_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from actions import catalog_access

    monkeypatch.setenv("SHOPDESK_SHOP_URL", "https://shop.test")
    catalog_access.settings.cache_clear()
    yield
    catalog_access.settings.cache_clear()


def tracker(metadata: Any = None, event_metadata: Any = None) -> Tracker:
    """A tracker whose latest message (and user event) carry the given metadata."""
    latest: dict[str, Any] = {"text": "black hoodie", "intent": {"name": "search_product"}}
    if metadata is not None:
        latest["metadata"] = metadata
    events = [{"event": "user", "text": "black hoodie", "metadata": event_metadata or {}}]
    return Tracker("s", {}, latest, events, False, None, {}, "action_listen")


def hit(sku: str, name: str, price_cents: int, exact: bool = True, **extra: Any) -> ProductHit:
    fields: dict[str, Any] = {
        "id": 1, "sku": sku, "name": name, "price_cents": price_cents,
        "regular_price_cents": price_cents, "currency": "USD", "url_key": sku.lower(),
        "image": None, "rating": 4.5, "review_count": 2, "in_stock": True,
        "colors": ("Black",), "sizes": ("M",), "categories": ("Men/Tops/Hoodies",),
        "score": 1.0, "exact": exact, **extra,
    }  # fmt: skip
    return ProductHit(**fields)


HITS = [
    hit("MH01", "Chaz Kangeroo Hoodie", 5200),
    hit("MH02", "Teton Pullover Hoodie", 5600, exact=False, misses=("$56.00, over your $50.00",)),
]


def answer(metadata: Any, hits: list[ProductHit] = HITS, start: int = 1) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    intro = Reply("utter_search_results", {"query": "hoodie"})
    send_products(dispatcher, tracker(metadata), intro, hits, start=start)
    return [with_text(message) for message in dispatcher.messages]


# ------------------------------------------------------------------ capabilities


def test_capabilities_are_the_known_names_the_message_carries() -> None:
    assert channel_capabilities(tracker(WIDGET)) == {CARDS, BUTTONS}
    assert channel_capabilities(tracker({CAPABILITIES_KEY: ["cards", "hologram"]})) == {CARDS}
    assert shows_cards(tracker(WIDGET)) and not shows_cards(tracker({CAPABILITIES_KEY: []}))


@pytest.mark.parametrize(
    "metadata",
    [None, {}, {CAPABILITIES_KEY: "cards"}, {CAPABILITIES_KEY: {"cards": 1}},
     {CAPABILITIES_KEY: [1, None, ["cards"]]}, {CAPABILITIES_KEY: None}, "cards"],
)  # fmt: skip
def test_a_client_that_says_nothing_usable_is_text_only(metadata: Any) -> None:
    assert channel_capabilities(tracker(metadata)) == frozenset()


def test_the_user_event_is_read_when_the_latest_message_has_no_metadata() -> None:
    assert channel_capabilities(tracker(None, event_metadata=WIDGET)) == {CARDS, BUTTONS}


def test_the_web_server_relays_the_names_the_actions_know() -> None:
    assert RELAYED_KEY == CAPABILITIES_KEY
    assert set(SOCKET_CAPABILITIES) == {CARDS, BUTTONS}


# ------------------------------------------------------------------ the two forms


def test_where_cards_render_the_answer_is_one_sentence_and_the_cards() -> None:
    sentence, cards = answer(WIDGET)
    assert sentence["text"] == INTRO
    assert "https://" not in sentence["text"] and "\n" not in sentence["text"]
    assert "custom" not in sentence or not sentence["custom"]
    assert cards["custom"]["type"] == CARDS_TYPE
    assert [c["sku"] for c in cards["custom"]["products"]] == ["MH01", "MH02"]
    assert not cards.get("text")


def test_a_text_channel_gets_the_numbered_list_then_the_cards_payload() -> None:
    listed, close, cards = answer(None, start=6)
    lines = [*listed["text"].splitlines(), *close["text"].splitlines()]
    assert lines == [
        INTRO,
        "6. Chaz Kangeroo Hoodie — $52.00 — ★4.5 (2) — https://shop.test/mh01.html",
        CLOSE_MATCHES,
        "7. Teton Pullover Hoodie — $56.00 — ★4.5 (2) — $56.00, over your $50.00 — "
        "https://shop.test/mh02.html",
    ]
    assert cards["custom"]["type"] == CARDS_TYPE  # for a REST client that draws cards


def test_a_close_match_card_lists_what_it_misses() -> None:
    _, cards = answer(WIDGET)
    exact, close = cards["custom"]["products"]
    assert exact["exact"] is True and exact["misses"] == []
    assert close["exact"] is False and close["misses"] == ["$56.00, over your $50.00"]
    assert close["image"] is None  # the widget shows its placeholder


def test_nothing_to_show_is_only_the_sentence() -> None:
    for metadata in (WIDGET, None):
        [only] = answer(metadata, hits=[])
        assert only["text"] == INTRO and not only.get("custom")


def test_a_card_links_to_the_page_the_feed_gave_else_the_shop_s_pattern() -> None:
    from actions.product_cards import card, text_line

    own = hit("KC-9", "Cast Iron Teapot", 4800, currency="EUR",
              url="https://kitchen-corner.example/products/cast-iron-teapot")  # fmt: skip
    assert card(own)["url"] == "https://kitchen-corner.example/products/cast-iron-teapot"
    assert card(own)["price"] == "€48.00"
    assert text_line(1, own).startswith("1. Cast Iron Teapot — €48.00")
    assert card(HITS[0])["url"] == "https://shop.test/mh01.html"
    assert card(hit("X", "X", 100, url="javascript:alert(1)"))["url"] == "https://shop.test/x.html"
