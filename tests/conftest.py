"""Shared test set-up. Loaded by both Python sides, so it imports nothing of ours at the top:
the Python 3.10 run (Rasa) collects only tests/bot, the 3.11 run everything else."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, NoReturn

import pytest

collect_ignore = ["bot"] if sys.version_info >= (3, 11) else []


# The markers that say a test needs something outside its own process (a stack, a server, a
# browser); each also makes it `live`, so `make test-fast` (`-m "not live"`) leaves it out.
LIVE_MARKERS: Final = frozenset({"e2e", "postgres", "redis"})
# Fixtures that start such a thing: chromium (`browser`), the security tests' stack (`live`),
# the demo Oscar shop (`oscar_shop`, tests/connectors/conftest.py).
LIVE_FIXTURES: Final = frozenset({"browser", "live", "oscar_shop"})
# Fixtures that train a classifier adapter for real (a minute or more on 2 cores): their tests
# are `slow` (as are those marked so by hand), which `make test-fast` leaves out too.
TRAINING_FIXTURES: Final = frozenset({"trained_small", "current_adapter"})
# What CI may knowingly lack, comma-separated (e.g. `pgvector`: Debian 12's PostgreSQL has no
# `vector` extension); a test that needs one of them is skipped in CI too, by name, not by chance.
WITHOUT_VARIABLE: Final = "SHOPDESK_TEST_WITHOUT"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def declared_missing() -> frozenset[str]:
    """The features CI declares absent in SHOPDESK_TEST_WITHOUT."""
    return frozenset(
        f.strip() for f in os.environ.get(WITHOUT_VARIABLE, "").split(",") if f.strip()
    )


def skip_or_fail(reason: str, feature: str | None = None) -> NoReturn:
    """Skip on a developer machine without the service; fail in CI, where it must be there
    (unless CI names `feature` in SHOPDESK_TEST_WITHOUT). Works at module level too."""
    if in_ci() and (feature is None or feature not in declared_missing()):
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason, allow_module_level=True)


def require(condition: object, reason: str, feature: str | None = None) -> None:
    """The one way a test depends on its environment: nothing happens when `condition` holds,
    else `skip_or_fail(reason, feature)`. A bare pytest.skip/skipif/importorskip would hide a
    failure in CI (tests/test_skips.py refuses them)."""
    if not condition:
        skip_or_fail(reason, feature)


def require_module(name: str, reason: str) -> None:
    """`pytest.importorskip` that fails in CI: the module must be importable there."""
    require(importlib.util.find_spec(name.partition(".")[0]) is not None, reason)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `live` every test that needs a stack, a server or a browser (see LIVE_MARKERS), and
    `slow` every one that trains a model (TRAINING_FIXTURES)."""
    for item in items:
        markers = {mark.name for mark in item.iter_markers()}
        fixtures = set(getattr(item, "fixturenames", ()))
        if markers & LIVE_MARKERS or fixtures & LIVE_FIXTURES:
            item.add_marker(pytest.mark.live)
        if fixtures & TRAINING_FIXTURES:
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Each test reads the environment it sets: the process's cached settings
    (core.settings.settings) start over before and after it."""
    try:
        from core.settings import settings
    except ImportError:  # the Rasa side's venv has no pydantic-settings
        yield
        return

    settings.cache_clear()
    yield
    settings.cache_clear()


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

    require(
        CHROMIUM.exists(), f"{CHROMIUM} is missing: scripts/bootstrap installs Debian's chromium"
    )
    require_module("playwright", "playwright is missing: run scripts/bootstrap")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
