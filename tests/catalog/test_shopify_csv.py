"""The Shopify product CSV importer, on a sample shop written to Shopify's documented format
(tests/catalog/data/shopify_products.csv: a dozen kitchen products, with variants, sales,
extra image rows, drafts and bad rows)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from catalog import cli
from catalog.db import migrate, session_scope
from catalog.importing import CatalogImportError, PricePolicy, Rejection
from catalog.models import Product
from catalog.shop_csv import shop_currency
from catalog.shopify_csv import SOURCE, import_shopify_csv, read_shopify_csv
from catalog.sync_cli import EXIT_BAD_ARGUMENTS, EXIT_OK
from tests.catalog.test_importing import catalog_content

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "shopify_products.csv"
SHOP_URL = "https://kitchen.example.com"
EUR = PricePolicy(currency="EUR")
IMPORTED = {
    "ceramic-mug", "linen-apron", "chef-knife", "cast-iron-pan", "tea-towel-set",
    "olive-wood-board", "espresso-cups", "wooden-spoon-set", "stoneware-bowl", "salt-grinder",
    "glass-carafe", "bread-bin",
}  # fmt: skip
FILE = SAMPLE.name
REJECTED = [
    Rejection(FILE, 18, "Variant Inventory Qty", "not a quantity: 'lots'"),
    Rejection(FILE, 22, "Status", "draft: not for sale, so not imported"),
    Rejection(FILE, 23, "Status", "archived: not for sale, so not imported"),
    Rejection(FILE, 24, "Published", "FALSE: hidden from the online store, so not imported"),
    Rejection(FILE, 25, "Variant Price", "not a price: 'twelve'"),
    Rejection(FILE, 26, "Handle", "empty: every row names its product"),
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shopify.sqlite3'}"
    migrate(url)
    return url


def products(url: str) -> dict[str, Product]:
    with session_scope(url) as session:
        found = {p.sku: p for p in session.scalars(select(Product))}
        for product in found.values():  # load what the assertions read
            _ = (product.categories, product.variants, product.attributes, product.images)
        return found


def attributes(product: Product) -> set[tuple[str, str]]:
    return {(a.name, a.value) for a in product.attributes}


def test_sample_shop_is_imported_with_variants_sales_and_images(db: str) -> None:
    with session_scope(db) as session:
        report = import_shopify_csv(session, SAMPLE, EUR, SHOP_URL)
    assert report.created == len(IMPORTED) and report.rejected == REJECTED
    shop = products(db)
    assert set(shop) == IMPORTED
    assert {p.currency for p in shop.values()} == {"EUR"}
    assert {p.source for p in shop.values()} == {SOURCE}

    mug = shop["ceramic-mug"]  # two colour variants and an image-only row
    assert (mug.name, mug.brand, mug.price_cents) == ("Ceramic Mug", "Clayworks", 1400)
    assert mug.description == "Hand-glazed stoneware, 350 ml ."
    assert sorted((v.sku, v.color, v.qty) for v in mug.variants) == [
        ("MUG-BLU", "Blue", 25), ("MUG-WHT", "White", 0),
    ]  # fmt: skip
    assert sorted(c.path for c in mug.categories) == [
        "Home & Garden/Kitchen & Dining/Tableware/Drinkware/Mugs", "Mugs",
    ]  # fmt: skip
    assert [i.url.rsplit("/", 1)[1] for i in sorted(mug.images, key=lambda i: i.position)] == [
        "mug-blue.jpg", "mug-white.jpg", "mug-handle.jpg",
    ]  # fmt: skip
    assert {("tag", "ceramic"), ("tag", "gift"), ("gtin", "4006381333931"),
            ("link", f"{SHOP_URL}/products/ceramic-mug")} <= attributes(mug)  # fmt: skip
    assert mug.url_key == "ceramic-mug"

    apron = shop["linen-apron"]  # compare-at price above the price: on sale
    assert (apron.price_cents, apron.special_price_cents) == (3900, 2900)
    assert apron.gender == "Unisex"
    assert sorted((v.sku, v.size, v.color) for v in apron.variants) == [
        ("APR-L", "L", "Natural"), ("APR-M", "M", "Natural"), ("APR-S", "S", "Natural"),
    ]  # fmt: skip

    towels = shop["tea-towel-set"]  # compare-at price below the price: no sale
    assert (towels.price_cents, towels.special_price_cents) == (1200, None)

    pan = shop["cast-iron-pan"]  # the cheapest variant's price; other options are attributes
    assert pan.price_cents == 4500 and ("material", "Cast iron") in attributes(pan)
    assert sorted(str(v.size) for v in pan.variants) == ["20 cm", "26 cm"]

    assert [(v.sku, v.qty) for v in shop["olive-wood-board"].variants] == [("OWB-1", 100)]
    assert sorted(v.sku for v in shop["espresso-cups"].variants) == [
        "espresso-cups-black", "espresso-cups-red",
    ]  # fmt: skip
    spoons = sorted(shop["wooden-spoon-set"].images, key=lambda i: i.position)
    assert [i.url.rsplit("/", 1)[1] for i in spoons] == ["spoons.jpg", "spoons-detail.jpg"]
    assert [v.sku for v in shop["stoneware-bowl"].variants] == ["BWL-S"]  # BWL-L's row rejected
    assert [c.path for c in shop["salt-grinder"].categories] == ["Grinders"]  # no taxonomy id
    assert shop["bread-bin"].description == "Keeps bread fresh & crusty."


def test_reimport_changes_nothing(db: str) -> None:
    with session_scope(db) as session:
        import_shopify_csv(session, SAMPLE, EUR, SHOP_URL)
    before = catalog_content(db)
    with session_scope(db) as session:
        again = import_shopify_csv(session, SAMPLE, EUR, SHOP_URL)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(IMPORTED))
    assert catalog_content(db) == before


NEWER_HEADER = [
    "Title", "URL handle", "Description", "Vendor", "Product category", "Type", "Tags",
    "Published on online store", "Status", "SKU", "Option1 name", "Option1 value", "Price",
    "Compare-at price", "Inventory tracker", "Inventory quantity", "Product image URL",
    "Image position",
]  # fmt: skip


def test_the_newer_exports_column_names_are_read_too(tmp_path: Path) -> None:
    path = tmp_path / "products_export.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(NEWER_HEADER)
        writer.writerow([
            "Travel Mug", "travel-mug", "<p>Keeps coffee hot.</p>", "Clayworks",
            "Home & Garden > Kitchen & Dining > Tableware > Drinkware > Mugs", "Mugs", "steel",
            "TRUE", "Active", "TM-S", "Size", "Small", "19.00", "25.00", "shopify", "3",
            "https://cdn.example.com/tm.jpg", "1",
        ])  # fmt: skip
        writer.writerow(["", "travel-mug", "", "", "", "", "", "", "", "TM-L", "", "Large",
                         "21.00", "", "shopify", "0", "", ""])  # fmt: skip
    read = read_shopify_csv(path, EUR)
    assert read.report.rejected == []
    [mug] = read.records
    assert (mug.sku, mug.name, mug.description) == ("travel-mug", "Travel Mug", "Keeps coffee hot.")
    assert (mug.price_cents, mug.special_price_cents, mug.currency) == (2500, 1900, "EUR")
    assert [(v.sku, v.size, v.qty) for v in mug.variants] == [
        ("TM-S", "Small", 3),
        ("TM-L", "Large", 0),
    ]
    assert mug.images == ["https://cdn.example.com/tm.jpg"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("Handle,Body (HTML)\nmug,nice\n", "missing columns title"),
        ("Handle,Title\n", "no product rows"),
        ('Handle,Title\nmug,"Mug\n', "not a readable CSV file"),
    ],
    ids=["empty", "no-title-column", "header-only", "broken-quoting"],
)
def test_unreadable_files_import_nothing(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "products.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogImportError, match=message):
        read_shopify_csv(path, EUR)


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.delenv("SHOPDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPDESK_DB_PATH", str(path))
    monkeypatch.setenv("SHOPDESK_SHOP_URL", SHOP_URL)
    return f"sqlite:///{path}"


def test_cli_import_recognises_the_file_and_keeps_the_currency(cli_db: str) -> None:
    assert cli.main(["import", str(SAMPLE), "--no-embeddings", "--currency", "EUR"]) == EXIT_OK
    shop = products(cli_db)
    assert set(shop) == IMPORTED and {p.currency for p in shop.values()} == {"EUR"}
    assert ("link", f"{SHOP_URL}/products/chef-knife") in attributes(shop["chef-knife"])


def test_cli_import_defaults_to_the_shops_currency(cli_db: str) -> None:
    assert cli.main(["import", str(SAMPLE), "--format", "shopify-csv", "--no-embeddings"]) == 0
    assert {p.currency for p in products(cli_db).values()} == {shop_currency()}


def rewritten(tmp_path: Path, change: dict[str, dict[str, str]], drop: set[str]) -> Path:
    """The sample with the rows of `drop` handles left out and the first row of each handle
    in `change` given those cells, under the same file name."""
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    seen: set[str] = set()
    kept = []
    for row in rows:
        if row["Handle"] in drop:
            continue
        if row["Handle"] in change and row["Handle"] not in seen:
            row.update(change[row["Handle"]])
        seen.add(row["Handle"])
        kept.append(row)
    folder = tmp_path / "today"
    folder.mkdir()
    path = folder / SAMPLE.name
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    return path


def sync(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    argv = ["sync", "--source", "shopify-csv", str(path), "--currency", "EUR"]
    status = cli.main([*argv, "--no-embeddings", "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_sync_adds_then_discontinues_what_is_gone_or_no_longer_for_sale(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, first = sync(capsys, SAMPLE)
    assert status == EXIT_OK and first["added"] == len(IMPORTED)
    assert len(first["rejected"]) == len(REJECTED)
    status, again = sync(capsys, SAMPLE)
    assert (again["added"], again["changed"], again["unchanged"]) == (0, 0, len(IMPORTED))

    today = rewritten(
        tmp_path,
        change={
            "chef-knife": {"Status": "draft"},  # taken off sale
            "glass-carafe": {"Variant Price": "cheap"},  # a broken row: still listed
            "bread-bin": {"Variant Price": "45.00"},  # a new price
        },
        drop={"olive-wood-board"},
    )
    status, report = sync(capsys, today)
    assert status == EXIT_OK
    assert sorted(report["discontinued"]) == ["chef-knife", "olive-wood-board"]
    assert report["changed"] == 1 and report["added"] == 0
    shop = products(cli_db)
    assert shop["bread-bin"].price_cents == 4500
    assert shop["glass-carafe"].discontinued_at is None
    assert shop["chef-knife"].discontinued_at is not None


def test_sync_source_needs_its_file(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["sync", "--source", "shopify-csv"]) == EXIT_BAD_ARGUMENTS
    assert "needs the feed's FILE" in capsys.readouterr().err
