"""launcher.stack: a stack set to a remote order system that cannot be reached as set stops
before starting anything, with the setting named; its token reaches only the processes that
use it (the action server for orders, the web server and the tools for catalog sync)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from launcher.stack import StackConfig, StackError, check_connector, passed_environment

TOKEN = "shop-api-token-0123456789"


def config_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> StackConfig:
    for name in ("SHOPDESK_ORDERS", "SHOPDESK_SHOP_API_URL", "SHOPDESK_SHOP_API_TOKEN",
                 "SHOPDESK_SHOP_API_TOKEN_FILE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    return replace(StackConfig(log_dir=tmp_path), extra_env=env)


def test_the_built_in_order_book_needs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_connector(config_with(tmp_path, monkeypatch))


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SHOPDESK_ORDERS": "oscar"}, "SHOPDESK_SHOP_API_URL"),
        ({"SHOPDESK_ORDERS": "shopify", "SHOPDESK_SHOP_API_URL": "https://s.example"},
         "SHOPDESK_SHOP_API_TOKEN"),
        ({"SHOPDESK_ORDERS": "woo"}, "SHOPDESK_ORDERS"),
    ],
)  # fmt: skip
def test_a_remote_shop_set_wrong_stops_the_start_with_the_setting_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    with pytest.raises(StackError, match=named) as stopped:
        check_connector(config_with(tmp_path, monkeypatch, **env))
    assert "order system" in str(stopped.value)


def test_a_token_file_others_can_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o644)
    config = config_with(
        tmp_path, monkeypatch, SHOPDESK_ORDERS="magento",
        SHOPDESK_SHOP_API_URL="https://m.example", SHOPDESK_SHOP_API_TOKEN_FILE=str(token),
    )  # fmt: skip
    with pytest.raises(StackError, match="open to other users") as stopped:
        check_connector(config)
    assert TOKEN not in str(stopped.value)
    token.chmod(0o600)
    check_connector(config)


def test_the_shop_token_reaches_only_the_processes_that_use_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDESK_SHOP_API_TOKEN", TOKEN)
    assert passed_environment({"SHOPDESK_SHOP_API_TOKEN": TOKEN})  # not dropped as a secret
    config = config_with(tmp_path, monkeypatch)
    monkeypatch.setenv("SHOPDESK_SHOP_API_TOKEN", TOKEN)
    assert config.env("actions")["SHOPDESK_SHOP_API_TOKEN"] == TOKEN
    assert config.env("web")["SHOPDESK_SHOP_API_TOKEN"] == TOKEN
    assert "SHOPDESK_SHOP_API_TOKEN" not in config.env("rasa")
    assert "SHOPDESK_SHOP_API_TOKEN" not in config.env("classifier")
