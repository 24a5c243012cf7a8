"""The shopping memory in slots: round trips, positions, and slots that cannot be read."""

from rasa_sdk import Tracker

from actions.contract import Slot
from actions.search_state import (
    ShoppingState,
    category_scores,
    ordinals,
    remember,
    request_from_slot,
    request_to_slot,
)
from catalog.search import SearchFilters, SearchRequest


def tracker(slots=None, **latest) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "s",
            "slots": slots or {},
            "latest_message": {"text": "", "intent": {}, "entities": [], **latest},
            "events": [],
        }
    )


def test_a_request_survives_the_slot_round_trip() -> None:
    request = SearchRequest(
        text="hoodie",
        filters=SearchFilters(
            color="Black", price_max_cents=6000, attributes=(("material", "Wool"),)
        ),
        category_scores=(("Men/Tops/Hoodies & Sweatshirts", 0.9),),
        offset=5,
    )
    assert request_from_slot(request_to_slot(request)) == request


def test_unreadable_slots_mean_no_search() -> None:
    for value in (None, "text", ["a"], {"offset": "x"}, {"filters": {"price_max_cents": "x"}}):
        read = request_from_slot(value)
        assert read is None or isinstance(read.filters, SearchFilters)
    assert request_from_slot({"offset": "x"}) is None
    bounded = request_from_slot({"limit": 500})
    assert bounded is not None and bounded.limit == 10  # whatever the slot says


def test_remember_moves_the_offset_and_focuses_a_single_result() -> None:
    events = remember(SearchRequest("bag", offset=5), ["24-MB01"])
    slots = {e["name"]: e["value"] for e in events}
    assert slots[Slot.SEARCH_REQUEST]["offset"] == 6
    assert slots[Slot.SHOWN_PRODUCTS] == ["24-MB01"] and slots[Slot.FOCUSED_PRODUCT] == "24-MB01"
    several = {e["name"]: e["value"] for e in remember(SearchRequest("bag"), ["A", "B"])}
    assert several[Slot.FOCUSED_PRODUCT] is None


def test_positions_point_into_the_last_list() -> None:
    state = ShoppingState.of(tracker({Slot.SHOWN_PRODUCTS: ["A", "B", "C"]}))
    assert (state.pick(1), state.pick(3), state.pick(-1), state.pick(4)) == ("A", "C", "C", None)
    empty = ShoppingState.of(tracker({Slot.SHOWN_PRODUCTS: "garbage"}))
    assert empty.shown == [] and empty.pick(1) is None


def test_entities_and_categories_are_read_defensively() -> None:
    latest = tracker(
        entities=[{"entity": "ordinal", "value": 2}, {"entity": "ordinal", "value": "x"}],
        product_category=[{"name": "Gear/Bags", "confidence": 0.7}, {"bad": 1}, "junk"],
    )
    assert ordinals(latest) == [2]
    assert category_scores(latest) == (("Gear/Bags", 0.7),)
