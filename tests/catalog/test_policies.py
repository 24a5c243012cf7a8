"""The shop's settings file: read, typed, and refused clearly when broken."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog.policies import ShopSettingsError, load_policies


def test_the_shipped_settings_follow_the_luma_customer_service_page() -> None:
    policies = load_policies(shop_url="https://shop.test")
    assert policies.returns.window_days == 30
    assert policies.delivery.fee_cents("Standard", 150_00) == 16_00
    assert policies.delivery.fee_cents("priority", 300_00) == 31_00
    assert policies.delivery.fee_cents("Overnight", 2_000_00) == 51_00
    assert policies.page("forgot_password") == "https://shop.test/customer/account/forgotpassword"


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
