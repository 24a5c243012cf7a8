"""The web server's scheduled catalog sync (web/catalog_sync.py): off by default, one log line
per run, a failed run writes nothing and says so politely."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.db import session_scope
from catalog.models import Product
from catalog.sync_run import CatalogSyncSettings
from tests.async_run import run as run_async
from tests.catalog.test_embeddings import copy_sqlite
from tests.catalog.test_importing import FIXTURES, catalog_content
from web import catalog_sync


@pytest.fixture
def shop(luma_db_url: str, tmp_path: Path) -> str:
    return copy_sqlite(luma_db_url, tmp_path / "shop.sqlite3")


@pytest.fixture
def vocabulary_rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts vocabulary rebuilds instead of writing one beside the models."""
    calls: list[int] = []

    def rebuild() -> int:
        calls.append(1)
        return 42

    monkeypatch.setattr(catalog_sync, "refresh_vocabulary", rebuild)
    return calls


def feed_settings(path: Path) -> CatalogSyncSettings:
    return CatalogSyncSettings.from_env(
        {
            "SHOPDESK_CATALOG_SYNC_MINUTES": "1",
            "SHOPDESK_CATALOG_SYNC_SOURCE": "merchant-feed",
            "SHOPDESK_CATALOG_SYNC_PATH": str(path),
        }
    )


def test_off_by_default() -> None:
    settings = CatalogSyncSettings.from_env({})
    assert settings.minutes == 0
    assert catalog_sync.start("sqlite://", settings) is None


def test_a_run_syncs_and_rebuilds_the_vocabulary(
    shop: str, vocabulary_rebuilds: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("catalog.sync_run.embed_touched", lambda url, ids: len(ids))
    run = catalog_sync.run_once(shop, feed_settings(FIXTURES / "merchant_feed.tsv"))
    assert run.report.added == 3 and vocabulary_rebuilds == [1]
    assert run.summary().startswith("catalog sync: merchant:merchant_feed.tsv: 3 added")
    with session_scope(shop) as session:
        assert session.scalars(select(Product).where(Product.sku == "JKT-100")).one()
    again = catalog_sync.run_once(shop, feed_settings(FIXTURES / "merchant_feed.tsv"))
    assert again.vocabulary_words is None and vocabulary_rebuilds == [1]  # nothing changed


def test_a_failed_run_writes_nothing_and_is_logged_politely(
    shop: str,
    vocabulary_rebuilds: list[int],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(catalog_sync, "FIRST_RUN_S", 0.0)
    before = catalog_content(shop)
    settings = feed_settings(Path("/no/such/feed.tsv"))

    def warned() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name == "web.catalog_sync"]

    async def one_run() -> list[logging.LogRecord]:
        task = asyncio.create_task(catalog_sync.keep_synced(shop, settings))
        try:
            while not warned():
                await asyncio.sleep(0.1)
            return warned()
        finally:
            await catalog_sync.stop(task)

    with caplog.at_level(logging.INFO, logger="web.catalog_sync"):
        records = run_async(asyncio.wait_for(one_run(), 60))
    assert records[0].levelno == logging.WARNING
    assert (
        records[0]
        .getMessage()
        .startswith("catalog sync failed, nothing written (CatalogImportError)")
    )
    assert records[0].exc_info is None  # no traceback in the log
    assert catalog_content(shop) == before and vocabulary_rebuilds == []
