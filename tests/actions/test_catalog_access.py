"""One answer when the shop's records cannot be read, wherever an action reads them."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import OperationalError

from actions.catalog_access import UNAVAILABLE_RESPONSE, apologise_if_catalog_down
from actions.forms import leaves_form
from tests.actions.render import render, template


class Reader:
    """An action whose `run` reads the catalog and fails as `failure` says."""

    def __init__(self, failure: Exception | None) -> None:
        self.failure = failure

    def name(self) -> str:
        return "reader"

    @apologise_if_catalog_down
    def run(
        self, dispatcher: CollectingDispatcher, tracker: Any, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Reads the catalog."""
        if self.failure is not None:
            raise self.failure
        dispatcher.utter_message(response="utter_no_human")
        return [{"event": "slot", "name": "x", "value": 1}]


def test_a_database_error_becomes_the_polite_answer() -> None:
    dispatcher = CollectingDispatcher()
    down = OperationalError("SELECT 1", {}, Exception("connection refused"))
    assert Reader(down).run(dispatcher, None, {}) == []
    [message] = dispatcher.messages
    assert message["response"] == UNAVAILABLE_RESPONSE
    assert render(message) == template("utter_catalog_unavailable")


def test_an_answer_and_other_errors_pass_through() -> None:
    dispatcher = CollectingDispatcher()
    assert Reader(None).run(dispatcher, None, {}) == [{"event": "slot", "name": "x", "value": 1}]
    assert [m["response"] for m in dispatcher.messages] == ["utter_no_human"]
    assert Reader.run.__doc__ == "Reads the catalog."
    with pytest.raises(KeyError):
        Reader(KeyError("a bug, not an outage")).run(CollectingDispatcher(), None, {})


def test_a_form_is_kept_while_the_catalog_is_down(tracker_from) -> None:
    """`leaves_form` ends an active form after an answer, not after the apology."""

    @leaves_form
    class FormLeaver(Reader):
        pass

    tracker = tracker_from("order_form")
    tracker.active_loop = {"name": "track_order_form"}
    down = OperationalError("SELECT 1", {}, Exception("connection refused"))
    assert FormLeaver(down).run(CollectingDispatcher(), tracker, {}) == []
    answered = FormLeaver(None).run(CollectingDispatcher(), tracker, {})
    assert answered[0]["event"] == "active_loop" and answered[0]["name"] is None
