"""`python -m launcher init`: the shop's own settings written, the demo off, and the launcher
reading them with the environment winning."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from catalog.own_shop import ShopSetupSettings
from catalog.policies import load_policies
from catalog.sync_run import CatalogSyncSettings, SourceKind
from launcher import init
from launcher.__main__ import main

OWN_FEED = Path(__file__).parents[1] / "e2e" / "fixtures" / "own_shop_feed.tsv"


def run_init(folder: Path, *extra: str) -> int:
    return main(
        ["init", "--name", "Kitchen Corner", "--currency", "eur", "--feed", str(OWN_FEED),
         "--shop-url", "https://kitchen-corner.example/", "--dir", str(folder), *extra]
    )  # fmt: skip


def test_init_writes_the_shop_s_name_currency_and_feed_with_the_demo_off(tmp_path: Path) -> None:
    assert run_init(tmp_path) == init.EXIT_OK
    values = init.read_settings_file(tmp_path / init.SETTINGS_FILE_NAME)
    settings = ShopSetupSettings.from_env(values)
    sync = CatalogSyncSettings.from_env(values)
    assert not settings.demo_on
    assert (sync.kind, sync.path) == (SourceKind.MERCHANT_FEED, OWN_FEED.resolve())
    assert values["SHOPDESK_SHOP_URL"] == "https://kitchen-corner.example"
    shop = load_policies(Path(values["SHOPDESK_SHOP_SETTINGS"]))
    assert (shop.name, shop.currency) == ("Kitchen Corner", "EUR")
    for written in tmp_path.iterdir():
        assert stat.S_IMODE(written.stat().st_mode) == init.PRIVATE_FILE_MODE


def test_init_keeps_what_is_there_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_init(tmp_path) == init.EXIT_OK
    assert run_init(tmp_path) == init.EXIT_REFUSED
    assert "already exist" in capsys.readouterr().err
    assert run_init(tmp_path, "--force") == init.EXIT_OK


def test_a_missing_feed_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    setup = init.ShopSetup("Kitchen Corner", "EUR", feed=tmp_path / "nope.tsv")
    with pytest.raises(init.InitError, match="not a file"):
        init.write_setup(setup, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_environment_wins_over_the_settings_file(tmp_path: Path) -> None:
    assert run_init(tmp_path) == init.EXIT_OK
    environ = {
        init.SETTINGS_FILE_VARIABLE: str(tmp_path / init.SETTINGS_FILE_NAME),
        "SHOPDESK_DEMO": "on",
    }
    assert init.apply_settings_file(environ) == tmp_path / init.SETTINGS_FILE_NAME
    assert environ["SHOPDESK_DEMO"] == "on"  # one switch brings the demo back
    assert environ["SHOPDESK_CATALOG_SYNC_SOURCE"] == "merchant-feed"


def test_no_settings_file_changes_nothing(tmp_path: Path) -> None:
    environ = {init.SETTINGS_FILE_VARIABLE: str(tmp_path / "none.env")}
    assert init.apply_settings_file(environ) is None
    assert environ == {init.SETTINGS_FILE_VARIABLE: str(tmp_path / "none.env")}


@pytest.mark.parametrize("name", ['Café "Zur Post"', "O'Brien & Sons: Kitchens", "a\\b"])
def test_any_shop_name_survives_the_yaml(name: str) -> None:
    text = init.shop_file_text("# head\nname: Luma\nsupport: {}\n", init.ShopSetup(name, "EUR"))
    assert yaml.safe_load(text) == {"name": name, "currency": "EUR", "support": {}}


def test_settings_values_with_spaces_read_back(tmp_path: Path) -> None:
    path = tmp_path / "s.env"
    values = {"SHOPDESK_SHOP_SETTINGS": '/a folder/with "quotes"/shop.yml', "SHOPDESK_DEMO": "off"}
    path.write_text(init.settings_file_text(values), encoding="utf-8")
    assert init.read_settings_file(path) == values


def test_a_bad_name_or_currency_is_refused_by_argparse(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["init", "--name", "{x}", "--currency", "EUR", "--dir", str(tmp_path)])
    with pytest.raises(SystemExit):
        main(["init", "--name", "Shop", "--currency", "EURO", "--dir", str(tmp_path)])
