"""Every key of shop.yml is read by something (issue 21): a key nobody reads is a setting a
shop changes to no effect, as `weekdays_only` once was.

Three checks, each of every key of the shipped shop.yml:
- the parser knows it (catalog/policies.py refuses unknown keys, so a typo is an error);
- changing its value changes the parsed settings, or is refused (so the parser reads it);
- the model field it fills is read outside catalog/policies.py, in actions/, catalog/ or web/.
Keys inside data maps (page names, weekdays, region and country codes) are the shop's data,
not settings; page names are checked to be asked for by name.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta
from functools import cache
from typing import Any

import pytest

from catalog import policies as policies_module
from catalog.policies import SECTION_KEYS, TOP_KEYS, ShopSettingsError, parse_policies
from core.paths import PROJECT_ROOT
from tests.catalog.test_policies import shipped_settings

Path_ = tuple[str | int, ...]
# Mappings whose keys are the shop's data (names, codes), not settings.
DATA_MAPS = frozenset(
    {"pages", "support.hours_by_day", "delivery.remote_regions", "delivery.ships_to"}
)
# shop.yml keys whose model field has another name.
FIELDS = {
    "cancellation.fee_cents": "cancellation_fee_cents",
    "payment.methods": "payment_methods",
    "payment.problems": "payment_problems",
    "invoices.note": "invoice_note",
    "support.hours_by_day": "business_hours",
    "support.time_zone": "business_hours",
    "support.holidays": "business_hours",
}
READERS = ("actions", "catalog", "web")
PARSER = PROJECT_ROOT / "catalog" / "policies.py"


def dotted(path: Path_) -> str:
    """("delivery", "methods", 0, "days") -> "delivery.methods[].days"."""
    text = ""
    for part in path:
        text += "[]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def settings_keys(value: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every key path of shop.yml, into lists of mappings, not into data maps."""
    if isinstance(value, dict) and dotted(path) not in DATA_MAPS:
        for key, inner in value.items():
            yield (*path, key)
            yield from settings_keys(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            if isinstance(inner, dict):
                yield from settings_keys(inner, (*path, index))


def changed(value: Any) -> Any:
    """Another value of the same shape."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, date):
        return value + timedelta(days=1)
    if isinstance(value, str):
        return value + " (changed)"
    if isinstance(value, list):
        return [changed(item) for item in value] or ["changed"]
    if isinstance(value, dict):
        return {key: changed(inner) for key, inner in value.items()}
    raise TypeError(value)


def at(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


SHIPPED = shipped_settings()
KEYS = sorted({dotted(path): path for path in settings_keys(SHIPPED)}.items())


@cache
def attributes_read() -> frozenset[str]:
    """Attribute names read (`x.name`) in the readers' modules, the parser itself left out."""
    names: set[str] = set()
    for folder in READERS:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            if path == PARSER:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names.update(node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute))
    return frozenset(names)


@cache
def strings_in_code() -> frozenset[str]:
    found: set[str] = set()
    for folder in READERS:
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            found.update(
                node.value
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant) and isinstance(node.value, str)
            )
    return frozenset(found)


def model_fields() -> frozenset[str]:
    classes = [
        obj
        for obj in vars(policies_module).values()
        if isinstance(obj, type) and dataclasses.is_dataclass(obj)
    ]
    return frozenset(field.name for cls in classes for field in dataclasses.fields(cls))


def test_the_walk_sees_the_settings() -> None:
    names = {name for name, _ in KEYS}
    assert {"delivery.weekdays_only", "support.hours_by_day", "delivery.methods[].days"} <= names
    assert "pages.cart" not in names and "support.hours_by_day.mon" not in names


@pytest.mark.parametrize(("name", "path"), KEYS, ids=[name for name, _ in KEYS])
def test_the_parser_knows_the_key(name: str, path: Path_) -> None:
    section = dotted(path[:-1])
    allowed = SECTION_KEYS[section] if section else TOP_KEYS
    assert path[-1] in allowed, f"{name}: not among catalog/policies.py's known keys"


@pytest.mark.parametrize(("name", "path"), KEYS, ids=[name for name, _ in KEYS])
def test_changing_the_key_changes_the_settings(name: str, path: Path_) -> None:
    before = parse_policies(copy.deepcopy(SHIPPED), shop_url="https://shop.test")
    data = copy.deepcopy(SHIPPED)
    parent = at(data, path[:-1])
    parent[path[-1]] = changed(parent[path[-1]])
    try:
        after = parse_policies(data, shop_url="https://shop.test")
    except ShopSettingsError:
        return  # refused: the parser reads and checks it
    assert after != before, f"{name}: changing it changes nothing the bot reads"


@pytest.mark.parametrize(("name", "path"), KEYS, ids=[name for name, _ in KEYS])
def test_the_keys_field_is_read_by_code(name: str, path: Path_) -> None:
    if isinstance(at(SHIPPED, path), dict) and name not in DATA_MAPS:
        return  # a section: its keys are checked one by one
    field = FIELDS.get(name, str(path[-1]))
    assert field in model_fields(), f"{name}: no field `{field}` in catalog/policies.py's models"
    assert field in attributes_read(), f"{name}: nothing outside the parser reads `.{field}`"


def test_each_page_is_asked_for_by_name() -> None:
    entry_pages = set(SHIPPED["promotions"]["entry_pages"])
    unused = [
        page
        for page in SHIPPED["pages"]
        if page not in strings_in_code()
        and f"{page}_page" not in strings_in_code()
        and page not in entry_pages
    ]
    assert not unused, f"pages nothing links to: {unused}"


@pytest.mark.parametrize(
    ("where", "key"), [((), "greting"), (("support",), "hourz"), (("delivery",), "weekday_only")]
)
def test_an_unknown_key_is_refused_by_name(where: Path_, key: str) -> None:
    data = copy.deepcopy(SHIPPED)
    at(data, where)[key] = "x"
    with pytest.raises(ShopSettingsError, match=f"unknown key {key}"):
        parse_policies(data, shop_url="https://shop.test")
