"""The WooCommerce product CSV importer, on a sample shop written to WooCommerce's product CSV
import schema (tests/catalog/data/woocommerce_products.csv: a dozen kitchen products, with
variable products and their variations, sales with dates, drafts and bad rows)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from catalog import cli
from catalog.db import migrate, session_scope
from catalog.importing import CatalogImportError, PricePolicy, Rejection
from catalog.models import Product
from catalog.sync_cli import EXIT_OK
from catalog.woocommerce_csv import SOURCE, import_woocommerce_csv, read_woocommerce_csv, split_list
from tests.catalog.test_importing import catalog_content

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "woocommerce_products.csv"
EUR = PricePolicy(currency="EUR")
IMPORTED = {
    "LN-NAP", "CM-01", "wc-105", "BK-SUP", "VC-CLASS", "EP-24", "TT-01", "AP-01", "BK-1",
    "SB-1", "WS-1", "CT-1",
}  # fmt: skip
FILE = SAMPLE.name
REJECTED = [
    Rejection(FILE, 18, "Published", "-1 (draft): not for sale, so not imported"),
    Rejection(FILE, 19, "Published", "0 (private): not for sale, so not imported"),
    Rejection(FILE, 20, "Visibility in catalog", "hidden: not shown to shoppers, so not imported"),
    Rejection(
        FILE, 21, "Type", "grouped: a set of other products, which are imported on their own"
    ),
    Rejection(FILE, 22, "Regular price", "not a price: 'abc'"),
    Rejection(FILE, 23, "Sale price", "35 is not below the regular price 30"),
    Rejection(FILE, 24, "Parent", "no variable product 'id:999' in this file"),
]


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'woo.sqlite3'}"
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


def test_sample_shop_is_imported_with_variations_sales_and_categories(db: str) -> None:
    with session_scope(db) as session:
        report = import_woocommerce_csv(session, SAMPLE, EUR)
    assert report.created == len(IMPORTED) and report.rejected == REJECTED
    shop = products(db)
    assert set(shop) == IMPORTED
    assert {p.currency for p in shop.values()} == {"EUR"}
    assert {p.source for p in shop.values()} == {SOURCE}

    napkins = shop["LN-NAP"]  # variable: parent by "id:101" and by SKU, stock from the parent
    assert (napkins.name, napkins.brand, napkins.description) == (
        "Linen Napkins", "Atelier Lin", "Washed linen napkins, set of four .",
    )  # fmt: skip
    assert sorted((v.sku, v.color, v.qty) for v in napkins.variants) == [
        ("LN-NAP-NAT", "Natural", 12), ("LN-NAP-sage", "Sage", 30),
    ]  # fmt: skip
    assert (napkins.price_cents, napkins.special_price_cents) == (2400, 1950)
    assert (napkins.special_from, napkins.special_to) == (date(2026, 11, 1), date(2026, 11, 30))
    assert [c.path for c in napkins.categories] == ["Home/Kitchen/Table Linen"]
    assert {("material", "Linen"), ("tag", "linen"), ("tag", "table")} <= attributes(napkins)
    assert not {name for name, _ in attributes(napkins)} & {"color"}  # the variants' colours

    mug = shop["CM-01"]  # simple: one variant of its own SKU, one colour is the variant's
    assert [(v.sku, v.color, v.qty) for v in mug.variants] == [("CM-01", "Blue", 40)]
    assert sorted(c.path for c in mug.categories) == ["Gifts", "Home/Kitchen/Mugs"]
    assert [i.url.rsplit("/", 1)[1] for i in sorted(mug.images, key=lambda i: i.position)] == [
        "mug.jpg", "mug-side.jpg",
    ]  # fmt: skip

    board = shop["wc-105"]  # no SKU: keyed by its ID; in stock without a count
    assert (board.brand, [v.qty for v in board.variants]) == ("Oakline", [100])
    book = shop["BK-SUP"]  # external: its link
    assert ("link", "https://books.example.com/simple-suppers") in attributes(book)
    pot = shop["EP-24"]  # a sale without dates; out of stock
    assert (pot.price_cents, pot.special_price_cents, pot.special_from) == (9900, 7900, None)
    assert [v.qty for v in pot.variants] == [0]
    assert pot.description == "Enamelled cast iron & a tight lid."
    assert [c.path for c in shop["TT-01"].categories] == ["Home/Kitchen/Towels, Cloths"]
    apron = shop["AP-01"]
    assert apron.gender == "Unisex"
    assert sorted((v.sku, v.size, v.qty) for v in apron.variants) == [
        ("AP-01-M", "M", 0), ("AP-01-S", "S", 5),  # M: on backorder, nothing ships now
    ]  # fmt: skip
    assert shop["VC-CLASS"].price_cents == 6000  # "simple, virtual"


def test_reimport_changes_nothing(db: str) -> None:
    with session_scope(db) as session:
        import_woocommerce_csv(session, SAMPLE, EUR)
    before = catalog_content(db)
    with session_scope(db) as session:
        again = import_woocommerce_csv(session, SAMPLE, EUR)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(IMPORTED))
    assert catalog_content(db) == before


def test_comma_lists_keep_escaped_commas() -> None:
    assert split_list("Home > Kitchen, Towels\\, Cloths, ") == ["Home > Kitchen", "Towels, Cloths"]
    assert split_list("") == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("SKU,Type\nA,simple\n", "missing columns name"),
        ("Name,Regular price\nMug,5\n", "missing columns SKU and ID"),
        ("SKU,Name\n", "no product rows"),
    ],
    ids=["empty", "no-name-column", "no-sku-or-id", "header-only"],
)
def test_unreadable_files_import_nothing(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "products.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogImportError, match=message):
        read_woocommerce_csv(path, EUR)


def test_a_variable_product_without_sellable_variations_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "products.csv"
    path.write_text(
        "ID,Type,SKU,Name,Regular price,Parent\n"
        "1,variable,HAT,Hat,,\n"
        "2,variation,HAT-S,Hat - S,,HAT\n",
        encoding="utf-8",
    )
    read = read_woocommerce_csv(path, EUR)
    assert read.records == [] and read.listed == {"HAT"}
    assert [(r.line, r.field) for r in read.report.rejected] == [(2, "Type"), (3, "Regular price")]


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.delenv("SHOPDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPDESK_DB_PATH", str(path))
    return f"sqlite:///{path}"


def test_cli_import_recognises_the_file(cli_db: str) -> None:
    assert cli.main(["import", str(SAMPLE), "--no-embeddings", "--currency", "EUR"]) == EXIT_OK
    shop = products(cli_db)
    assert set(shop) == IMPORTED and {p.currency for p in shop.values()} == {"EUR"}


def test_cli_import_refuses_an_unknown_csv(cli_db: str, tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("sku,cost\nA,1\n", encoding="utf-8")
    assert cli.main(["import", str(path), "--no-embeddings"]) == cli.EXIT_NOTHING_IMPORTED


def rewritten(tmp_path: Path, change: dict[str, dict[str, str]], drop: set[str]) -> Path:
    """The sample with the rows of `drop` IDs left out and the rows of `change` IDs given
    those cells, under the same file name."""
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    kept = []
    for row in rows:
        if row["ID"] not in drop:
            row.update(change.get(row["ID"], {}))
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
    argv = ["sync", "--source", "woocommerce-csv", str(path), "--currency", "EUR"]
    status = cli.main([*argv, "--no-embeddings", "--json"])
    return status, json.loads(capsys.readouterr().out)


def test_sync_adds_then_discontinues_what_is_gone_or_no_longer_for_sale(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, first = sync(capsys, SAMPLE)
    assert status == EXIT_OK and first["added"] == len(IMPORTED)
    status, again = sync(capsys, SAMPLE)
    assert (again["added"], again["changed"], again["unchanged"]) == (0, 0, len(IMPORTED))

    today = rewritten(
        tmp_path,
        change={
            "120": {"Published": "-1"},  # the bread knife back to draft
            "121": {"Regular price": "n/a"},  # a broken row: still listed
            "102": {"Sale price": ""},  # the napkins' sale is over
        },
        drop={"123"},  # the cake tin is gone
    )
    status, report = sync(capsys, today)
    assert status == EXIT_OK
    assert sorted(report["discontinued"]) == ["BK-1", "CT-1"]
    assert report["changed"] == 1 and report["added"] == 0
    shop = products(cli_db)
    assert shop["LN-NAP"].special_price_cents is None
    assert shop["SB-1"].discontinued_at is None
