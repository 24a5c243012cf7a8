"""The Rasa domain the launcher trains: bot/domain.yml with the shop's name from shop.yml.

Why at training time: the greeting and the goodbye are sent by rules (bot/data/rules.yml), not
by an action that could pass the name, so `{shop_name}` in them is filled from the `shop_name`
slot, whose initial value lives in the trained model's domain. Setting it when the model is
trained keeps the greeting free of any call to the action server (a new conversation works
even while that server restarts), and a changed name changes the domain, so `rasa train`
retrains (only what the domain touches). bot/domain.yml itself keeps the demo's name, which
the tests and `rasa train` run by hand use.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Final

from catalog.policies import ShopSettingsError, load_policies

SOURCE_DOMAIN: Final = Path("bot") / "domain.yml"
# The one line of bot/domain.yml this replaces: the `shop_name` slot's initial value.
NAME_LINE: Final = re.compile(r"^(?P<indent>\s+)initial_value: .*# shop\.yml name$", re.MULTILINE)


class ShopDomainError(ValueError):
    """The domain cannot take the shop's name; the message says why."""


def domain_text(source: str, shop_name: str) -> str:
    """`source` (bot/domain.yml's text) with the shop_name slot's initial value `shop_name`."""
    if NAME_LINE.search(source) is None:
        raise ShopDomainError("bot/domain.yml has no `initial_value: ... # shop.yml name` line")
    value = json.dumps(shop_name, ensure_ascii=False)  # a JSON string is a YAML string
    return NAME_LINE.sub(
        lambda found: f"{found['indent']}initial_value: {value}  # shop.yml name", source, count=1
    )


def shop_name(shop_settings: Path) -> str:
    """shop.yml's `name` (ShopDomainError, with the settings' own sentence, if unreadable)."""
    try:
        return load_policies(shop_settings).name
    except ShopSettingsError as error:
        raise ShopDomainError(str(error)) from None


def write_domain(root: Path, shop_settings: Path, target: Path) -> Path:
    """Write the shop's domain to `target` (only when it changed, so Rasa's fingerprint of an
    unchanged shop stays the same); returns `target`."""
    text = domain_text((root / SOURCE_DOMAIN).read_text(encoding="utf-8"), shop_name(shop_settings))
    if not target.is_file() or target.read_text(encoding="utf-8") != text:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return target
