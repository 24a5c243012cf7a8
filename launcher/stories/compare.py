"""Comparing one turn of a story with the tracker events Rasa logged for it.

The first contradiction is a `Divergence` (which step, what was expected, what happened),
worded for the person who wrote the story: where a step's slot, loop or reply came instead
when it came elsewhere in the turn, and the classifier's best guess behind an nlu_fallback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from actions.contract import IGNORED_ACTIONS
from launcher.stories.parse import ExpectedEntity, Step, Turn, show

JSON = dict[str, Any]


@dataclass(frozen=True)
class Divergence:
    """The first place where the conversation did not go as the story says."""

    step: int
    kind: str  # intent | entity | action | slot | active_loop | bot | error
    message: str
    user: str
    expected: Any = None
    actual: Any = None
    replies: tuple[str, ...] = ()

    def as_json(self) -> JSON:
        return {
            "step": self.step,
            "kind": self.kind,
            "user": self.user,
            "message": self.message,
            "expected": _jsonable(self.expected),
            "actual": _jsonable(self.actual),
            "replies": list(self.replies),
        }


def turn_events(events: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The events from the (first) user message on: what one turn made Rasa log."""
    for index, event in enumerate(events):
        if event.get("event") == "user":
            return list(events[index:])
    return []


def executed_actions(events: Iterable[Mapping[str, Any]]) -> list[str]:
    return [
        e["name"]
        for e in events
        if e.get("event") == "action" and e.get("name") and e["name"] not in IGNORED_ACTIONS
    ]


def observe_turn(events: Sequence[Mapping[str, Any]], replies: Sequence[str] = ()) -> JSON:
    """What happened in a turn, for the report: intent, entities, actions, slots, replies."""
    user = events[0] if events and events[0].get("event") == "user" else {}
    parse = user.get("parse_data") or {}
    intent = parse.get("intent") or {}
    return {
        "user": user.get("text"),
        "intent": intent.get("name"),
        "confidence": intent.get("confidence"),
        "entities": [
            {k: e.get(k) for k in ("entity", "value", "role", "group") if e.get(k) is not None}
            for e in parse.get("entities") or []
        ],
        "actions": executed_actions(events),
        "slots": [
            {"name": e.get("name"), "value": e.get("value")}
            for e in events
            if e.get("event") == "slot"
        ],
        "active_loops": [
            e.get("name") for e in events if e.get("event") in ("active_loop", "form")
        ],
        "replies": list(replies),
    }


def compare_turn(
    turn: Turn, events: Sequence[Mapping[str, Any]], replies: Sequence[str] = ()
) -> Divergence | None:
    """The first step of `turn` that the tracker `events` of that turn contradict, or None.

    `events` start with the turn's user event (`turn_events`). Actions must match one to one,
    in order; a slot, loop or reply step must be found among the events between the action
    step before it and the action step after it (in any order within that stretch).
    """
    user_text = turn.user.text or ""
    replies = tuple(replies)

    def diverge(step: int, kind: str, message: str, expected: Any, actual: Any) -> Divergence:
        return Divergence(step, kind, message, user_text, expected, actual, replies)

    if not events or events[0].get("event") != "user":
        return diverge(
            turn.user.number, "error", "Rasa logged no user message for this turn", None, None
        )
    parse = events[0].get("parse_data") or {}
    intent = parse.get("intent") or {}
    if turn.user.intent is not None:
        got = _intent_name(parse)
        if got != turn.user.intent:
            return diverge(
                turn.user.number,
                "intent",
                f"expected intent {turn.user.intent}, got {got} ({_confidence(intent)})"
                + _fallback_note(parse),
                turn.user.intent,
                {"name": got, "confidence": intent.get("confidence")},
            )
    found = [e for e in parse.get("entities") or [] if isinstance(e, Mapping)]
    for expected in turn.user.entities:
        if not any(_entity_matches(expected, e) for e in found):
            shown = ", ".join(f"{e.get('entity')}={show(e.get('value'))}" for e in found)
            return diverge(
                turn.user.number,
                "entity",
                f"expected entity {expected.describe()}, got {shown or 'no entities'}",
                expected.describe(),
                [{"entity": e.get("entity"), "value": e.get("value")} for e in found],
            )

    positions = [
        i
        for i, e in enumerate(events)
        if e.get("event") == "action" and e.get("name") and e["name"] not in IGNORED_ACTIONS
    ]
    actual = [str(events[i]["name"]) for i in positions]

    def stretch(k: int) -> Sequence[Mapping[str, Any]]:
        """Events after the k-th action (k=0: after the user message) up to the next action."""
        start = positions[k - 1] + 1 if k > 0 else 1
        end = positions[k] if k < len(positions) else len(events)
        return events[start:end]

    k = 0
    last = turn.user.number
    for step in turn.steps:
        last = step.number
        if step.kind == "action":
            if step.name in IGNORED_ACTIONS:
                continue
            if k >= len(actual):
                after = f"the bot's last action was {actual[-1]}" if actual else "no action ran"
                return diverge(
                    step.number, "action", f"expected action {step.name}, got none ({after})",
                    step.name, None,
                )  # fmt: skip
            if actual[k] != step.name:
                return diverge(
                    step.number, "action", f"expected action {step.name}, got {actual[k]}",
                    step.name, actual[k],
                )  # fmt: skip
            k += 1
            continue
        problem = _check_expectation(step, stretch(k), events[1:], k, actual)
        if problem is not None:
            message, got = problem
            return diverge(step.number, step.kind, message, _expected_of(step), got)
    if k < len(actual):
        return diverge(
            last,
            "action",
            f"expected no further action after step {last}, got {actual[k]}",
            None,
            actual[k],
        )
    return None


def _check_expectation(
    step: Step,
    window: Sequence[Mapping[str, Any]],
    turn: Sequence[Mapping[str, Any]],
    k: int,
    actions: Sequence[str],
) -> tuple[str, Any] | None:
    """None if `step` (slot, active_loop or bot) is met in `window`, else (message, actual)."""
    where = _stretch_name(k, actions)
    if step.kind == "slot":
        values = [e.get("value") for e in window if e.get("event") == "slot" and
                  e.get("name") == step.name]  # fmt: skip
        if step.has_value and any(_same(step.value, v) for v in values):
            return None
        if not step.has_value and any(v is not None for v in values):
            return None
        expected = f"{step.name}={show(step.value)}" if step.has_value else f"{step.name} set"
        elsewhere = _found_elsewhere(
            turn, actions, lambda e: e.get("event") == "slot" and e.get("name") == step.name
        )
        if values:
            got = show(values[-1])
            hint = _quote_hint(step.value, values[-1]) if step.has_value else ""
        elif elsewhere:
            event, place = elsewhere
            got, hint = f"not set {where} (it was set to {show(event.get('value'))} {place})", ""
        else:
            got, hint = "not set", ""
        return f"expected slot {expected}, got {got}{hint}", values[-1] if values else None
    if step.kind == "active_loop":
        loops = [e.get("name") for e in window if e.get("event") in ("active_loop", "form")]
        if step.name in loops:
            return None
        expected = step.name or "null (the loop deactivated)"
        got = ", ".join(str(n) if n else "null" for n in loops) or f"no loop change {where}"
        return f"expected active_loop {expected}, got {got}", loops
    texts = [str(e.get("text")) for e in window if e.get("event") == "bot" and e.get("text")]
    if any(t.strip() == step.text for t in texts):
        return None
    elsewhere = _found_elsewhere(
        turn, actions, lambda e: e.get("event") == "bot" and str(e.get("text")).strip() == step.text
    )
    note = f" (that reply came {elsewhere[1]})" if elsewhere else ""
    got = " | ".join(repr(t) for t in texts) or f"no reply {where}"
    return f"expected reply {step.text!r}, got {got}{note}", texts


def _found_elsewhere(
    turn: Sequence[Mapping[str, Any]],
    actions: Sequence[str],
    wanted: Callable[[Mapping[str, Any]], bool],
) -> tuple[Mapping[str, Any], str] | None:
    """The last event of the turn that `wanted` accepts, and where it came (`after X and
    before Y`), to tell a story whose step is in the wrong place."""
    k = 0
    found: tuple[Mapping[str, Any], str] | None = None
    for event in turn:
        if executed_actions([event]):
            k += 1
        elif wanted(event):
            found = (event, _stretch_name(k, actions))
    return found


def _stretch_name(k: int, actions: Sequence[str]) -> str:
    before = "after the user message" if k == 0 else f"after {actions[k - 1]}"
    return before + (f" and before {actions[k]}" if k < len(actions) else "")


def _expected_of(step: Step) -> Any:
    if step.kind == "slot":
        return {"slot": step.name, **({"value": step.value} if step.has_value else {})}
    if step.kind == "active_loop":
        return step.name
    return step.text


def _intent_name(parse: Mapping[str, Any]) -> str | None:
    intent = parse.get("intent") or {}
    name = intent.get("name")
    full = intent.get("full_retrieval_intent_name")
    return str(full) if full else (str(name) if name is not None else None)


def _confidence(intent: Mapping[str, Any]) -> str:
    value = intent.get("confidence")
    return f"{value:.2f}" if isinstance(value, int | float) else "no confidence"


def _fallback_note(parse: Mapping[str, Any]) -> str:
    """For nlu_fallback: what the classifier's best guess was (FallbackClassifier hides it)."""
    intent = parse.get("intent") or {}
    if intent.get("name") != "nlu_fallback":
        return ""
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"]
    if not ranking:
        return ""
    return f"; the classifier's best was {ranking[0].get('name')} ({_confidence(ranking[0])})"


def _entity_matches(expected: ExpectedEntity, actual: Mapping[str, Any]) -> bool:
    if actual.get("entity") != expected.type:
        return False
    if expected.role is not None and actual.get("role") != expected.role:
        return False
    if expected.group is not None and actual.get("group") != expected.group:
        return False
    return expected.value is None or _same_entity_value(expected.value, actual.get("value"))


def _same_entity_value(expected: Any, actual: Any) -> bool:
    """Annotated values are text: "60" matches 60, "black" matches "Black"."""
    if _same(expected, actual):
        return True
    if isinstance(expected, dict | list) or isinstance(actual, dict | list):
        return False
    left, right = str(expected).strip(), str(actual).strip()
    if left.casefold() == right.casefold():
        return True
    try:
        return float(left) == float(right)
    except ValueError:
        return False


def normalise(value: Any) -> Any:
    """A value as JSON would carry it (tuples → lists, keys → text, sorted keys)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _same(expected: Any, actual: Any) -> bool:
    return _equal(normalise(expected), normalise(actual))


def _equal(left: Any, right: Any) -> bool:
    """JSON equality that keeps true ≠ 1 and "1" ≠ 1, but 1 = 1.0."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return bool(left == right)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_equal(left[k], right[k]) for k in left)
    return type(left) is type(right) and bool(left == right)


def _quote_hint(expected: Any, actual: Any) -> str:
    if isinstance(actual, str) and not isinstance(expected, str) and expected is not None:
        return ' (the story\'s value is not text: quote it in the YAML, e.g. "000000001")'
    return ""


def _jsonable(value: Any) -> Any:
    return normalise(value) if value is not None else None
