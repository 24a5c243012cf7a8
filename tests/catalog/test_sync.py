"""Catalog sync (catalog/sync.py, catalog/sync_run.py): incremental upsert, discontinued and
relisted products, the safety valve, one transaction, and the index kept as a rebuild would."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from catalog.db import engine_for, migrate, session_scope
from catalog.importing import PricePolicy, wanted_state
from catalog.luma import import_luma
from catalog.models import Product, ProductEmbedding, SearchWord
from catalog.search_index import refresh_search, reindex
from catalog.settings import LUMA_DATA_DIR
from catalog.sync import SourceBatch, SyncRefused, stored_states, sync_products
from catalog.sync_run import SyncOptions, read_luma, read_merchant_feed, run_sync
from connectors.products import ProductRecord, VariantRecord
from tests.catalog.test_embeddings import copy_sqlite
from tests.catalog.test_importing import catalog_content

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db_url(luma_db_url: str, tmp_path: Path) -> str:
    """A private copy of the Luma catalog (indexed, embedded) for a test that writes."""
    return copy_sqlite(luma_db_url, tmp_path / "catalog.sqlite3")


@pytest.fixture(scope="module")
def luma() -> SourceBatch:
    return read_luma(LUMA_DATA_DIR, PricePolicy())


def without(batch: SourceBatch, *skus: str) -> SourceBatch:
    return replace(batch, records=[r for r in batch.records if r.sku not in skus])


def new_record(sku: str = "NEW-1", name: str = "Zephyr Trail Windbreaker") -> ProductRecord:
    return ProductRecord(
        sku=sku, name=name, price_cents=5900, file="feed", line=1,
        description="A light shell for windy trail runs.", categories=["Men/Tops/Jackets"],
        gender="Men", variants=[VariantRecord(sku=f"{sku}-M-Blue", size="M", color="Blue", qty=4)],
    )  # fmt: skip


def product(session: Session, sku: str) -> Product:
    return session.scalars(select(Product).where(Product.sku == sku)).one()


def index_rows(session: Session) -> set[tuple[str, ...]]:
    """The full-text index's documents, without their best-seller slots."""
    rows = session.execute(
        text(
            "SELECT product_id, name, categories, keywords, description, facets FROM product_search"
        )
    )
    return {tuple(map(str, row)) for row in rows}


def vocabulary(session: Session) -> set[tuple[str, int, int]]:
    return set(
        session.execute(
            select(SearchWord.word, SearchWord.products, SearchWord.title_products)
        ).tuples()
    )


def test_the_stored_state_read_flat_is_what_the_upsert_compares(
    db_url: str, luma: SourceBatch
) -> None:
    """Every Luma product as stored reads back equal to its record: the flat read and
    `wanted_state` agree field by field, so unchanged products are never rewritten."""
    with session_scope(db_url) as session:
        stored = stored_states(session, luma.source)
        assert len(stored) == len(luma.records)
        for record in luma.records:
            assert stored[record.sku].state == wanted_state(record, luma.source), record.sku


def test_an_unchanged_source_changes_nothing(db_url: str, luma: SourceBatch) -> None:
    before = catalog_content(db_url)
    with session_scope(db_url) as session:
        report = sync_products(session, luma, now=NOW)
    assert (report.added, report.changed, report.discontinued, report.relisted) == (0, 0, [], [])
    assert report.unchanged == len(luma.records)
    assert catalog_content(db_url) == before


def test_new_changed_and_gone_products(db_url: str, luma: SourceBatch) -> None:
    records = [r for r in luma.records if r.sku not in {"MH01", "MH02"}]
    changed = next(r for r in records if r.sku == "MH03")
    records = [replace(r, price_cents=r.price_cents + 100) if r is changed else r for r in records]
    batch = replace(luma, records=[*records, new_record()])
    with session_scope(db_url) as session:
        report = sync_products(session, batch, now=NOW)
    assert (report.added, report.changed) == (1, 1)
    assert report.discontinued == ["MH01", "MH02"]
    assert report.unchanged == len(luma.records) - 3
    with session_scope(db_url) as session:
        gone = product(session, "MH01")
        assert gone.discontinued_at == NOW  # marked, not deleted: orders refer to it
        assert product(session, "MH03").price_cents == changed.price_cents + 100
        assert product(session, "NEW-1").discontinued_at is None
        vectors = select(ProductEmbedding.product_id).where(ProductEmbedding.product_id == gone.id)
        assert session.scalars(vectors).first() is None  # out of the vector index
        assert set(report.touched_ids) == {product(session, s).id for s in ("MH03", "NEW-1")}


def test_a_product_that_comes_back_is_relisted(db_url: str, luma: SourceBatch) -> None:
    with session_scope(db_url) as session:
        sync_products(session, without(luma, "MH01"), now=NOW)
    with session_scope(db_url) as session:
        report = sync_products(session, luma, now=NOW)
    assert report.relisted == ["MH01"] and report.discontinued == []
    with session_scope(db_url) as session:
        relisted = product(session, "MH01")
        assert relisted.discontinued_at is None
        assert relisted.id in report.touched_ids  # to be embedded again
        synced = (index_rows(session), vocabulary(session))
        assert any(row[1] == relisted.name for row in synced[0])  # searchable again
        reindex(session)
        assert (index_rows(session), vocabulary(session)) == synced
        session.rollback()


def test_only_products_of_the_same_source_are_discontinued(db_url: str) -> None:
    feed = read_merchant_feed(FIXTURES / "merchant_feed.tsv", PricePolicy())
    with session_scope(db_url) as session:
        report = sync_products(session, feed, now=NOW)
        assert report.added > 0 and report.discontinued == []  # the Luma products stay
        luma_listed = session.scalar(
            select(func.count()).where(
                Product.source == "magento", Product.discontinued_at.is_(None)
            )
        )
        assert luma_listed == session.scalar(
            select(func.count()).where(Product.source == "magento")
        )


def test_a_repeated_sku_is_rejected_and_its_product_stays_listed(
    db_url: str, luma: SourceBatch
) -> None:
    first = luma.records[0]
    batch = replace(luma, records=[*luma.records, replace(first, line=9999)])
    with session_scope(db_url) as session:
        report = sync_products(session, batch, now=NOW)
    assert [r.line for r in report.rejected] == [9999]
    assert "appears again" in report.rejected[0].reason
    assert report.discontinued == []


def test_listed_skus_of_rejected_rows_are_not_discontinued(db_url: str, luma: SourceBatch) -> None:
    batch = replace(without(luma, "MH01"), listed=frozenset({"MH01"}))
    with session_scope(db_url) as session:
        assert sync_products(session, batch, now=NOW).discontinued == []


@pytest.mark.parametrize("kept", [0.0, 0.4])
def test_the_safety_valve_refuses_a_mass_discontinue_and_writes_nothing(
    db_url: str, luma: SourceBatch, kept: float
) -> None:
    """An empty or cut-off feed must not wipe the shop: nothing is written, not even the
    products the feed did change."""
    cut = luma.records[: int(len(luma.records) * kept)]
    cut = [replace(r, price_cents=r.price_cents + 1) for r in cut]
    before = catalog_content(db_url)
    with pytest.raises(SyncRefused, match="would discontinue"), session_scope(db_url) as session:
        sync_products(session, replace(luma, records=cut), now=NOW)
    assert catalog_content(db_url) == before
    with session_scope(db_url) as session:  # allowed explicitly: it goes ahead
        report = sync_products(
            session, replace(luma, records=cut), now=NOW, allow_mass_discontinue=True
        )
    assert len(report.discontinued) == len(luma.records) - len(cut)


def test_the_share_is_configurable(db_url: str, luma: SourceBatch) -> None:
    batch = without(luma, *[r.sku for r in luma.records[:20]])  # about 10 %
    with pytest.raises(SyncRefused), session_scope(db_url) as session:
        sync_products(session, batch, now=NOW, max_discontinue_share=0.05)


def test_the_incremental_index_equals_a_full_rebuild(db_url: str, luma: SourceBatch) -> None:
    """Documents and word counts after a sync are those a full rebuild makes."""
    renamed = replace(luma.records[5], name="Quasar Ultralight Anorak")
    records = [renamed if r.sku == renamed.sku else r for r in luma.records[2:]]
    batch = replace(luma, records=[*records, new_record()])
    with session_scope(db_url) as session:
        sync_products(session, batch, now=NOW)
    with session_scope(db_url) as session:
        synced = (index_rows(session), vocabulary(session))
        assert ("quasar", 1, 1) in synced[1]
        reindex(session)
        assert (index_rows(session), vocabulary(session)) == synced
        session.rollback()


def test_run_sync_dry_run_writes_nothing(db_url: str, luma: SourceBatch) -> None:
    before = catalog_content(db_url)
    report = run_sync(db_url, without(luma, "MH01"), SyncOptions(dry_run=True))
    assert report.dry_run and report.discontinued == ["MH01"] and report.embedded is None
    assert "would be discontinued" in report.summary()
    assert catalog_content(db_url) == before


def test_run_sync_embeds_what_it_touched_after_the_commit(db_url: str, luma: SourceBatch) -> None:
    asked: list[list[int]] = []

    def embed(url: str, ids: list[int]) -> int:
        asked.append(ids)
        return len(ids)

    report = run_sync(db_url, replace(luma, records=[*luma.records, new_record()]), embed=embed)
    assert report.embedded == 1 and len(asked) == 1
    with session_scope(db_url) as session:
        assert asked[0] == [product(session, "NEW-1").id]


def test_a_failed_embedding_leaves_the_sync_committed(db_url: str, luma: SourceBatch) -> None:
    def broken(url: str, ids: list[int]) -> int:
        raise RuntimeError("no model")

    report = run_sync(db_url, without(luma, "MH01"), embed=broken)
    assert report.embedding_error == "RuntimeError: no model"
    assert "embeddings NOT refreshed" in report.summary()
    with session_scope(db_url) as session:
        assert product(session, "MH01").discontinued_at is not None


def test_the_real_embedder_embeds_a_new_product(db_url: str, luma: SourceBatch) -> None:
    report = run_sync(db_url, replace(luma, records=[*luma.records, new_record()]))
    assert report.embedding_error is None and report.embedded == 1
    with session_scope(db_url) as session:
        new_id = product(session, "NEW-1").id
        stored = select(ProductEmbedding).where(ProductEmbedding.product_id == new_id)
        assert session.scalars(stored).one_or_none() is not None


def test_the_report_as_text_and_json(db_url: str, luma: SourceBatch) -> None:
    report = run_sync(db_url, without(luma, "MH01", "MH02"), SyncOptions(embeddings=False))
    data = json.loads(json.dumps(report.to_dict(), default=str))
    assert data["discontinued"] == ["MH01", "MH02"] and data["source"] == "magento"
    assert {"added", "changed", "unchanged", "relisted", "rejected"} <= set(data)
    assert "touched_ids" not in data
    lines = report.lines()
    assert lines[0].startswith("magento: 0 added, 0 changed")
    assert lines[1] == "  discontinued: MH01, MH02"


def test_a_product_taken_over_from_another_source_keeps_its_orders(db_url: str) -> None:
    """A SKU another source held moves to this one, by the same row (orders keep pointing)."""
    with session_scope(db_url) as session:
        before = product(session, "MH01")
        record = ProductRecord(
            sku="MH01", name=before.name, price_cents=before.price_cents, file="f", line=1
        )
        batch = SourceBatch("merchant", "merchant:f", [record])
        sync_products(session, batch, now=NOW)
    with session_scope(db_url) as session:
        after = session.scalars(
            select(Product).where(Product.sku == "MH01").options(selectinload(Product.variants))
        ).one()
        assert after.id == before.id and after.source == "merchant"


def pg_index_rows(session: Session) -> set[tuple[str, str]]:
    rows = session.execute(text("SELECT product_id, document::text FROM product_search"))
    return {(str(product_id), document) for product_id, document in rows}


def test_the_incremental_index_on_postgresql(luma: SourceBatch) -> None:
    """The same sync on PostgreSQL: tsvector rows and word counts as a rebuild makes them."""
    from tests.catalog.test_postgres import fresh_schema

    with fresh_schema("shopdesk_sync") as url:
        migrate(url)
        with session_scope(url) as session:
            import_luma(session, LUMA_DATA_DIR)
            refresh_search(session)
        renamed = replace(luma.records[5], name="Quasar Ultralight Anorak")
        records = [renamed if r.sku == renamed.sku else r for r in luma.records[2:]]
        with session_scope(url) as session:
            report = sync_products(session, replace(luma, records=[*records, new_record()]))
            assert (report.added, report.changed, len(report.discontinued)) == (1, 1, 2)
        with session_scope(url) as session:
            synced = (pg_index_rows(session), vocabulary(session))
            assert ("quasar", 1, 1) in synced[1]
            reindex(session)
            assert (pg_index_rows(session), vocabulary(session)) == synced
            session.rollback()
        engine_for(url).dispose()
