"""The nearest-vector indexes: numpy scan, sqlite-vec and pgvector give the scan's top k."""

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from benchmarks.vector_index import fill, queries_near, unit_vectors
from catalog import vector_index
from catalog.db import engine_for, migrate, session_scope
from catalog.vector_index import PGVECTOR, SCAN, SQLITE_VEC, ScanIndex, index_for
from tests.catalog.test_postgres import fresh_schema
from tests.conftest import require

PRODUCTS = 600
K = 20


@pytest.fixture(autouse=True)
def fresh_indexes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(vector_index.INDEX_VARIABLE, raising=False)
    vector_index.clear()
    yield
    vector_index.clear()


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return unit_vectors(PRODUCTS, np.random.default_rng(7))


@pytest.fixture
def sqlite_url(tmp_path: Path, vectors: np.ndarray) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        fill(session, vectors)
    yield url
    engine_for(url).dispose()


def exact(vectors: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    scores = vectors @ query
    order = sorted(range(len(vectors)), key=lambda i: (-scores[i], i))
    return [i + 1 for i in order[:k]]  # fill() numbers products from 1


def test_scan_gives_the_exact_top_k_best_first() -> None:
    matrix = unit_vectors(50, np.random.default_rng(1))
    index = ScanIndex(list(range(1, 51)), matrix)
    query = matrix[3]
    found = index.nearest(query, 5)
    assert [n.product_id for n in found] == exact(matrix, query, 5)
    assert found[0].product_id == 4 and np.isclose(found[0].similarity, 1.0)
    assert index.nearest(query, 500)[-1] == min(index.nearest(query, 500), key=lambda n: n[1])
    assert len(index.nearest(query, 500)) == 50


def test_sqlite_vec_builds_and_answers_like_the_scan(
    sqlite_url: str, vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(vector_index.INDEX_VARIABLE, SQLITE_VEC)
    queries = queries_near(vectors, 10, np.random.default_rng(3))
    with session_scope(sqlite_url) as session:
        index = index_for(session, wait=True)
        assert index is not None and index.kind == SQLITE_VEC and index.size == PRODUCTS
        for query in queries:
            found = index.nearest(query, K)
            assert [n.product_id for n in found] == exact(vectors, query, K)
            cosines = vectors[[n.product_id - 1 for n in found]] @ query
            assert np.allclose([n.similarity for n in found], cosines, atol=1e-5)
        some = [n.product_id for n in found[:5]]
        assert index.similarities(session, queries[-1], some) == pytest.approx(
            {i: float(vectors[i - 1] @ queries[-1]) for i in some}, abs=1e-5
        )
    built = Path(sqlite_url.removeprefix("sqlite:///") + vector_index.SQLITE_SUFFIX)
    assert built.is_file()


def test_sqlite_vec_is_rebuilt_when_the_vectors_change(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(vector_index.INDEX_VARIABLE, SQLITE_VEC)
    monkeypatch.setattr(vector_index, "RECHECK_SECONDS", 0.0)
    extra = unit_vectors(PRODUCTS + 1, np.random.default_rng(9))
    with session_scope(sqlite_url) as session:
        assert index_for(session, wait=True).size == PRODUCTS  # type: ignore[union-attr]
    with session_scope(sqlite_url) as session:
        # one more product whose vector is the query itself
        from catalog.models import Product, ProductEmbedding

        session.add(
            Product(id=PRODUCTS + 1, sku="NEW-1", name="New", price_cents=100, url_key="new")
        )
        session.flush()
        session.add(
            ProductEmbedding(
                product_id=PRODUCTS + 1,
                model=vector_index.stored(session).model,
                text_hash="new",
                vector=extra[-1].astype("<f4").tobytes(),
            )
        )
    with session_scope(sqlite_url) as session:
        index = index_for(session, wait=True)
        assert index is not None and index.kind == SQLITE_VEC and index.size == PRODUCTS + 1
        assert index.nearest(extra[-1], 1)[0].product_id == PRODUCTS + 1


def test_auto_scans_a_small_catalog_and_indexes_a_large_one(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(sqlite_url) as session:
        assert index_for(session).kind == SCAN  # type: ignore[union-attr]
    monkeypatch.setattr(vector_index, "SQLITE_VEC_THRESHOLD", PRODUCTS)
    vector_index.clear()
    with session_scope(sqlite_url) as session:
        assert index_for(session, wait=True).kind == SQLITE_VEC  # type: ignore[union-attr]


def test_a_search_scans_while_the_index_is_built_in_the_background(
    sqlite_url: str, vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vector_index, "SQLITE_VEC_THRESHOLD", PRODUCTS)
    query = vectors[42]
    with session_scope(sqlite_url) as session:
        first = index_for(session)
        assert first is not None and first.kind == SCAN  # answers at once, meanwhile
        assert first.nearest(query, 1)[0].product_id == 43
        deadline = time.monotonic() + 60
        index = first
        while index.kind != SQLITE_VEC and time.monotonic() < deadline:
            time.sleep(0.1)
            index = index_for(session)  # type: ignore[assignment]
        assert index.kind == SQLITE_VEC and index.nearest(query, 1)[0].product_id == 43


def test_a_catalog_without_vectors_has_no_index(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        assert index_for(session) is None


def test_the_build_command_says_what_it_made(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert vector_index.main(["build", "--database-url", sqlite_url, "--kind", SQLITE_VEC]) == 0
    shown = capsys.readouterr().out
    assert f"{PRODUCTS} vectors" in shown and "sqlite-vec index ready" in shown
    assert vector_index.main(["status", "--database-url", sqlite_url]) == 0
    assert "search uses: scan" in capsys.readouterr().out


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def postgres_url(vectors: np.ndarray) -> Iterator[str]:
    with fresh_schema("shopdesk_vectors") as url:
        try:
            migrate(url)
            with session_scope(url) as session:
                fill(session, vectors)
            yield url
        finally:
            engine_for(url).dispose()


@pytest.mark.postgres
def test_postgresql_scan_answers_like_numpy(postgres_url: str, vectors: np.ndarray) -> None:
    query = queries_near(vectors, 1, np.random.default_rng(5))[0]
    with session_scope(postgres_url) as session:
        index = index_for(session)
        assert index is not None and index.kind == SCAN
        assert [n.product_id for n in index.nearest(query, K)] == exact(vectors, query, K)


@pytest.mark.postgres
def test_pgvector_hnsw_finds_the_scans_neighbours(
    postgres_url: str, vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(postgres_url) as session:
        require(
            vector_index.pgvector_available(session),
            "this PostgreSQL has no `vector` extension (Debian 12's PostgreSQL 15 packages "
            "none; search uses the numpy scan there)",
            feature="pgvector",
        )
    monkeypatch.setenv(vector_index.INDEX_VARIABLE, PGVECTOR)
    queries = queries_near(vectors, 10, np.random.default_rng(11))
    recalls = []
    with session_scope(postgres_url) as session:
        index = index_for(session, wait=True)
        assert index is not None and index.kind == PGVECTOR and index.size == PRODUCTS
        for query in queries:
            found = [n.product_id for n in index.nearest(query, K)]
            assert len(found) == K
            recalls.append(len(set(found) & set(exact(vectors, query, K))) / K)
            assert found[0] == exact(vectors, query, 1)[0]  # the true nearest is never missed
    assert np.mean(recalls) >= 0.9  # HNSW is approximate
