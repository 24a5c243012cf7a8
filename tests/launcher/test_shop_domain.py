"""The domain the launcher trains greets with the shop's name from shop.yml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from launcher.shop_domain import ShopDomainError, domain_text, write_domain
from launcher.stack import ROOT

SOURCE = (ROOT / "bot" / "domain.yml").read_text(encoding="utf-8")


def slot_and_greeting(text: str) -> tuple[str, str, str]:
    domain = yaml.safe_load(text)
    return (
        domain["slots"]["shop_name"]["initial_value"],
        domain["responses"]["utter_greet"][0]["text"],
        domain["responses"]["utter_goodbye"][0]["text"],
    )


def test_the_demo_domain_greets_with_the_shop_name_slot() -> None:
    name, greeting, goodbye = slot_and_greeting(SOURCE)
    assert name == "Luma"
    assert "{shop_name}" in greeting and "{shop_name}" in goodbye
    assert "Luma" not in greeting + goodbye


@pytest.mark.parametrize("shop", ["Kitchen Corner", 'Café "Zur Post"', "O'Brien: #1"])
def test_the_shop_s_name_becomes_the_slot_s_initial_value(shop: str) -> None:
    text = domain_text(SOURCE, shop)
    assert slot_and_greeting(text)[0] == shop
    assert text.count("\n") == SOURCE.count("\n")  # one line changed, nothing else


def test_write_domain_takes_the_name_from_shop_yml_and_rewrites_only_on_change(
    tmp_path: Path,
) -> None:
    shop = tmp_path / "shop.yml"
    shop.write_text(
        (ROOT / "shop.yml").read_text(encoding="utf-8").replace("name: Luma", "name: Mug Hut"),
        encoding="utf-8",
    )
    target = write_domain(ROOT, shop, tmp_path / "out" / "domain.yml")
    assert slot_and_greeting(target.read_text(encoding="utf-8"))[0] == "Mug Hut"
    before = target.stat().st_mtime_ns
    write_domain(ROOT, shop, target)
    assert target.stat().st_mtime_ns == before


def test_a_domain_without_the_slot_line_is_a_sentence() -> None:
    with pytest.raises(ShopDomainError, match=r"shop\.yml name"):
        domain_text("slots: {}\n", "Shop")
