from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.orders import ASK_NUMBER_TEXT, ActionOrderStatus


def test_tells_the_status_of_a_known_order(catalog_env, tracker_from) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionOrderStatus().run(dispatcher, tracker_from("track_order_with_number"), {})
    assert dispatcher.messages[0]["text"] == (
        "Your order 000000001 has been paid and is being prepared; it has not shipped yet. "
        "It contains 1 × Iris Workout Top."
    )
    assert events == [SlotSet("order_number", "000000001")]


def test_asks_for_the_number_when_there_is_none(catalog_env, tracker_from) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionOrderStatus().run(dispatcher, tracker_from("track_order_without_number"), {})
    assert dispatcher.messages[0]["text"] == ASK_NUMBER_TEXT
    assert events == []


def test_unknown_order_number(catalog_env, tracker_from) -> None:
    dispatcher = CollectingDispatcher()
    tracker = tracker_from(
        "track_order_with_number",
        entities=[{"entity": "order_number", "value": "123456789", "start": 0, "end": 9}],
    )
    events = ActionOrderStatus().run(dispatcher, tracker, {})
    assert "couldn't find an order with the number 123456789" in dispatcher.messages[0]["text"]
    assert events == [SlotSet("order_number", None)]
