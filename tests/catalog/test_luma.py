import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from catalog.db import migrate, session_scope
from catalog.luma import CatalogImportError, import_luma
from catalog.models import Order, Product, Variant
from catalog.settings import LUMA_DATA_DIR


def count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_imports_the_whole_luma_shop(luma_db_url: str) -> None:
    # 147 configurable apparel products and 44 gear products; 1,847 apparel variants + gear.
    assert count(luma_db_url, Product) == 191
    assert count(luma_db_url, Variant) == 1891
    assert count(luma_db_url, Order) == 2
    with session_scope(luma_db_url) as session:
        chaz = session.scalars(select(Product).where(Product.sku == "MH01")).one()
        assert chaz.name == "Chaz Kangeroo Hoodie"
        assert chaz.price_cents == 5200
        assert "Men/Tops/Hoodies & Sweatshirts" in {c.path for c in chaz.categories}
        assert chaz.gender == "Men"
        assert {v.color for v in chaz.variants} == {"Black", "Gray", "Orange"}
        assert "<p>" not in chaz.description and "&bull;" not in chaz.description


def test_names_are_plain_text(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        names = session.scalars(select(Product.name)).all()
    assert not [n for n in names if "&" in n and ";" in n]


def test_import_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    migrate(url)
    for _ in range(2):
        with session_scope(url) as session:
            report = import_luma(session, LUMA_DATA_DIR)
        assert report.products == 191 and not report.rejected
    assert count(url, Product) == 191
    assert count(url, Variant) == 1891
    assert count(url, Order) == 2


def test_bad_rows_are_reported_with_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "luma"
    shutil.copytree(LUMA_DATA_DIR, data)
    bags = data / "Catalog__SimpleProduct__products_gear_bags.csv"
    bags.write_text(bags.read_text(encoding="utf-8").replace(",34,100,", ",thirty,100,", 1))
    url = f"sqlite:///{tmp_path / 'bad.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        report = import_luma(session, data)
    assert report.rejected == [
        "Catalog__SimpleProduct__products_gear_bags.csv:2: not a price: 'thirty'"
    ]
    assert report.products == 190


def test_a_failed_import_changes_nothing(tmp_path: Path, luma_db_url: str) -> None:
    data = tmp_path / "luma"
    shutil.copytree(LUMA_DATA_DIR, data)
    (data / "Sales__orders.csv").write_text("customer_email,currency\nx@y.z,USD\n")
    url = f"sqlite:///{tmp_path / 'partial.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        import_luma(session, LUMA_DATA_DIR)
    expected = "Sales__orders.csv: missing columns payment"
    with pytest.raises(CatalogImportError, match=re.escape(expected)), session_scope(url) as s:
        s.execute(delete(Product))
        import_luma(s, data)
    assert count(url, Product) == 191
