"""`load` with the demo off (SHOPDESK_DEMO=off): no Luma data, no demo orders, the shop's own
feed synced in its own currency."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from catalog import cli
from catalog.db import session_scope
from catalog.models import Order, Product

OWN_FEED = Path(__file__).parents[1] / "e2e" / "fixtures" / "own_shop_feed.tsv"
SHOP_YML = Path(__file__).parents[2] / "shop.yml"


@pytest.fixture
def own_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    shop = tmp_path / "shop.yml"
    shop.write_text(
        SHOP_YML.read_text(encoding="utf-8").replace("name: Luma", "name: Kitchen Corner")
        + "\ncurrency: EUR\n",
        encoding="utf-8",
    )
    database = tmp_path / "shop.sqlite3"
    for name, value in {
        "SHOPDESK_DATABASE_URL": "",
        "SHOPDESK_DB_PATH": str(database),
        "SHOPDESK_SHOP_SETTINGS": str(shop),
        "SHOPDESK_DEMO": "off",
    }.items():
        monkeypatch.setenv(name, value)
    from catalog.policies import policies

    policies.cache_clear()
    return f"sqlite:///{database}"


def counts(url: str) -> tuple[int, int]:
    with session_scope(url) as session:
        products = session.scalar(select(func.count()).select_from(Product)) or 0
        orders = session.scalar(select(func.count()).select_from(Order)) or 0
    return products, orders


def test_without_a_feed_the_demo_off_loads_nothing(own_env: str) -> None:
    assert cli.main(["load", "--no-embeddings"]) == cli.EXIT_OK
    assert counts(own_env) == (0, 0)  # migrated, and empty


def test_the_shop_s_own_feed_is_synced_in_euros_with_no_demo_orders(
    own_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOPDESK_CATALOG_SYNC_SOURCE", "merchant-feed")
    monkeypatch.setenv("SHOPDESK_CATALOG_SYNC_PATH", str(OWN_FEED))
    assert cli.main(["load", "--no-embeddings"]) == cli.EXIT_OK
    assert counts(own_env) == (29, 0)
    with session_scope(own_env) as session:
        mug = session.scalars(select(Product).where(Product.sku == "KC-001")).one()
        luma = session.scalars(select(Product).where(Product.source != "merchant")).all()
        assert (mug.price_cents, mug.currency) == (1200, "EUR")
        assert luma == []
    assert cli.main(["load", "--no-embeddings"]) == cli.EXIT_OK  # every start: no change
    assert counts(own_env) == (29, 0)


def test_a_bad_demo_switch_is_a_sentence(own_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPDESK_DEMO", "maybe")
    from catalog.own_shop import ShopSetupSettings
    from core.settings import SettingsError

    with pytest.raises(SettingsError, match="SHOPDESK_DEMO must be one of on, off"):
        ShopSetupSettings.from_env()


def test_a_price_filter_is_described_in_the_shop_s_currency(own_env: str) -> None:
    from catalog.constraints import describe
    from catalog.search import SearchFilters, SearchRequest

    request = SearchRequest("mug", SearchFilters(price_max_cents=2000))
    assert describe(request).endswith("up to €20.00")
