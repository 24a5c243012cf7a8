"""The catalog on a real PostgreSQL server (SHOPDESK_TEST_POSTGRES_URL)."""

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from catalog.db import migrate, session_scope
from catalog.luma import import_luma
from catalog.orders import find_order
from catalog.search import SearchFilters, SearchRequest, search
from catalog.search_index import refresh_search
from catalog.settings import LUMA_DATA_DIR
from tests.conftest import skip_or_fail

SERVER_URL = os.environ.get(
    "SHOPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


def postgres_admin() -> Engine:
    """An autocommit engine on the test server (for CREATE/DROP DATABASE); skipped when the
    server cannot be reached, failed when CI=true."""
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except OperationalError as error:
        skip_or_fail(f"PostgreSQL is not reachable at {SERVER_URL}: {error.orig}")
    return admin


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the server for this test, dropped afterwards."""
    with fresh_schema("shopdesk_test") as url:
        yield url


@contextmanager
def fresh_schema(prefix: str) -> Iterator[str]:
    """The URL of a new schema on the server (skipped, or failed under CI, when the server
    does not answer), dropped with everything in it afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        skip_or_fail(f"PostgreSQL is not reachable at {SERVER_URL}: {error.orig}")
    try:
        yield f"{SERVER_URL}?options=-csearch_path%3D{schema},public"  # pg_trgm lives in public
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_luma_catalog_on_postgresql(postgres_url: str) -> None:
    migrate(postgres_url)
    with session_scope(postgres_url) as session:
        assert import_luma(session, LUMA_DATA_DIR).products == 191
    with session_scope(postgres_url) as session:
        assert import_luma(session, LUMA_DATA_DIR).products == 191  # upsert, no duplicates
        order = find_order(session, "000000001")
        assert order is not None and order.status == "processing"


@pytest.mark.postgres
def test_search_on_postgresql(postgres_url: str) -> None:
    """Full-text (tsvector), filters, synonyms, pg_trgm typo correction and recovery."""
    migrate(postgres_url)
    with session_scope(postgres_url) as session:
        import_luma(session, LUMA_DATA_DIR)
        refresh_search(session)
    with session_scope(postgres_url) as session:
        filters = SearchFilters(gender="Men", color="Black", price_max_cents=6000)
        found = search(session, SearchRequest("hoodie", filters, limit=10))
        assert found.hits and found.relaxed == ()
        exact = [h for h in found.hits if h.exact]
        assert exact and all(h.price_cents <= 6000 and "Black" in h.colors for h in exact)
        sweatshirts = {h.sku for h in search(session, SearchRequest("sweatshirt", limit=50)).hits}
        hoodies = {h.sku for h in search(session, SearchRequest("hoodie", limit=50)).hits}
        assert sweatshirts and len(sweatshirts & hoodies) >= 0.8 * len(sweatshirts)
        typo = search(session, SearchRequest("jakcet"))
        assert typo.corrections == (("jakcet", "jacket"),) and "Jacket" in typo.hits[0].name
        relaxed = search(session, SearchRequest("watch", SearchFilters(color="Purple")))
        assert relaxed.relaxed == ("color",) and all("Watch" in h.name for h in relaxed.hits)
        assert search(session, SearchRequest("zzqx flibber")).hits == []
        first = search(session, SearchRequest("tee", limit=5))
        second = search(session, SearchRequest("tee", limit=5, offset=5))
        assert not {h.sku for h in first.hits} & {h.sku for h in second.hits}


@pytest.mark.postgres
def test_imports_on_postgresql(postgres_url: str) -> None:
    """The Magento CSVs twice (the second changes nothing) and a Merchant Center feed."""
    from datetime import date
    from pathlib import Path

    from sqlalchemy import func, select

    from catalog.merchant_feed import import_merchant_feed
    from catalog.models import Product, Variant

    migrate(postgres_url)
    reports = []
    for _ in range(2):
        with session_scope(postgres_url) as session:
            reports.append(import_luma(session, LUMA_DATA_DIR))
    first, second = reports
    assert (first.created, second.created, second.updated, second.unchanged) == (191, 0, 0, 191)
    assert (second.variants, second.reviews, second.links) == (1891, 348, 1404)
    assert first.rejected == second.rejected
    feed = Path(__file__).parent / "fixtures" / "merchant_feed.xml"
    with session_scope(postgres_url) as session:
        report = import_merchant_feed(session, feed)
        assert (report.created, report.variants, report.rejected) == (3, 5, [])
    with session_scope(postgres_url) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 194
        assert session.scalar(select(func.count()).select_from(Variant)) == 1896
        parka = session.scalars(select(Product).where(Product.sku == "JKT-100")).one()
        assert (parka.special_price_cents, parka.special_from) == (99900, date(2026, 11, 1))
