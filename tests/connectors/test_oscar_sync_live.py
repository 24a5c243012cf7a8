"""Catalog sync from the live demo Oscar shop (issue 20, part 3): `--source connector` reads
the connected shop's products over HTTP and brings them into ShopDesk's catalog; a second
sync of the same shop changes nothing, and a product the shop stops selling is discontinued."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.db import migrate, session_scope
from catalog.models import Product
from catalog.sync_run import SyncOptions, read_connector, run_sync
from launcher.oscar_shop import OscarShop

pytestmark = pytest.mark.live


def no_embeddings(url: str, ids: list[int]) -> int:
    return 0  # the model is not what this test is about


def test_the_oscar_shops_products_sync_into_an_empty_catalog(
    oscar_shop: OscarShop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in oscar_shop.settings().items():
        monkeypatch.setenv(name, value)
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    migrate(url)

    batch = read_connector()
    assert batch.records and batch.source == "oscar"
    first = run_sync(url, batch, embed=no_embeddings)
    assert first.added == len(batch.records) and first.discontinued == []

    again = run_sync(url, read_connector(), embed=no_embeddings)
    assert (again.added, again.changed, again.discontinued) == (0, 0, [])
    assert again.unchanged == len(batch.records)

    gone = batch.records[0]
    fewer = replace(batch, records=batch.records[1:])
    third = run_sync(url, fewer, SyncOptions(), embed=no_embeddings)
    assert third.discontinued == [gone.sku]
    with session_scope(url) as session:
        product = session.scalars(select(Product).where(Product.sku == gone.sku)).one()
        assert product.discontinued_at is not None
