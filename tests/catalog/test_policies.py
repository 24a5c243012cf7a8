"""The shop's settings file: read, typed, and refused clearly when broken."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog.policies import (
    ShopSettingsError,
    load_policies,
    parse_policies,
)
from catalog.settings import DEFAULT_SHOP_SETTINGS


def test_the_shipped_settings_follow_the_luma_customer_service_page() -> None:
    policies = load_policies(shop_url="https://shop.test")
    assert policies.returns.window_days == 30
    assert policies.delivery.fee_cents("Standard", 150_00) == 16_00
    assert policies.delivery.fee_cents("priority", 300_00) == 31_00
    assert policies.delivery.fee_cents("Overnight", 2_000_00) == 51_00
    assert policies.page("forgot_password") == "https://shop.test/customer/account/forgotpassword"


def test_promotions_accounts_and_exchanges_are_typed() -> None:
    policies = load_policies(shop_url="https://shop.test")
    promotions = policies.promotions
    assert promotions.entry_pages == ("cart", "checkout") and promotions.codes_per_order == 1
    assert promotions.not_valid_on == ("items already on sale", "gift cards")
    assert promotions.minimum_spend_cents == 0 and promotions.added_after_order is False
    assert (policies.accounts.lockout_failures, policies.accounts.lockout_minutes) == (10, 10)
    assert policies.returns.exchanges is False


def shipped_settings() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT_SHOP_SETTINGS.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("promotions", "entry_pages", ["basket"], "must name pages listed under `pages`"),
        ("promotions", "entry_pages", [], "must name pages listed under `pages`"),
        ("promotions", "codes_per_order", 0, "`promotions.codes_per_order` must be a whole"),
        ("promotions", "minimum_spend_cents", "ten", "`promotions.minimum_spend_cents` must be"),
        ("promotions", "added_after_order", "no", "`promotions.added_after_order` must be true"),
        ("accounts", "lockout_minutes", -1, "`accounts.lockout_minutes` must be a whole"),
        ("returns", "exchanges", "sometimes", "`returns.exchanges` must be true or false"),
    ],
)
def test_a_wrong_value_is_named(section: str, key: str, value: Any, message: str) -> None:
    data = shipped_settings()
    data[section][key] = value
    with pytest.raises(ShopSettingsError, match=re.escape(message)):
        parse_policies(data, shop_url="https://shop.test")


@pytest.mark.parametrize(
    ("section", "key"), [("promotions", None), ("accounts", None), ("returns", "exchanges")]
)
def test_the_new_settings_are_required(section: str, key: str | None) -> None:
    data = shipped_settings()
    if key is None:
        del data[section]
    else:
        del data[section][key]
    missing = f"{section}.{key}" if key else section
    with pytest.raises(ShopSettingsError, match=re.escape(f"`{missing}` is missing")):
        parse_policies(data, shop_url="https://shop.test")


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "shop.yml"
    broken.write_text("name: Test\nsupport: {email: a@b.c, phone: '1', hours: always}\n")
    with pytest.raises(ShopSettingsError, match="`delivery` is missing"):
        load_policies(broken, shop_url="https://shop.test")


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ShopSettingsError, match="cannot read"):
        load_policies(tmp_path / "missing.yml", shop_url="https://shop.test")
    bad = tmp_path / "bad.yml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ShopSettingsError, match="cannot read"):
        load_policies(bad, shop_url="https://shop.test")
