"""The web server waits for an agent as long as shop.yml tells shoppers to expect
(`support.handoff_wait_minutes`); SHOPDESK_HANDOFF_TIMEOUT_S overrides it."""

from __future__ import annotations

import dataclasses

import pytest

from catalog.policies import ShopSettingsError, load_policies
from web.settings import WebSettings

SHOP = load_policies(shop_url="https://shop.test")


def test_the_shops_wait_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    support = dataclasses.replace(SHOP.support, handoff_wait_minutes=7)
    monkeypatch.setattr("web.settings.policies", lambda: dataclasses.replace(SHOP, support=support))
    assert WebSettings.from_env({}).handoff_timeout_s == 7 * 60
    assert WebSettings.from_env({"SHOPDESK_HANDOFF_TIMEOUT_S": "3"}).handoff_timeout_s == 3


def test_the_shipped_settings_wait_five_minutes() -> None:
    assert WebSettings.from_env({}).handoff_timeout_s == SHOP.support.handoff_wait_minutes * 60


def test_unreadable_shop_settings_leave_the_default_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise ShopSettingsError("shop settings: cannot read shop.yml")

    monkeypatch.setattr("web.settings.policies", broken)
    assert WebSettings.from_env({}).handoff_timeout_s == 5 * 60
