"""Shared test set-up. Loaded by both Python sides, so it imports nothing of ours at the top:
the Python 3.10 run (Rasa) collects only tests/bot, the 3.11 run everything else."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

collect_ignore = ["bot"] if sys.version_info >= (3, 11) else []


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip on a developer machine without the service; fail in CI, where it must be there."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def luma_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite catalog loaded with the Luma shop as `catalog.cli load` loads it: imported,
    indexed for search, with ranking signals and embeddings. Shared by read-only tests."""
    from catalog.db import migrate, session_scope
    from catalog.embeddings import refresh_embeddings
    from catalog.luma import import_luma
    from catalog.search_index import refresh_search
    from catalog.settings import LUMA_DATA_DIR

    url = f"sqlite:///{tmp_path_factory.mktemp('catalog') / 'luma.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        import_luma(session, LUMA_DATA_DIR)
        refresh_search(session)
    with session_scope(url) as session:
        refresh_embeddings(session, progress=False)
    return url


@pytest.fixture
def catalog_env(luma_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Points the actions at the Luma test catalog."""
    from actions import catalog_access

    monkeypatch.setenv("SHOPDESK_DATABASE_URL", luma_db_url)
    monkeypatch.setenv("SHOPDESK_SHOP_URL", "https://shop.test")
    catalog_access.settings.cache_clear()
    yield luma_db_url
    catalog_access.settings.cache_clear()


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium under Playwright; skipped (failed in CI) when it is missing."""
    from tests.browser import CHROMIUM, CHROMIUM_ARGS

    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing: scripts/bootstrap installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
