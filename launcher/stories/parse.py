"""Reading Rasa 3 test stories: YAML → `Story`, one `Step` per expectation.

Annotations (`[hoodie](category)`) are stripped from the text that is sent and kept as the
entities the classifier must find, as `rasa test` reads them. Needs no stack: the unit tests
and `learning` (which writes stories from agents' corrections) use it on its own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from actions.contract import IGNORED_ACTIONS
from core.paths import PROJECT_ROOT

StepKind = Literal["user", "action", "slot", "active_loop", "bot"]


class StoryFormatError(ValueError):
    """A story file that cannot be played: the message names the file, story and step."""


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
        text = self.type if self.value is None else f"{self.type}={show(self.value)}"
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
            return f"slot {self.name}" + (f"={show(self.value)}" if self.has_value else "")
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
            raise StoryFormatError(f"{display(path)}: no such file or folder")
    return files


def load_stories(paths: Sequence[Path], names: Sequence[str] = ()) -> list[Story]:
    """All stories of the files (or only those named); StoryFormatError if none or unreadable."""
    files = story_files(paths)
    if not files:
        raise StoryFormatError(f"no story files (*.yml) in {', '.join(display(p) for p in paths)}")
    stories: list[Story] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise StoryFormatError(f"{display(path)}: cannot read: {error}") from None
        stories.extend(parse_stories(text, display(path)))
    if names:
        if missing := [n for n in names if n not in {s.name for s in stories}]:
            raise StoryFormatError(f"no story named {', '.join(map(repr, missing))}")
        stories = [s for s in stories if s.name in names]
    if not stories:
        raise StoryFormatError("the story files hold no stories")
    return stories


def display(path: Path) -> str:
    """`path` relative to the repository's root when it is inside it (shorter messages)."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def show(value: Any) -> str:
    """A value as a story or a message shows it: text quoted, anything else as JSON."""
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
