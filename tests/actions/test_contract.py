"""The bot's contract holds both ways: every name Python uses is declared in bot/domain.yml,
and everything the domain declares is known to Python (actions/contract.py) and served by the
action server. A drift here is a silently empty slot, an action Rasa cannot call, or a reply
Rasa renders as its own name."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import ActionExecutor

from actions import contract
from core.paths import PROJECT_ROOT
from tests.actions.render import MESSAGE_KEYS, domain, placeholders, responses

ACTIONS_DIR = PROJECT_ROOT / "actions"
RESPONSE_NAME = re.compile(r"utter_[a-z0-9_]+")
# Domain section -> the contract's enum of its names.
SECTIONS: dict[str, type[StrEnum]] = {
    "intents": contract.Intent,
    "entities": contract.Entity,
    "slots": contract.Slot,
    "forms": contract.Form,
    "actions": contract.Action,
}


def declared(section: str) -> set[str]:
    """The names a section of the domain declares (a list, or a mapping keyed by name)."""
    entries = domain().get(section) or []
    names: set[str] = set()
    for entry in entries:
        names.update(entry if isinstance(entry, dict) else [entry])
    return names


def action_modules() -> list[Path]:
    return sorted(ACTIONS_DIR.glob("*.py"))


@cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def string_constants(path: Path) -> Iterator[tuple[str, int]]:
    """Every string literal of a module, with its line."""
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value, node.lineno


def response_names_in_code() -> dict[str, str]:
    """Every string in actions/*.py that is a response name -> where it is."""
    found: dict[str, str] = {}
    for path in action_modules():
        for text, line in string_constants(path):
            if RESPONSE_NAME.fullmatch(text):
                found.setdefault(text, f"{path.name}:{line}")
    return found


def utter_calls() -> Iterator[tuple[str, ast.Call, dict[str, list[str]]]]:
    """`dispatcher.utter_message(...)` calls in actions/*.py, where each is, and the module's
    constants of response names (`module_names`)."""
    for path in action_modules():
        constants = module_names(path)
        for node in ast.walk(parsed(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "utter_message"
            ):
                yield f"{path.name}:{node.lineno}", node, constants


def module_names(path: Path) -> dict[str, list[str]]:
    """Module-level `NAME = "utter_x"` and `NAME = {key: "utter_x", ...}`: the names each holds."""
    found: dict[str, list[str]] = {}
    for statement in parsed(path).body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        parts = value.values if isinstance(value, ast.Dict) else [value]
        names = [p.value for p in parts if isinstance(p, ast.Constant) and isinstance(p.value, str)]
        if names and len(names) == len(parts) and all(RESPONSE_NAME.fullmatch(n) for n in names):
            found[target.id] = names
    return found


def literal_responses(value: ast.expr, constants: dict[str, list[str]]) -> list[str] | None:
    """The response names an argument can be: a string, a module constant, any value of a
    module dict (`D[key]`, `D.get(key, default)`), or either side of `a if c else b`; None
    when it is computed some other way."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return [value.value]
    if isinstance(value, ast.Name):
        return constants.get(value.id)
    if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
        return constants.get(value.value.id)
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "get"
        and isinstance(value.func.value, ast.Name)
        and value.func.value.id in constants
    ):
        default = [literal_responses(arg, constants) for arg in value.args[1:]]
        if any(names is None for names in default):
            return None
        return constants[value.func.value.id] + [n for names in default if names for n in names]
    if isinstance(value, ast.IfExp):
        body, orelse = (
            literal_responses(value.body, constants),
            literal_responses(value.orelse, constants),
        )
        return body + orelse if body is not None and orelse is not None else None
    return None


@pytest.mark.parametrize("section", SECTIONS)
def test_the_contract_and_the_domain_name_the_same_things(section: str) -> None:
    in_contract = {member.value for member in SECTIONS[section]}
    in_domain = declared(section)
    assert not in_contract - in_domain, f"in actions/contract.py, not in the domain's {section}"
    assert not in_domain - in_contract, f"in the domain's {section}, not in actions/contract.py"


def test_every_response_the_actions_name_is_in_the_domain() -> None:
    missing = {
        name: where for name, where in response_names_in_code().items() if name not in responses()
    }
    assert not missing, f"responses the actions use that bot/domain.yml lacks: {missing}"


def test_no_response_name_is_put_together_at_run_time() -> None:
    """A name built in an f-string escapes the check above: name each response whole."""
    built = [
        f"{path.name}:{node.lineno}"
        for path in action_modules()
        for node in ast.walk(parsed(path))
        if isinstance(node, ast.JoinedStr)
        and any(
            isinstance(part, ast.Constant) and "utter_" in str(part.value) for part in node.values
        )
    ]
    assert not built, f"response names made in f-strings: {built}"


def test_no_action_sends_its_own_wording() -> None:
    """Wording lives in the domain's responses (a shop edits it, a translation replaces it)."""
    worded = [
        where
        for where, call, _ in utter_calls()
        if any(keyword.arg == "text" for keyword in call.keywords)
    ]
    assert not worded, f"utter_message(text=...) instead of response=...: {worded}"


def test_every_response_sent_gets_exactly_the_variables_it_uses() -> None:
    """Rasa leaves a `{name}` without a value in the text, and fills it from a slot of the same
    name if there is one: a variable the call forgets is a silent bug either way."""
    problems: list[str] = []
    for where, call, constants in utter_calls():
        keywords: dict[str, Any] = {k.arg: k.value for k in call.keywords if k.arg is not None}
        response = keywords.get("response")
        names = literal_responses(response, constants) if response is not None else None
        if not names:
            continue
        passed = set(keywords) - MESSAGE_KEYS
        spread = any(keyword.arg is None for keyword in call.keywords)  # **variables
        for name in names:
            if name not in responses():
                continue  # reported by the test above
            needed = placeholders(name)
            if passed - needed:
                problems.append(f"{where} {name}: unused {sorted(passed - needed)}")
            if not spread and needed - passed:
                problems.append(f"{where} {name}: missing {sorted(needed - passed)}")
    assert not problems, problems


def test_every_response_in_the_domain_is_used() -> None:
    """By an action, a rule or story, or as the question of a form's slot (utter_ask_<slot>)."""
    in_yaml = " ".join(
        path.read_text(encoding="utf-8")
        for folder in ("bot/data", "bot/tests")
        for path in (PROJECT_ROOT / folder).glob("*.yml")
    )
    asked = {
        f"utter_ask_{slot}"
        for form in (domain().get("forms") or {}).values()
        for slot in form.get("required_slots", [])
    }
    used = set(response_names_in_code()) | set(RESPONSE_NAME.findall(in_yaml)) | asked
    assert not set(responses()) - used, "responses nothing sends"


def registered_actions() -> set[str]:
    executor = ActionExecutor()
    executor.register_package("actions")
    return set(executor.actions)


def test_the_action_server_serves_exactly_the_domain_actions() -> None:
    served = registered_actions()
    in_domain = declared("actions")
    assert not in_domain - served, "domain actions no Action subclass serves"
    assert not served - in_domain, "actions the server registers that the domain does not list"


def test_every_form_has_its_validator() -> None:
    served = registered_actions()
    missing = {
        form for form in declared("forms") if f"validate_{form}" not in served & declared("actions")
    }
    assert not missing, f"forms without a validate_<form> action: {missing}"
