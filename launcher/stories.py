"""`python -m launcher stories`: play Rasa test stories against the live stack and compare.

A test story (Rasa 3 YAML, https://rasa.com/docs/rasa/testing-your-assistant) is sent to a
running ShopDesk one `user:` step at a time over the REST channel; after each message the
conversation's events are read from Rasa's HTTP API and compared with the story: the intent
(and entities), the actions that ran, the slots they set, loop changes and the bot's replies.
Unlike `rasa test`, this runs the real action server, classifier and catalog.

Layers, each usable on its own (the unit tests use the first two without a stack):
  parsing     `parse_stories` / `load_stories`: YAML → `Story` (annotations stripped from the
              text that is sent, kept as expected entities)
  comparing   `compare_turn`: one turn's expectations against the tracker events Rasa logged
  playing     `RasaClient`, `play_story`: a fresh sender per story, message by message
  command     `main` / `run`: files, a fresh stack or `--url`, progress, summary, JSON report,
              and `--rasa-test` (Rasa's own `rasa test core --e2e` on the same stories)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import yaml

from launcher.chat import send
from launcher.stack import (
    HOST,
    PRIVATE_UMASK,
    ROOT,
    Stack,
    StackConfig,
    StackError,
    http_ok,
    missing_environments,
    prepare,
    rasa_token_from_env,
)

DEFAULT_STORY_DIR = ROOT / "bot" / "tests"
DEFAULT_RASA_TEST_DIR = ROOT / "var" / "rasa-test"
STORY_LOG_DIR = ROOT / "var" / "logs" / "stories"

# Actions Rasa 3.6 logs on its own around every turn; they are not the bot's behaviour.
# (action_extract_slots runs after every user message but is not logged as an action; its
# slot events come right after the user event, before the first action.)
IGNORED_ACTIONS = frozenset({"action_listen", "action_session_start", "action_extract_slots"})

EXIT_PASSED, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

StepKind = Literal["user", "action", "slot", "active_loop", "bot"]
JSON = dict[str, Any]


class StoryFormatError(ValueError):
    """A story file that cannot be played: the message names the file, story and step."""


class RunnerError(RuntimeError):
    """The stack cannot be reached or started; nothing could be tested."""


# --------------------------------------------------------------------------------------------
# Parsing


# Rasa's own annotation syntax (rasa/shared/nlu/training_data/entities_parser.py):
# [text](type), [text](type:value), [text]{"entity": "type", ...}, [text][{...}, {...}]
ENTITY_ANNOTATION = re.compile(
    r"\[(?P<entity_text>[^\]]+?)\]"
    r"(\((?P<entity>[^:)]+?)(?:\:(?P<value>[^)]+))?\)"
    r"|\{(?P<entity_dict>[^}]+?)\}"
    r"|\[(?P<list_entity_dicts>.*?)\])"
)
SINGLE_ENTITY_DICT = re.compile(r"{(?P<entity_dict>[^}]+?)\}")


@dataclass(frozen=True)
class ExpectedEntity:
    """An entity the classifier must find: `value` None means any value."""

    type: str
    value: Any = None
    role: str | None = None
    group: str | None = None

    def describe(self) -> str:
        text = self.type if self.value is None else f"{self.type}={_show(self.value)}"
        extras = [f"role={self.role}"] * bool(self.role) + [f"group={self.group}"] * bool(
            self.group
        )
        return text + (f" ({', '.join(extras)})" if extras else "")


@dataclass(frozen=True)
class Step:
    """One expectation of a story. `number` is its 1-based position in the story's `steps:`
    (the slots of one `slot_was_set:` step share its number)."""

    number: int
    kind: StepKind
    name: str | None = None  # action, slot or loop name (a loop name None = deactivated)
    text: str | None = None  # user: the message sent; bot: the expected reply
    intent: str | None = None
    entities: tuple[ExpectedEntity, ...] = ()
    value: Any = None  # slot value
    has_value: bool = False  # False: `- slot_name` (set to anything but null)

    def describe(self) -> str:
        if self.kind == "user":
            return f"user {self.text!r}" + (f" ({self.intent})" if self.intent else "")
        if self.kind == "action":
            return f"action {self.name}"
        if self.kind == "slot":
            return f"slot {self.name}" + (f"={_show(self.value)}" if self.has_value else "")
        if self.kind == "active_loop":
            return f"active_loop {self.name or 'null'}"
        return f"bot {self.text!r}"


@dataclass(frozen=True)
class Story:
    name: str
    file: str
    steps: tuple[Step, ...]
    raw: Mapping[str, Any] = field(repr=False, compare=False, default_factory=dict)

    def turns(self) -> list[Turn]:
        """The story cut at each user step; the parser guarantees it starts with one."""
        turns: list[Turn] = []
        for step in self.steps:
            if step.kind == "user":
                turns.append(Turn(step, ()))
            elif turns:
                turns[-1] = Turn(turns[-1].user, (*turns[-1].steps, step))
        return turns


@dataclass(frozen=True)
class Turn:
    user: Step
    steps: tuple[Step, ...]


def strip_annotations(text: str) -> tuple[str, list[ExpectedEntity]]:
    """`"black [hoodie](category)"` → `("black hoodie", [ExpectedEntity("category", "hoodie")])`.

    Raises ValueError for a `{...}` annotation that is not a JSON object with "entity".
    """
    entities: list[ExpectedEntity] = []
    for match in ENTITY_ANNOTATION.finditer(text):
        groups = match.groupdict()
        entity_text = groups["entity_text"]
        if groups["entity"]:
            entities.append(ExpectedEntity(groups["entity"], groups["value"] or entity_text))
        elif groups["entity_dict"]:
            entities.append(_entity_from_dict(entity_text, groups["entity_dict"]))
        else:
            for inner in SINGLE_ENTITY_DICT.finditer(groups["list_entity_dicts"] or ""):
                entities.append(_entity_from_dict(entity_text, inner["entity_dict"]))
    plain = ENTITY_ANNOTATION.sub(lambda m: m["entity_text"], text)
    return plain, entities


def _entity_from_dict(entity_text: str, body: str) -> ExpectedEntity:
    try:
        data = json.loads("{" + body + "}")
    except json.JSONDecodeError as error:
        raise ValueError(f"the annotation [{entity_text}]{{{body}}} is not valid JSON") from error
    if not isinstance(data, dict) or not isinstance(data.get("entity"), str):
        raise ValueError(f'the annotation [{entity_text}]{{{body}}} needs "entity": "<type>"')
    return ExpectedEntity(
        data["entity"], data.get("value", entity_text), data.get("role"), data.get("group")
    )


def _entities_from_list(raw: Any) -> list[ExpectedEntity]:
    """An `entities:` list as Rasa reads it: `- type: value`, `- type` (any value), with
    optional `role:` / `group:` keys next to the type."""
    if not isinstance(raw, list):
        raise ValueError("'entities' must be a list of `- type: value` or `- type` items")
    entities = []
    for item in raw:
        if isinstance(item, str):
            entities.append(ExpectedEntity(item))
        elif isinstance(item, dict) and item:
            others = {k: v for k, v in item.items() if k not in ("role", "group")}
            if len(others) != 1:
                raise ValueError(f"entity {item!r} must name exactly one entity type")
            [(kind, value)] = others.items()
            entities.append(
                ExpectedEntity(str(kind), None if value == "" else value,
                               item.get("role"), item.get("group"))
            )  # fmt: skip
        else:
            raise ValueError(f"entity {item!r} must be `type: value` or a type name")
    return entities


USER_KEYS = frozenset({"user", "intent", "entities", "metadata"})
STEP_KEYS = frozenset({"action", "slot_was_set", "active_loop", "bot"})
STORY_KEYS = frozenset({"story", "steps", "metadata"})
FILE_KEYS = frozenset({"version", "stories"})


def parse_stories(text: str, source: str) -> list[Story]:
    """The stories of one test-story YAML document; StoryFormatError says what is wrong."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise StoryFormatError(f"{source}: not readable YAML{line}: {problem}") from None
    if not isinstance(document, dict) or not isinstance(document.get("stories"), list):
        raise StoryFormatError(f"{source}: expected a 'stories:' list (Rasa 3 test stories)")
    if unknown := sorted(set(document) - FILE_KEYS):
        raise StoryFormatError(
            f"{source}: unsupported top-level key(s) {', '.join(map(repr, unknown))}; "
            "a test-story file holds 'version' and 'stories' only"
        )
    return [_parse_story(item, source, index) for index, item in enumerate(document["stories"])]


def _parse_story(item: Any, source: str, index: int) -> Story:
    if not isinstance(item, dict) or not isinstance(item.get("story"), str) or not item["story"]:
        raise StoryFormatError(f"{source}: story #{index + 1} needs a 'story: <name>' key")
    name = item["story"]
    where = f"{source}: story {name!r}"
    if unknown := sorted(set(item) - STORY_KEYS):
        raise StoryFormatError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}")
    raw_steps = item.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise StoryFormatError(f"{where}: 'steps:' must be a non-empty list")
    steps: list[Step] = []
    for number, raw in enumerate(raw_steps, start=1):
        try:
            steps.extend(_parse_step(raw, number))
        except ValueError as error:
            raise StoryFormatError(f"{where}, step {number}: {error}") from None
    first = next((s for s in steps if not (s.kind == "action" and s.name in IGNORED_ACTIONS)), None)
    if first is None or first.kind != "user":
        raise StoryFormatError(
            f"{where}: must start with a user step (got {first.describe() if first else 'none'})"
        )
    return Story(name, source, tuple(steps), item)


def _parse_step(raw: Any, number: int) -> list[Step]:
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"a step must be a mapping such as `- action: utter_greet`, not {raw!r}")
    keys = set(raw)
    if keys & {"user", "intent"}:
        if unknown := sorted(keys - USER_KEYS):
            raise ValueError(
                f"unknown key(s) {', '.join(map(repr, unknown))} in a user step "
                "(user, intent, entities)"
            )
        return [_parse_user_step(raw, number)]
    kinds = keys - {"metadata"}
    if len(kinds) != 1 or not kinds <= STEP_KEYS:
        unknown = sorted(kinds - STEP_KEYS) or sorted(kinds)
        raise ValueError(
            f"unknown step key(s) {', '.join(map(repr, unknown))}; a step is one of user "
            "(+ intent, entities), action, slot_was_set, active_loop, bot"
            + (" (checkpoints and OR steps are not supported)" if keys & {"checkpoint", "or"}
               else "")
        )  # fmt: skip
    [key] = kinds
    value = raw[key]
    if key == "action":
        if not isinstance(value, str) or not value.strip():
            raise ValueError("'action' must name an action")
        return [Step(number, "action", name=value.strip())]
    if key == "bot":
        if not isinstance(value, str):
            raise ValueError("'bot' must be the expected reply text")
        return [Step(number, "bot", text=value.strip())]
    if key == "active_loop":
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise ValueError("'active_loop' must be a loop (form) name or null")
        return [Step(number, "active_loop", name=value.strip() if value else None)]
    if not isinstance(value, list) or not value:
        raise ValueError("'slot_was_set' must be a list of `- slot: value` or `- slot` items")
    slots: list[Step] = []
    for item in value:
        if isinstance(item, str):
            slots.append(Step(number, "slot", name=item))
        elif isinstance(item, dict) and item:
            slots.extend(
                Step(number, "slot", name=str(k), value=v, has_value=True) for k, v in item.items()
            )
        else:
            raise ValueError(f"slot {item!r} must be `slot: value` or a slot name")
    return slots


def _parse_user_step(raw: Mapping[str, Any], number: int) -> Step:
    intent = raw.get("intent")
    if intent is not None and (not isinstance(intent, str) or not intent.strip()):
        raise ValueError("'intent' must be an intent name")
    intent = intent.strip().removeprefix("/") if intent else None
    entities = _entities_from_list(raw["entities"]) if "entities" in raw else []
    if "user" in raw:
        if not isinstance(raw["user"], str) or not raw["user"].strip():
            raise ValueError("'user' must be the shopper's message text")
        text, annotated = strip_annotations(raw["user"].strip())
        entities = annotated + entities
    else:
        # No text: Rasa's "/intent{entities}" message skips the classifier (as in `rasa test`).
        values = {e.type: e.value for e in entities if e.value is not None}
        text = f"/{intent}" + (json.dumps(values) if values else "")
    return Step(number, "user", text=text, intent=intent, entities=tuple(entities))


def story_files(paths: Sequence[Path]) -> list[Path]:
    """Files as given, and every *.yml / *.yaml under a folder (sorted)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
            files.extend(sorted(found))
        elif path.is_file():
            files.append(path)
        else:
            raise StoryFormatError(f"{_display(path)}: no such file or folder")
    return files


def load_stories(paths: Sequence[Path], names: Sequence[str] = ()) -> list[Story]:
    """All stories of the files (or only those named); StoryFormatError if none or unreadable."""
    files = story_files(paths)
    if not files:
        raise StoryFormatError(f"no story files (*.yml) in {', '.join(_display(p) for p in paths)}")
    stories: list[Story] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise StoryFormatError(f"{_display(path)}: cannot read: {error}") from None
        stories.extend(parse_stories(text, _display(path)))
    if names:
        if missing := [n for n in names if n not in {s.name for s in stories}]:
            raise StoryFormatError(f"no story named {', '.join(map(repr, missing))}")
        stories = [s for s in stories if s.name in names]
    if not stories:
        raise StoryFormatError("the story files hold no stories")
    return stories


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# Comparing


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
            shown = ", ".join(f"{e.get('entity')}={_show(e.get('value'))}" for e in found)
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
        expected = f"{step.name}={_show(step.value)}" if step.has_value else f"{step.name} set"
        elsewhere = _found_elsewhere(
            turn, actions, lambda e: e.get("event") == "slot" and e.get("name") == step.name
        )
        if values:
            got = _show(values[-1])
            hint = _quote_hint(step.value, values[-1]) if step.has_value else ""
        elif elsewhere:
            event, place = elsewhere
            got, hint = f"not set {where} (it was set to {_show(event.get('value'))} {place})", ""
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


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)


def _jsonable(value: Any) -> Any:
    return normalise(value) if value is not None else None


# --------------------------------------------------------------------------------------------
# Playing


class RasaClient:
    """The REST channel and the HTTP API (tracker, status) of one Rasa server."""

    def __init__(self, url: str, token: str, timeout_s: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    @property
    def chat_url(self) -> str:
        return f"{self.url}/webhooks/rest/webhook"

    def _api(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        params = urllib.parse.urlencode({**(query or {}), "token": self.token})
        request = urllib.request.Request(f"{self.url}{path}?{params}", method="GET")
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            return json.loads(response.read().decode("utf-8"))

    def check(self) -> None:
        """RunnerError unless Rasa answers, serves its HTTP API and accepts the token."""
        try:
            self._api("/status")
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                raise RunnerError(
                    f"Rasa at {self.url} refused the API token ({mask(self.token)}): pass the "
                    "token it was started with in SHOPDESK_RASA_TOKEN"
                ) from None
            if error.code == 404:
                raise RunnerError(
                    f"Rasa at {self.url} does not serve its HTTP API: start it with "
                    "--enable-api and a token (the launcher does)"
                ) from None
            raise RunnerError(f"Rasa at {self.url} answered {error.code} to /status") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            raise RunnerError(f"cannot reach Rasa at {self.url}: {reason}") from None

    def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        return send(self.chat_url, sender, text, timeout=self.timeout_s, tester_token=self.token)

    def events(self, sender: str) -> list[dict[str, Any]]:
        tracker = self._api(
            f"/conversations/{urllib.parse.quote(sender, safe='')}/tracker",
            {"include_events": "ALL"},
        )
        events = tracker.get("events") if isinstance(tracker, dict) else None
        return [e for e in events or [] if isinstance(e, dict)]


TOKEN_HELP = (
    "not taken: a command line is visible to every user of the machine; give Rasa's HTTP "
    "API token for --url in SHOPDESK_RASA_TOKEN"
)


class _RefuseToken(argparse.Action):
    """`--token SECRET` is refused without repeating the secret in the error."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        parser.error(f"--token is {TOKEN_HELP}")


def mask(token: str) -> str:
    return f"{token[:3]}…" if len(token) > 6 else "…"


def reply_texts(replies: Sequence[Mapping[str, Any]]) -> list[str]:
    """The REST channel's replies as lines: texts, and a tag for anything else."""
    shown = []
    for reply in replies:
        if reply.get("text"):
            shown.append(str(reply["text"]))
        elif isinstance(reply.get("custom"), Mapping):
            shown.append(f"[custom payload {reply['custom'].get('type', '')}]".replace(" ]", "]"))
        elif reply.get("image"):
            shown.append(f"[image {reply['image']}]")
        else:
            shown.append(f"[{', '.join(k for k in reply if k != 'recipient_id')}]")
    return shown


@dataclass
class StoryResult:
    story: Story
    sender: str
    turns: list[JSON]
    failure: Divergence | None
    duration_s: float

    @property
    def passed(self) -> bool:
        return self.failure is None

    def as_json(self) -> JSON:
        return {
            "story": self.story.name,
            "file": self.story.file,
            "status": "PASS" if self.passed else "FAIL",
            "sender": self.sender,
            "duration_s": round(self.duration_s, 3),
            "turns": self.turns,
            "failure": self.failure.as_json() if self.failure else None,
        }


def play_story(story: Story, client: RasaClient) -> StoryResult:
    """Send the story's user messages under a fresh sender id; stop at the first divergence."""
    sender = f"story-{secrets.token_hex(8)}"
    started = time.monotonic()
    turns: list[JSON] = []
    seen = 0
    failure: Divergence | None = None
    for turn in story.turns():
        text = turn.user.text or ""
        try:
            replies = reply_texts(client.send(sender, text))
            all_events = client.events(sender)
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", error)
            failure = Divergence(
                turn.user.number, "error", f"the stack did not answer: {reason}", text
            )
            break
        events = turn_events(all_events[seen:])
        seen = len(all_events)
        turns.append({"step": turn.user.number, **observe_turn(events, replies)})
        failure = compare_turn(turn, events, replies)
        if failure is not None:
            break
    return StoryResult(story, sender, turns, failure, time.monotonic() - started)


# --------------------------------------------------------------------------------------------
# The command


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="test-story YAML files or folders (default: every *.yml under bot/tests/)",
    )
    parser.add_argument(
        "--url",
        help="play against this already running Rasa (e.g. http://127.0.0.1:5005) instead of "
        "starting a fresh stack; it must run with --enable-api (the launcher starts it so)",
    )
    parser.add_argument(  # refused: others read a command line in `ps`
        "--token", nargs="?", action=_RefuseToken, default=argparse.SUPPRESS, help=TOKEN_HELP
    )
    parser.add_argument(
        "--report", type=Path, metavar="FILE", help="also write every result as JSON to FILE"
    )
    parser.add_argument(
        "--story",
        action="append",
        default=[],
        metavar="NAME",
        help="play only the story with this name (repeatable)",
    )
    parser.add_argument(
        "--rasa-test",
        action="store_true",
        help="also run Rasa's own `rasa test core --e2e` on the same stories (model in "
        "models/rasa, classifier running; results in var/rasa-test/; see docs/testing.md for "
        "what it cannot check); its verdict does not change the exit status",
    )


DESCRIPTION = """\
Play Rasa 3 test stories (stories: / story: / steps: with user + intent, entities, action,
slot_was_set, active_loop, bot) against the live ShopDesk stack and compare, per user turn,
the intent and entities, the actions that ran (in order), the slots they set, loop changes
and the bot's replies. Each story gets a fresh conversation.

Without --url a fresh stack is started (free ports, an empty tracker and a freshly loaded
SQLite catalog, so stories that change orders are repeatable; models are trained if stale,
as `make run` does) and stopped at the end; its logs are in var/logs/stories/.

Exit status: 0 all stories passed, 1 a story failed, 2 bad input (unreadable YAML, unknown
step keys, no stories) or the stack could not be started or reached. See docs/testing.md."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m launcher stories",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The command's entry point (`python -m launcher stories ...`); returns the exit status."""
    return run(build_parser().parse_args(argv))


def run(args: argparse.Namespace) -> int:
    if not args.paths and not DEFAULT_STORY_DIR.is_dir():
        return _fail(
            f"no story files given and {_display(DEFAULT_STORY_DIR)}/ does not exist: pass "
            "story files or folders, or put them there (docs/testing.md)"
        )
    try:
        stories = load_stories(args.paths or [DEFAULT_STORY_DIR], args.story)
    except StoryFormatError as error:
        return _fail(str(error))
    print(f"{len(stories)} stor{'y' if len(stories) == 1 else 'ies'} from "
          f"{len({s.file for s in stories})} file(s)", flush=True)  # fmt: skip
    started_at = datetime.now(UTC)
    started = time.monotonic()
    try:
        with _target(args) as (client, config):
            print(f"==> playing stories against {client.url}", flush=True)
            results = [_play_and_print(story, client) for story in stories]
            rasa_test = _maybe_rasa_test(args, stories, config)
    except (RunnerError, StackError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
        return EXIT_INTERRUPTED
    failed = [r for r in results if not r.passed]
    if failed:
        print("\nFailures:")
        for result in failed:
            print(_failure_details(result))
    passed = len(results) - len(failed)
    print(f"\nstories: {passed} passed, {len(failed)} failed, {len(results)} total", flush=True)
    if args.report:
        report = {
            "target": args.url.rstrip("/") if args.url else "fresh stack",
            "started_at": started_at.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - started, 2),
            "files": sorted({s.file for s in stories}),
            "summary": {"passed": passed, "failed": len(failed), "total": len(results)},
            "stories": [r.as_json() for r in results],
            "rasa_test": rasa_test,
        }
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        print(f"report: {args.report}")
    return EXIT_FAILED if failed else EXIT_PASSED


def _fail(message: str) -> int:
    print(f"shopdesk stories: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _play_and_print(story: Story, client: RasaClient) -> StoryResult:
    result = play_story(story, client)
    turns = len(result.turns)
    if result.failure is None:
        print(f"PASS  {story.name}  ({story.file}, {turns} turn{'s' * (turns != 1)}, "
              f"{result.duration_s:.1f}s)", flush=True)  # fmt: skip
    else:
        print(f"FAIL  {story.name}  ({story.file}) step {result.failure.step}: "
              f"{result.failure.message}", flush=True)  # fmt: skip
    return result


def _failure_details(result: StoryResult) -> str:
    failure = result.failure
    assert failure is not None
    lines = [
        f"- {result.story.name} ({result.story.file}), step {failure.step}, user: {failure.user!r}",
        f"    {failure.message}",
    ]
    lines += [f"    bot replied: {r!r}" for r in failure.replies] or ["    bot replied nothing"]
    lines.append(f"    conversation: {result.sender}")
    return "\n".join(lines)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def fresh_config(work: Path, log_dir: Path | None = None) -> StackConfig:
    """A stack of its own: free ports, a temporary tracker and catalog (as tests/e2e does);
    logs in `log_dir` (default var/logs/stories/)."""
    return StackConfig(
        rasa_port=free_port(),
        actions_port=free_port(),
        nlu_port=free_port(),
        web_port=free_port(),
        log_dir=log_dir or STORY_LOG_DIR,
        tracker_db=work / "tracker.sqlite3",
        # An empty URL makes the catalog use SHOPDESK_DB_PATH even if the shell sets one.
        extra_env={"SHOPDESK_DB_PATH": str(work / "shop.sqlite3"), "SHOPDESK_DATABASE_URL": ""},
        rasa_token=rasa_token_from_env(),
    )


@contextmanager
def _target(args: argparse.Namespace) -> Iterator[tuple[RasaClient, StackConfig]]:
    """A client for --url, or for a fresh stack that is stopped afterwards."""
    if args.url:
        token = os.environ.get("SHOPDESK_RASA_TOKEN", "").strip()
        if not token:
            raise RunnerError(
                "--url needs Rasa's API token in SHOPDESK_RASA_TOKEN (start the stack with "
                "SHOPDESK_RASA_TOKEN set to choose it)"
            )
        client = RasaClient(args.url, token)
        client.check()
        # For --rasa-test: the classifier of that stack (SHOPDESK_NLU_URL, else the port).
        config = StackConfig.from_env()
        if nlu_url := os.environ.get("SHOPDESK_NLU_URL"):
            config = replace(config, extra_env={**config.extra_env, "SHOPDESK_NLU_URL": nlu_url})
        yield client, config
        return
    with tempfile.TemporaryDirectory(prefix="shopdesk-stories-") as work:
        config = fresh_config(Path(work))
        if missing := missing_environments(config):
            raise RunnerError("missing " + ", ".join(missing))
        for name in ("classifier", "actions", "rasa", "web"):
            (config.log_dir / f"{name}.log").unlink(missing_ok=True)
        stack = Stack(config)
        previous = _stop_on_sigterm()
        try:
            prepare(config)
            ready = stack.start()
            print(f"==> stack up ({', '.join(f'{n} {s:.1f}s' for n, s in ready.items())}); "
                  f"logs in {_display(config.log_dir)}", flush=True)  # fmt: skip
            client = RasaClient(config.rasa_url, config.rasa_token)
            client.check()
            yield client, config
        finally:
            stack.stop()
            _restore_sigterm(previous)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm() -> Any:
    """SIGTERM stops the stack like Ctrl-C (only the main thread may set handlers)."""
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except ValueError:
        return None


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------------------------
# rasa test


# The lines of Rasa's log that hold its verdict (rasa/core/test.py `_log_evaluation_table`).
SUMMARY_LINE = re.compile(
    r"rasa\.core\.test\s+-\s+(Evaluating \d+ stories|Evaluation Results on|\s*(Correct|Accuracy"
    r"|F1-Score|Precision|In-data fraction):)"
)


def _maybe_rasa_test(
    args: argparse.Namespace, stories: Sequence[Story], config: StackConfig
) -> JSON | None:
    if not args.rasa_test:
        return None
    print("==> rasa test core --e2e on the same stories", flush=True)
    nlu_url = config.env()["SHOPDESK_NLU_URL"].rstrip("/")
    if not http_ok(f"{nlu_url}/health"):
        print(
            f"    skipped: the classifier at {nlu_url} is not healthy (set SHOPDESK_NLU_URL to "
            "the running one); Rasa would read every message as classifier_unavailable",
            flush=True,
        )
        return {"skipped": f"classifier at {nlu_url} not healthy"}
    result = run_rasa_test(stories, config, bool(args.story))
    for line in result["summary"]:
        print(f"    {line}")
    evaluated = (result.get("conversation_accuracy") or {}).get("total")
    if isinstance(evaluated, int) and evaluated < len(stories):
        print(
            f"    rasa test evaluated {evaluated} of {len(stories)} stories: it keeps one of "
            "stories with the same intents, entity types, actions and featurized slots"
        )
    if result["failed_stories"]:
        print(f"    failed under rasa test: {'; '.join(result['failed_stories'])}")
    if result["exit_code"] != 0:
        print("    rasa test failed; the end of its log:")
        print("\n".join(f"      {line}" for line in result["log_tail"]))
    print(f"    rasa test: exit {result['exit_code']}; files in {result['out_dir']}", flush=True)
    return result


def run_rasa_test(
    stories: Sequence[Story],
    config: StackConfig,
    filtered: bool,
    out_dir: Path | None = None,
) -> JSON:
    """Rasa's own evaluation of the stories (`rasa test core --e2e`, the core half of `rasa
    test`): predictions only, no action server. The classifier at `config.nlu_url` must run.

    Rasa reads conversation tests only from files named test_*.yml, so the stories are copied
    there (or, with --story, only the chosen ones written out).
    """
    out_dir = out_dir or DEFAULT_RASA_TEST_DIR
    story_dir = out_dir / "stories"
    results_dir = out_dir / "results"
    for folder in (story_dir, results_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    files = sorted({s.file for s in stories})
    for index, name in enumerate(files, start=1):
        source = Path(name) if Path(name).is_absolute() else ROOT / name
        target = story_dir / f"test_{index:02d}_{source.stem}.yml"
        if filtered:
            chosen = [dict(s.raw) for s in stories if s.file == name]
            target.write_text(yaml.safe_dump({"version": "3.1", "stories": chosen},
                                             sort_keys=False, allow_unicode=True))  # fmt: skip
        else:
            shutil.copyfile(source, target)
    command = [
        str(config.rasa_venv / "bin" / "rasa"),
        "test",
        "core",
        "--e2e",
        "--stories",
        str(story_dir),
        "--model",
        str(config.rasa_model_dir),
        "--out",
        str(results_dir),
        "--no-plot",
        "--successes",
    ]
    log_path = out_dir / "rasa-test.log"
    with log_path.open("wb") as log:
        completed = subprocess.run(
            command, cwd=ROOT, env=config.env("rasa"), stdout=log, stderr=subprocess.STDOUT,
            umask=PRIVATE_UMASK, check=False,
        )  # fmt: skip
    output = log_path.read_text(errors="replace").splitlines()
    summary = rasa_test_summary(output)
    report_path = results_dir / "story_report.json"
    conversation = None
    if report_path.exists():
        try:
            conversation = json.loads(report_path.read_text()).get("conversation_accuracy")
        except (ValueError, AttributeError):
            conversation = None
    return {
        "command": " ".join(["rasa", *command[1:]]).replace(str(ROOT) + "/", ""),
        "exit_code": completed.returncode,
        "out_dir": _display(out_dir),
        "log": _display(log_path),
        "summary": summary,
        "conversation_accuracy": conversation,
        "log_tail": output[-15:] if completed.returncode != 0 else [],
        "failed_stories": rasa_test_story_names(results_dir / "failed_test_stories.yml"),
        "passed_stories": rasa_test_story_names(results_dir / "successful_test_stories.yml"),
    }


def rasa_test_summary(log_lines: Iterable[str]) -> list[str]:
    """`2024-… INFO  rasa.core.test  - \tCorrect:   1 / 2` → `Correct: 1 / 2`, for each line
    of Rasa's verdict."""
    return [
        re.sub(r"\s+", " ", line.split(" - ", 1)[1]).strip()
        for line in log_lines
        if SUMMARY_LINE.search(line)
    ]


def rasa_test_story_names(path: Path) -> list[str]:
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return []
    items = document.get("stories") if isinstance(document, dict) else None
    # Rasa appends " (<file>)" to each story's name.
    return [
        re.sub(r" \([^()]*\)$", "", str(s.get("story"))) for s in items or [] if isinstance(s, dict)
    ]


if __name__ == "__main__":
    sys.exit(main())
