"""What an action says, as a response of bot/domain.yml and the variables that fill it.

The wording lives in the domain, so a shop edits text without touching Python and a
translation swaps the responses; the action only decides which response and with what data
(names, prices, pages). Rasa fills `{variable}` in the response's text from the variables the
action passes to `dispatcher.utter_message(response=..., variable=value)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk.executor import CollectingDispatcher


@dataclass(frozen=True)
class Reply:
    """A response of bot/domain.yml and its variables, decided now and sent later (an intro
    that a product list follows, one of several answers a helper chooses between)."""

    response: str
    variables: Mapping[str, Any] = field(default_factory=dict)

    def send(self, dispatcher: CollectingDispatcher, **more: Any) -> None:
        """Utter the response; `more` adds variables or rasa_sdk's own fields (buttons)."""
        dispatcher.utter_message(response=self.response, **{**self.variables, **more})
