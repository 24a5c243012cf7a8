"""The shop's one place to choose its order system and give its credentials.

With nothing set, ShopDesk uses its built-in order book and needs nothing else. A remote shop
needs its API address and a token, best from a file only its owner can read; a bad value is a
SettingsError whose sentence names the variable, and the token is never shown.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import pytest

from connectors.settings import (
    BUILTIN,
    CONNECTORS,
    MIN_TOKEN_CHARS,
    OSCAR,
    SHOPIFY,
    ConnectorSettings,
)
from core.settings import SECRET_FILE_MODE, SettingsError, ShopDeskSettings

TOKEN: Final = "oscar-staff-token-7d1f0c2b"
URL: Final = "https://shop.example/api"
GROUP_READABLE: Final = 0o640


def chosen(**environ: str) -> ConnectorSettings:
    return ConnectorSettings.from_env(environ)


def token_file(tmp_path: Path, content: str, mode: int = SECRET_FILE_MODE) -> Path:
    path = tmp_path / "shop-api-token"
    path.write_text(content, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_the_default_is_the_builtin_order_book_needing_nothing() -> None:
    default = chosen()
    assert (default.orders, default.remote) == (BUILTIN, False)
    assert (default.api_url, default.api_version, default.api_token_file) == ("", "", None)
    assert (default.timeout_s, default.retries) == (5.0, 2)
    assert default.api_token.get_secret_value() == ""


def test_the_process_settings_hold_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPDESK_ORDERS", OSCAR)
    section = ShopDeskSettings().section(ConnectorSettings)
    assert section.orders == OSCAR and section.remote


@pytest.mark.parametrize("name", CONNECTORS)
def test_every_connector_can_be_chosen(name: str) -> None:
    assert chosen(SHOPDESK_ORDERS=name).orders == name


@pytest.mark.parametrize("bad", ["woocommerce", "Oscar", "shopify,magento"])
def test_an_unknown_connector_is_refused_naming_the_variable(bad: str) -> None:
    with pytest.raises(SettingsError) as refused:
        chosen(SHOPDESK_ORDERS=bad)
    said = str(refused.value)
    assert said.startswith("SHOPDESK_ORDERS must be one of")
    assert all(name in said for name in CONNECTORS) and repr(bad) in said


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SHOPDESK_SHOP_API_TIMEOUT_S", "0"),
        ("SHOPDESK_SHOP_API_TIMEOUT_S", "soon"),
        ("SHOPDESK_SHOP_API_RETRIES", "-1"),
        ("SHOPDESK_SHOP_API_RETRIES", "1.5"),
    ],
)
def test_bad_timeouts_and_retries_are_refused_naming_the_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}"):
        chosen(**{variable: value})


def test_the_api_address_is_kept_without_its_trailing_slash() -> None:
    remote = chosen(SHOPDESK_ORDERS=OSCAR, SHOPDESK_SHOP_API_URL=f"  {URL}/ ")
    assert remote.url() == URL


def test_a_remote_shop_without_an_address_is_told_what_to_set() -> None:
    with pytest.raises(SettingsError, match="SHOPDESK_SHOP_API_URL") as missing:
        chosen(SHOPDESK_ORDERS=SHOPIFY).url()
    assert "SHOPDESK_ORDERS=shopify" in str(missing.value)


def test_a_remote_shop_without_a_token_is_told_where_to_put_one() -> None:
    with pytest.raises(SettingsError) as missing:
        chosen(SHOPDESK_ORDERS=OSCAR, SHOPDESK_SHOP_API_URL=URL).token()
    said = str(missing.value)
    assert "SHOPDESK_SHOP_API_TOKEN_FILE" in said and "only you can read" in said


def test_the_token_from_the_environment_wins(tmp_path: Path) -> None:
    path = token_file(tmp_path, "another-token-from-the-file")
    both = chosen(
        SHOPDESK_ORDERS=OSCAR,
        SHOPDESK_SHOP_API_TOKEN=f" {TOKEN}\n",
        SHOPDESK_SHOP_API_TOKEN_FILE=str(path),
    )
    assert both.token() == TOKEN


def test_the_token_from_an_owner_only_file(tmp_path: Path) -> None:
    path = token_file(tmp_path, f"{TOKEN}\n")
    assert chosen(SHOPDESK_ORDERS=OSCAR, SHOPDESK_SHOP_API_TOKEN_FILE=str(path)).token() == TOKEN


def test_a_token_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = token_file(tmp_path, TOKEN, GROUP_READABLE)
    remote = chosen(SHOPDESK_ORDERS=OSCAR, SHOPDESK_SHOP_API_TOKEN_FILE=str(path))
    with pytest.raises(SettingsError) as refused:
        remote.token()
    said = str(refused.value)
    assert "open to other users" in said and f"chmod 600 {path}" in said
    assert "new token" in said and TOKEN not in said


def test_a_token_file_too_short_or_missing_is_refused(tmp_path: Path) -> None:
    short = token_file(tmp_path, "x" * (MIN_TOKEN_CHARS - 1))
    with pytest.raises(SettingsError, match="put the whole token in the file"):
        chosen(SHOPDESK_ORDERS=OSCAR, SHOPDESK_SHOP_API_TOKEN_FILE=str(short)).token()
    absent = tmp_path / "no-such-token"
    for missing in (absent, tmp_path):  # no file, or a folder
        with pytest.raises(SettingsError, match="SHOPDESK_SHOP_API_TOKEN_FILE names"):
            chosen(SHOPDESK_ORDERS=OSCAR, SHOPDESK_SHOP_API_TOKEN_FILE=str(missing)).token()


def test_the_token_is_never_shown(tmp_path: Path) -> None:
    remote = chosen(SHOPDESK_ORDERS=OSCAR, SHOPDESK_SHOP_API_URL=URL, SHOPDESK_SHOP_API_TOKEN=TOKEN)
    for shown in (repr(remote), str(remote), str(remote.model_dump()), repr(remote.api_token)):
        assert TOKEN not in shown
    assert remote.token() == TOKEN
