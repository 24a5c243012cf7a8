"""The SYNTHETIC catalog generator of benchmarks/synthetic_catalog.py."""

import shutil
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from benchmarks.synthetic_catalog import SKU_PREFIX, SOURCE, generate, remove
from catalog.db import session_scope
from catalog.models import Product, Variant
from catalog.search import SearchFilters, SearchRequest, search
from catalog.search_index import refresh_search


def _copy(luma_db_url: str, tmp_path: Path) -> str:
    """A private copy of the shared Luma catalog, which other tests only read."""
    source = Path(str(make_url(luma_db_url).database))
    target = tmp_path / "scaled.sqlite3"
    with session_scope(luma_db_url) as session:  # settle the WAL into the file first
        session.connection().exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(source, target)
    return f"sqlite:///{target}"


def test_generates_searchable_products_marked_synthetic(luma_db_url: str, tmp_path: Path) -> None:
    url = _copy(luma_db_url, tmp_path)
    with session_scope(url) as session:
        real = session.scalar(select(func.count(Product.id))) or 0
        lines: list[str] = []
        assert generate(session, 300, seed=1, progress=lines.append) == 300
        assert lines and "300" in lines[-1]
    with session_scope(url) as session:
        synthetic = session.scalars(select(Product).where(Product.source == SOURCE)).all()
        assert len(synthetic) == 300
        assert session.scalar(select(func.count(Product.id))) == real + 300
        assert all(p.sku.startswith(SKU_PREFIX) for p in synthetic)
        assert all(1 <= len(p.variants) <= 6 and p.categories for p in synthetic)
        assert all(p.price_cents > 0 and p.description for p in synthetic)
        hoodie = next(p for p in synthetic if p.name.endswith("Hoodie"))
        hits = search(session, SearchRequest(text=hoodie.name, limit=5)).hits
        assert hoodie.sku in [h.sku for h in hits]
        in_category = search(session, SearchRequest(filters=SearchFilters(category="Gear/Bags"),
                                                    limit=200)).hits  # fmt: skip
        assert any(h.sku.startswith(SKU_PREFIX) for h in in_category)


def test_same_seed_same_products_and_a_second_run_adds_more(
    luma_db_url: str, tmp_path: Path
) -> None:
    url = _copy(luma_db_url, tmp_path)
    with session_scope(url) as session:
        generate(session, 20, seed=7, reindex=False)
        first_names = session.scalars(
            select(Product.name).where(Product.source == SOURCE).order_by(Product.sku)
        ).all()
        generate(session, 20, seed=7, reindex=False)
        names = session.scalars(
            select(Product.name).where(Product.source == SOURCE).order_by(Product.sku)
        ).all()
        assert len(names) == 40 and names[20:] == first_names
        assert remove(session) == 40
        refresh_search(session)
        assert session.scalar(select(func.count(Product.id)).where(Product.source == SOURCE)) == 0
        orphans = select(func.count(Variant.id)).where(~Variant.product_id.in_(select(Product.id)))
        assert session.scalar(orphans) == 0
