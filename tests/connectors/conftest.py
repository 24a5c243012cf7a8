"""Fixtures of the connector tests: the demo Django Oscar shop, running for real.

`oscar_shop` is one shop for the whole test session (starting it takes a while: it builds a
Luma catalog with today's order book, exports the sample orders, migrates Oscar's database and
loads them), in a temporary folder, on a free port. Tests that change orders should change
different ones, or start their own `OscarShop`. Its `url` is the API root
(http://127.0.0.1:PORT/api) and `token_file` holds the staff API user's token; `stop()` and
`start()` take it down and bring it back with the same data on the same port.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import require

if TYPE_CHECKING:
    from launcher.oscar_shop import OscarShop

OSCAR_FEATURE = "oscar"  # the name CI may list in SHOPDESK_TEST_WITHOUT


def start_oscar_shop(folder: Path) -> OscarShop:
    """A new demo shop in `folder`, started; skipped (failed in CI) without .venv-oscar."""
    from launcher.oscar_shop import OscarShop, build_demo_catalog, missing_venv

    problem = missing_venv()
    require(problem is None, f"the demo Oscar shop cannot run: {problem}", OSCAR_FEATURE)
    catalog_url = f"sqlite:///{folder / 'shopdesk_catalog.sqlite3'}"
    build_demo_catalog(catalog_url, date.today())
    return OscarShop(folder / "shop", catalog_url).start()


@pytest.fixture(scope="session")
def oscar_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OscarShop]:
    """The demo Oscar shop with ShopDesk's demo data, shared by the session's tests."""
    shop = start_oscar_shop(tmp_path_factory.mktemp("oscar_shop"))
    try:
        yield shop
    finally:
        shop.stop()
