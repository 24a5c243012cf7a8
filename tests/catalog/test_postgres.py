"""The catalog on a real PostgreSQL server (SHOPDESK_TEST_POSTGRES_URL)."""

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from catalog.db import migrate, session_scope
from catalog.luma import import_luma
from catalog.orders import find_order
from catalog.search import search_products
from catalog.settings import LUMA_DATA_DIR
from tests.conftest import skip_or_fail

SERVER_URL = os.environ.get(
    "SHOPDESK_TEST_POSTGRES_URL", "postgresql+psycopg://root@127.0.0.1:5432/test"
)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the server for this test, dropped afterwards."""
    schema = f"shopdesk_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as error:
        skip_or_fail(f"PostgreSQL is not reachable at {SERVER_URL}: {error.orig}")
    try:
        yield f"{SERVER_URL}?options=-csearch_path%3D{schema}"
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
        hits = search_products(session, "black hoodie")
        assert hits and all("Hoodie" in h.name for h in hits)
        order = find_order(session, "000000001")
        assert order is not None and order.status == "processing"
