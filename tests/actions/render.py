"""Render what an action sent the way Rasa's NLG does, so unit tests read the shopper's words.

Actions send `dispatcher.utter_message(response="utter_x", var=value)`; Rasa fills the
response's first variant from bot/domain.yml with the tracker's slots and the message's
variables (rasa/core/nlg/interpolator.py: `{name}` becomes `{0[name]}`, then `str.format`).
A message with `text=` (none should be left in the actions) renders as that text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import yaml

from core.paths import DOMAIN_FILE

# The keys rasa_sdk's CollectingDispatcher.utter_message always writes; the rest are variables.
MESSAGE_KEYS = frozenset(
    {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
)
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


@cache
def domain() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    return loaded


def responses() -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = domain().get("responses") or {}
    return found


def template(name: str) -> str:
    """The text of response `name`'s first variant (KeyError if the domain lacks it)."""
    return str(responses()[name][0]["text"])


def placeholders(name: str) -> set[str]:
    """The `{variables}` response `name` needs, over all its variants."""
    return {
        found
        for variant in responses()[name]
        for found in PLACEHOLDER.findall(str(variant.get("text", "")))
    }


def variables(message: Mapping[str, Any]) -> dict[str, Any]:
    """The variables an action passed with its response (`utter_message(response=..., **vars)`)."""
    return {key: value for key, value in message.items() if key not in MESSAGE_KEYS}


def fill(text: str, values: Mapping[str, Any]) -> str:
    """Rasa's interpolation; a missing variable raises instead of leaving `{name}` behind."""
    return PLACEHOLDER.sub(r"{0[\1]}", text).format(dict(values))


def render(message: Mapping[str, Any], slots: Mapping[str, Any] | None = None) -> str:
    """The text the shopper reads for one dispatcher message. A variable the response does
    not use fails the test as a missing one does: both mean the code and the domain drifted."""
    name = message.get("response")
    if not name:
        return str(message.get("text") or "")
    passed = variables(message)
    unused = set(passed) - placeholders(str(name))
    if unused:
        raise AssertionError(f"{name} does not use the variables {sorted(unused)}")
    return fill(template(str(name)), {**(slots or {}), **passed})


def texts(messages: list[dict[str, Any]], slots: Mapping[str, Any] | None = None) -> list[str]:
    return [render(message, slots) for message in messages]
