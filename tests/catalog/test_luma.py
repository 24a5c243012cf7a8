"""The Magento CSV importer on the real Luma demo shop files."""

import re
import shutil
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from catalog.db import migrate, session_scope
from catalog.importing import CatalogImportError, Rejection
from catalog.luma import gear_categories, import_luma
from catalog.models import (
    Category,
    Customer,
    Order,
    OrderLine,
    Product,
    ProductImage,
    ProductLink,
    Review,
    Variant,
)
from catalog.settings import LUMA_DATA_DIR
from tests.catalog.test_importing import catalog_content

# 2,038 product rows: 147 configurable apparel products with 1,847 simple children (their
# variants) and 44 standalone gear products (one variant each).
PRODUCTS, VARIANTS = 191, 1891
# Rows of the real files that name products these fixtures do not have (they come from other
# Magento sample modules: bundles, grouped products, shoes): reviews, links and link sources.
UNKNOWN_REFERENCES = 236


def count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def product(session: Session, sku: str) -> Product:
    return session.scalars(select(Product).where(Product.sku == sku)).one()


def test_imports_the_whole_luma_shop(luma_db_url: str) -> None:
    assert count(luma_db_url, Product) == PRODUCTS
    assert count(luma_db_url, Variant) == VARIANTS
    assert count(luma_db_url, Order) == 2
    with session_scope(luma_db_url) as session:
        chaz = product(session, "MH01")
        assert chaz.name == "Chaz Kangeroo Hoodie"
        assert chaz.price_cents == 5200 and chaz.currency == "USD"
        assert "Men/Tops/Hoodies & Sweatshirts" in {c.path for c in chaz.categories}
        assert chaz.gender == "Men"
        assert {v.color for v in chaz.variants} == {"Black", "Gray", "Orange"}
        assert "<p>" not in chaz.description and "&bull;" not in chaz.description
        assert chaz.image == "/m/h/mh01-gray_main.jpg"
        assert [i.url for i in chaz.images] == [
            "/m/h/mh01-gray_main.jpg",
            "/m/h/mh01-gray_alt1.jpg",
            "/m/h/mh01-gray_back.jpg",
        ]


def test_attributes_are_imported(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        chaz = {(a.name, a.value) for a in product(session, "MH01").attributes}
        assert {("material", "Wool"), ("pattern", "Color-Blocked"), ("climate", "Windy")} <= chaz
        assert ("eco_collection", "Yes") in chaz and ("sale", "Yes") in chaz
        names = {name for name, _ in chaz}
        assert not names & {"has_options", "required_options", "performance_fabric", "new"}
        teton = {(a.name, a.value) for a in product(session, "MH02").attributes}
        assert {("material", "Wool"), ("material", "Fleece"), ("material", "Nylon")} <= teton
        tights = {(a.name, a.value) for a in product(session, "WSH11").attributes}
        assert ("material", "LumaTech™") in tights and ("style_bottom", "Compression") in tights
        duffle = {(a.name, a.value) for a in product(session, "24-MB01").attributes}
        assert {("activity", "Gym"), ("features_bags", "TSA Approved"), ("style_bags", "Duffel"),
                ("strap_bags", "Cross Body"), ("material", "Nylon")} <= duffle  # fmt: skip
        assert not {name for name, _ in duffle} & {"attribute_set", "qty", "erin_recommends"}
        summit = {(a.name, a.value) for a in product(session, "24-MB04").attributes}
        assert ("sale", "Yes") in summit


def test_gear_categories_are_whole_paths(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        gear = session.scalars(select(Product).where(Product.sku.like("24-%"))).all()
        assert len(gear) == 44
        shelves = Counter(
            next(c.path for c in p.categories if c.path.startswith("Gear/")) for p in gear
        )
        assert shelves == {"Gear/Bags": 14, "Gear/Watches": 9, "Gear/Fitness Equipment": 21}
        grips = {c.path for c in product(session, "24-UG05").categories}
        assert grips == {
            "Gear/Fitness Equipment",
            "Promotions/Erin Recommends New",
            "Collections/New Luma Yoga Collection",
            "Collections/Erin Recommends",
        }
        categories = {c.path: c for c in session.scalars(select(Category))}
        assert not [p for p in categories if "Bags/Collections" in p]
        for path, category in categories.items():
            parent = path.rpartition("/")[0]
            assert (category.parent.path if category.parent else "") == parent
            assert category.name == path.rpartition("/")[2]
        assert product(session, "24-WG081-gray").gender == "Unisex"
        assert product(session, "24-MG04").gender == "Men"


def test_gear_category_cells() -> None:
    roots = {"Gear", "Collections", "Promotions"}
    assert gear_categories("Gear\nBags\nCollections\nErin Recommends", roots) == [
        "Gear/Bags",
        "Collections/Erin Recommends",
    ]
    assert gear_categories("Gear/Watches,Collections/New Luma Yoga Collection", roots) == [
        "Gear/Watches",
        "Collections/New Luma Yoga Collection",
    ]
    assert gear_categories("\nGear\n\nBags\n", roots) == ["Gear/Bags"]


def test_special_prices_reviews_links_and_orders(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        tote = product(session, "24-WB05")
        assert (tote.price_cents, tote.special_price_cents) == (3200, 2400)
        assert tote.price_on(date(2030, 1, 1)) == 2400
        duffle = product(session, "24-MB01")
        ratings = sorted(r.rating for r in duffle.reviews)
        assert ratings and all(1 <= r <= 5 for r in ratings)
        first = min(duffle.reviews, key=lambda r: r.id)
        assert (first.rating, first.title, first.reviewer) == (
            2, "I prefer more compartments", "Chi",
        )  # fmt: skip
        assert count(luma_db_url, Review) == 348
        upsells = session.scalars(
            select(ProductLink)
            .where(ProductLink.product_id == duffle.id, ProductLink.kind == "upsell")
            .order_by(ProductLink.position)
        ).all()
        linked = [session.get(Product, link.linked_product_id) for link in upsells]
        assert [p.sku for p in linked if p][:3] == ["24-MB02", "24-MB03", "24-MB05"]
        kinds = Counter(session.scalars(select(ProductLink.kind)))
        assert set(kinds) == {"related", "upsell", "crosssell"}
        assert count(luma_db_url, Customer) == 1
        lines = session.scalars(select(OrderLine).order_by(OrderLine.id)).all()
        assert [(line.sku, line.product_id) for line in lines] == [
            ("WS03-XS-Red", product(session, "WS03").id),
            ("WS08-XS-Blue", product(session, "WS08").id),
        ]


def test_names_are_plain_text(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        names = session.scalars(select(Product.name)).all()
    assert not [n for n in names if "&" in n and ";" in n]
    assert not [n for n in names if n != n.strip() or "  " in n]


def test_import_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'twice.sqlite3'}"
    migrate(url)
    reports = []
    contents = []
    for _ in range(2):
        with session_scope(url) as session:
            reports.append(import_luma(session, LUMA_DATA_DIR))
        contents.append(catalog_content(url))
    first, second = reports
    assert (first.created, first.updated, first.unchanged) == (PRODUCTS, 0, 0)
    assert (second.created, second.updated, second.unchanged) == (0, 0, PRODUCTS)
    for report in reports:
        assert (report.variants, report.reviews, report.links, report.orders) == (
            VARIANTS, 348, 1404, 2,
        )  # fmt: skip
        assert len(report.rejected) == UNKNOWN_REFERENCES
        assert {(r.file, r.field) for r in report.rejected} <= {
            ("Review__products_reviews.csv", "sku"),
            ("Catalog__Links__crosssell.csv", "linked_sku"),
            ("Catalog__Links__related.csv", "linked_sku"),
            ("Catalog__Links__related.csv", "sku"),
            ("Configurable__Links__crosssell.csv", "linked_sku"),
        }
    assert contents[0] == contents[1]  # same rows, same ids: nothing rewritten


def line_of(path: Path, prefix: str) -> int:
    """The physical line a row starting with `prefix` is on."""
    lines = path.read_text(encoding="utf-8").split("\n")
    return next(n for n, text in enumerate(lines, start=1) if text.startswith(prefix))


def edit(path: Path, old: str, new: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert old in content, old
    path.write_text(content.replace(old, new, 1), encoding="utf-8")


def test_each_kind_of_bad_row_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "luma"
    shutil.copytree(LUMA_DATA_DIR, data)
    apparel = data / "Configurable__products.csv"
    bags = data / "Catalog__SimpleProduct__products_gear_bags.csv"
    watches = data / "Catalog__SimpleProduct__products_gear_watches.csv"
    reviews = data / "Review__products_reviews.csv"
    upsell = data / "Catalog__Links__upsell.csv"
    edit(bags, ",34,100,", ",thirty,100,")  # 24-MB01
    edit(bags, '"Strive Shoulder Pack",24-MB04,32,', '"  ",24-MB04,32,')
    edit(watches, '"Aim Analog Watch",24-MG04,45,', '"Aim Analog Watch",24-MG04,45 EUR,')
    edit(apparel, "sku=MH01-XS-Orange,", "sku=MH01-XXL-Pink,")
    mh02 = "MH02,,Top,configurable"
    edit(
        apparel,
        '"Catalog, Search",70,,,,,,,,/m/h/mh02',
        '"Catalog, Search",70,,,31/31/2026,,,,,/m/h/mh02',
    )
    edit(reviews, "24-MB02,Rating,5,", "24-MB02,Rating,6,")
    edit(upsell, '"24-MB03","24-MB02\n24-MB05', '"24-MB03","24-MB02\nNOPE-1')
    url = f"sqlite:///{tmp_path / 'bad.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        report = import_luma(session, data)
    by_field = {(r.file, r.field): r for r in report.rejected}
    assert by_field[(bags.name, "price")] == Rejection(
        bags.name, 2, "price", "not a price: 'thirty'"
    )
    strive = line_of(bags, 'Erin Recommends","  ",24-MB04') - 3  # the category cell has 4 lines
    assert by_field[(bags.name, "name")] == Rejection(bags.name, strive, "name", "empty")
    currency = by_field[(watches.name, "price")]
    assert currency.line == 2 and "in EUR but the shop sells in USD" in currency.reason
    variant = by_field[(apparel.name, "configurable_variations")]
    assert variant.line == line_of(apparel, "MH01,,Top,configurable")
    assert variant.reason == "variant MH01-XXL-Pink has no row"
    bad_date = by_field[(apparel.name, "special_price_to_date")]
    assert bad_date.line == line_of(apparel, mh02) and "not a date: '31/31/2026'" in bad_date.reason
    assert by_field[(reviews.name, "rating_value")] == Rejection(
        reviews.name,
        line_of(reviews, "24-MB02,Rating,6,"),
        "rating_value",
        "'6' is not a whole number from 1 to 5",
    )
    assert Rejection(upsell.name, 12, "linked_sku", "unknown SKU 'NOPE-1'") in report.rejected
    orphan = by_field[(apparel.name, "visibility")]  # the child MH01 no longer lists
    assert orphan.line == line_of(apparel, "MH01-XS-Orange,")
    assert report.products == PRODUCTS - 4  # 24-MB01, 24-MB04, 24-MG04 and MH02
    with session_scope(url) as session:
        chaz = product(session, "MH01")
        assert len(chaz.variants) == 14  # one of 15 had no row


def test_a_broken_file_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'partial.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        import_luma(session, LUMA_DATA_DIR)
    before = catalog_content(url)
    broken = {
        "Sales__orders.csv": (b"customer_email,currency\nx@y.z,USD\n", "missing columns"),
        "Review__products_reviews.csv": (bytes(range(256)) * 8, "not UTF-8 text"),
        "Catalog__Links__related.csv": (b"", "the file is empty"),
        "Configurable__products.csv": (b'sku,product_type,name,price,categories\n"MH01', "CSV"),
    }
    for name, (content, message) in broken.items():
        data = tmp_path / name.replace(".", "_")
        shutil.copytree(LUMA_DATA_DIR, data)
        (data / name).write_bytes(content)
        raised = pytest.raises(CatalogImportError, match=re.escape(message))
        with raised as error, session_scope(url) as session:
            session.execute(delete(ProductImage))  # as if the import had begun writing
            import_luma(session, data)
        assert name in str(error.value)
        assert catalog_content(url) == before
    with pytest.raises(CatalogImportError, match="no such folder"), session_scope(url) as s:
        import_luma(s, tmp_path / "nowhere")
