"""The shared import core (prices, dates, cleaning, upsert by SKU) and the `catalog.cli` imports."""

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, selectinload

from catalog import cli
from catalog.db import migrate, session_scope
from catalog.importing import (
    CatalogImportError,
    ImportReport,
    PricePolicy,
    Rejection,
    normalise_gender,
    parse_date,
    parse_price,
    read_table,
    split_values,
    upsert_products,
)
from catalog.models import Category, Product
from catalog.settings import LUMA_DATA_DIR
from connectors.products import ProductRecord, VariantRecord

FIXTURES = Path(__file__).parent / "fixtures"
TABLES = (
    "products", "variants", "categories", "product_categories", "product_attributes",
    "product_images", "reviews", "product_links", "customers", "orders", "order_lines",
)  # fmt: skip


def catalog_content(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the catalog's tables, sorted: equal means unchanged in content."""
    with session_scope(url) as session:
        return {
            table: sorted(
                tuple(map(str, row)) for row in session.execute(text(f"SELECT * FROM {table}"))
            )
            for table in TABLES
        }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("52", 5200),
        ("52.00", 5200),
        ("52.0000", 5200),
        ("1,299.50", 129950),
        ("1,299", 129900),
        ("29.99 USD", 2999),
        ("USD 29.99", 2999),
        ("29.99 usd", 2999),
        ("$1,299.00", 129900),
        ("12,50 USD", 1250),
        ("1.299,50 USD", 129950),
        ("  7 ", 700),
    ],
)
def test_prices_in_the_shop_currency(value: str, expected: int) -> None:
    assert parse_price(value) == (expected, "USD")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("thirty", "not a price"),
        ("", "not a price"),
        ("-5", "not a price"),
        ("1.299", "fractions of a cent"),
        ("12,5,0", "not a price"),
        ("29.99 EUR", "is in EUR but the shop sells in USD"),
        ("€12,50", "is in EUR"),
        ("USD 5 EUR", "two currencies"),
    ],
)
def test_bad_prices_say_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_price(value)


def test_a_configured_rate_converts_to_the_shop_currency() -> None:
    policy = PricePolicy(currency="USD", rates={"EUR": Decimal("1.10")})
    assert policy.parse("€12,50") == (1375, "USD")
    assert PricePolicy(currency="EUR").parse("12,50 EUR") == (1250, "EUR")


def test_dates_cleaning_and_gender() -> None:
    assert str(parse_date("2026-11-01T00:00-0800")) == "2026-11-01"
    assert str(parse_date("11/30/26")) == "2026-11-30"
    assert parse_date(" ") is None
    with pytest.raises(ValueError, match="not a date"):
        parse_date("31/31/2026")
    assert split_values("Nylon|Polyester\n\nNylon|LumaTech&trade;") == [
        "Nylon",
        "Polyester",
        "LumaTech™",
    ]
    assert normalise_gender(["male"]) == "Men"
    assert normalise_gender(["Men", "Women", "Boys"]) == "Unisex"
    assert normalise_gender(["FEMALE"]) == "Women"
    assert normalise_gender(["kids?"]) is None


def test_rejection_and_report_read_well() -> None:
    rejection = Rejection("feed.tsv", 7, "price", "not a price: 'x'")
    assert str(rejection) == "feed.tsv:7: price: not a price: 'x'"
    report = ImportReport(source="test", created=2, updated=1, variants=5)
    report.rejected.append(rejection)
    assert report.products == 3
    assert report.summary() == (
        "test: 3 products (2 created, 1 updated, 0 unchanged), 5 variants; 1 rows rejected"
    )
    data = report.to_dict()
    assert data["rejected"] == [
        {"file": "feed.tsv", "line": 7, "field": "price", "reason": "not a price: 'x'"}
    ]
    assert json.loads(json.dumps(data))["products"] == 3


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'core.sqlite3'}"
    migrate(url)
    return url


def record(sku: str, **fields: Any) -> ProductRecord:
    values: dict[str, Any] = {
        "name": f"Product {sku}", "price_cents": 1000, "file": "test.csv", "line": 2,
        "variants": [VariantRecord(sku=f"{sku}-1", size="M", qty=3)],
    }  # fmt: skip
    values.update(fields)
    return ProductRecord(sku=sku, **values)


def test_upsert_creates_updates_and_leaves_alone(empty_db: str) -> None:
    tee = record(
        "TEE",
        categories=["Men/Tops/Tees"],
        attributes=[("material", "Cotton"), ("material", "Cotton")],
        images=["a.jpg", "b.jpg", "a.jpg"],
    )
    with session_scope(empty_db) as session:
        report = ImportReport(source="test")
        upsert_products(session, [tee, record("CAP")], report, "test")
        assert (report.created, report.variants) == (2, 2)
    with session_scope(empty_db) as session:
        report = ImportReport(source="test")
        upsert_products(session, [tee, record("CAP", price_cents=900)], report, "test")
        assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    with session_scope(empty_db) as session:
        product = session.scalars(
            select(Product).where(Product.sku == "TEE").options(selectinload(Product.images))
        ).one()
        assert [(a.name, a.value) for a in product.attributes] == [("material", "Cotton")]
        assert [(i.url, i.position) for i in product.images] == [("a.jpg", 0), ("b.jpg", 1)]
        assert product.url_key == "product-tee"
        parents = {
            c.path: c.parent.path if c.parent else None for c in session.scalars(select(Category))
        }
        assert parents == {"Men": None, "Men/Tops": "Men", "Men/Tops/Tees": "Men/Tops"}


def test_variant_of_another_product_and_repeated_sku_are_rejected(empty_db: str) -> None:
    with session_scope(empty_db) as session:
        upsert_products(session, [record("A")], ImportReport(source="test"), "test")
    thief = record(
        "B", line=5, variants=[VariantRecord(sku="A-1", line=6), VariantRecord(sku="B-1")]
    )
    again = record("B", line=9)
    too_long = record("C", line=11, name="x" * 300)
    with session_scope(empty_db) as session:
        report = ImportReport(source="test")
        written = upsert_products(session, [thief, again, too_long], report, "test")
        assert set(written) == {"B"}
        assert [v.sku for v in written["B"].variants] == ["B-1"]
    assert [str(r) for r in report.rejected] == [
        "test.csv:9: sku: B appears again (first on line 5)",
        "test.csv:11: name: longer than 255 characters",
        "test.csv:6: variant sku: A-1 already belongs to product A",
    ]


def test_a_variant_can_move_when_both_products_are_reimported(empty_db: str) -> None:
    with session_scope(empty_db) as session:
        upsert_products(session, [record("A")], ImportReport(source="test"), "test")
    moved = [
        record("A", variants=[VariantRecord(sku="A-2")]),
        record("B", variants=[VariantRecord(sku="A-1", qty=9)]),
    ]
    with session_scope(empty_db) as session:
        report = ImportReport(source="test")
        written = upsert_products(session, moved, report, "test")
        assert not report.rejected
    with session_scope(empty_db) as session:
        b = session.scalars(select(Product).where(Product.sku == "B")).one()
        assert [(v.sku, v.qty) for v in b.variants] == [("A-1", 9)]
    assert written


def test_read_table_checks_the_whole_file(tmp_path: Path) -> None:
    report = ImportReport(source="test")
    good = tmp_path / "good.csv"
    good.write_text('sku,name\nA,"two\nlines"\n\nB,x,extra\nC,y\n', encoding="utf-8")
    rows = read_table(good, {"sku"}, report)
    assert [(line, row["sku"]) for line, row in rows] == [(2, "A"), (6, "C")]
    assert [str(r) for r in report.rejected] == [
        "good.csv:5: row: 3 cells where the header has 2 columns"
    ]
    cases = {
        "missing.csv": (None, "file not found"),
        "empty.csv": (b"  \n", "the file is empty"),
        "latin1.csv": ("sku,name\nA,Caf\xe9\n".encode("latin-1"), "not UTF-8 text"),
        "junk.csv": (bytes(range(256)) * 4, "not UTF-8 text"),
        "nul.csv": (b"sku,name\nA\x00,B\n", "binary data"),
        "columns.csv": (b"sku;name\nA;B\n", "missing columns sku"),
    }
    for name, (content, message) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(CatalogImportError, match=message) as error:
            read_table(tmp_path / name, {"sku"}, report)
        assert name in str(error.value)


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.delenv("SHOPDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPDESK_DB_PATH", str(path))
    return f"sqlite:///{path}"


def test_cli_imports_a_feed_and_writes_the_report(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = tmp_path / "feed.tsv"
    feed.write_text(
        (FIXTURES / "merchant_feed.tsv").read_text(encoding="utf-8").replace("USD 19.99", "lots"),
        encoding="utf-8",
    )
    report_path = tmp_path / "report.json"
    assert cli.main(["import", str(feed), "--report", str(report_path), "--no-embeddings"]) == 0
    out = capsys.readouterr().out
    assert "2 products (2 created, 0 updated, 0 unchanged), 4 variants" in out
    assert "rejected feed.tsv:6: price: not a price: 'lots'" in out
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["created"] == 2 and report["rejected"][0]["field"] == "price"
    with session_scope(cli_db) as session:
        assert session.scalar(text("SELECT count(*) FROM search_words")) > 0  # reindexed


def test_cli_refreshes_embeddings_after_commit(
    cli_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[int] = []

    def fake_refresh(session: Session, model_path: str | None = None, progress: bool = True) -> int:
        count = session.scalar(select(func.count()).select_from(Product)) or 0
        calls.append(count)
        return count

    monkeypatch.setattr(cli, "refresh_embeddings", fake_refresh)
    assert cli.main(["import", str(FIXTURES / "merchant_feed.xml")]) == 0
    assert calls == [3]
    assert "3 product embeddings refreshed" in capsys.readouterr().out

    def broken_refresh(session: Any, model_path: str | None = None, progress: bool = True) -> int:
        raise RuntimeError("no model here")

    monkeypatch.setattr(cli, "refresh_embeddings", broken_refresh)
    assert cli.main(["import", str(FIXTURES / "merchant_feed.xml")]) == 3
    assert "embeddings were not refreshed" in capsys.readouterr().err


def test_cli_broken_files_import_nothing(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["import", str(FIXTURES / "merchant_feed.tsv"), "--no-embeddings"]) == 0
    before = catalog_content(cli_db)
    junk = tmp_path / "junk.xml"
    junk.write_bytes(bytes(range(256)))
    truncated = tmp_path / "truncated.xml"
    truncated.write_text(
        (FIXTURES / "merchant_feed.xml").read_text(encoding="utf-8")[:3000], encoding="utf-8"
    )
    no_id = tmp_path / "no_id.tsv"
    no_id.write_text("title\tprice\nHat\t5\n", encoding="utf-8")
    rejected = tmp_path / "all_rejected.tsv"
    rejected.write_text("id\ttitle\tprice\nHAT\tHat\tfree\n", encoding="utf-8")
    expected = {
        junk: "junk.xml:1: not well-formed XML",
        truncated: "truncated.xml:",
        no_id: "no_id.tsv: missing columns id",
        tmp_path / "absent.tsv": "absent.tsv: file not found",
        rejected: "no product was accepted",
    }
    for path, message in expected.items():
        assert cli.main(["import", str(path), "--no-embeddings"]) == 1
        captured = capsys.readouterr()
        assert message in captured.err
        assert "Traceback" not in captured.err
        assert captured.err.startswith("catalog: nothing imported: ")
    assert catalog_content(cli_db) == before


def test_cli_bad_arguments_exit_2(cli_db: str, tmp_path: Path) -> None:
    for argv in (
        ["import"],
        ["import", "feed.tsv", "--format", "csv"],
        ["import", "feed.tsv", "--rate", "EUR"],
        ["frobnicate"],
    ):
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 2
    report = str(tmp_path / "nowhere" / "r.json")
    assert cli.main(["import", "feed.tsv", "--report", report]) == 2


def test_cli_help_explains_formats_and_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["import", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for words in ("merchant-tsv", "merchant-xml", "magento-dir", "--report", "exit status"):
        assert words in out


def test_cli_loads_luma_in_one_transaction(
    cli_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli.main(["load", "--no-embeddings"]) == 0
    before = catalog_content(cli_db)
    data = tmp_path / "luma"
    shutil.copytree(LUMA_DATA_DIR, data)
    (data / "Configurable__products.csv").write_text(
        (LUMA_DATA_DIR / "Configurable__products.csv")
        .read_text(encoding="utf-8")
        .replace("Chaz Kangeroo Hoodie", "Renamed Hoodie"),
        encoding="utf-8",
    )

    def failing_refresh(session: Any) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(cli, "refresh_search", failing_refresh)
    with pytest.raises(RuntimeError, match="disk full"):
        cli.main(["import", str(data), "--no-embeddings"])
    assert catalog_content(cli_db) == before  # the upserted products were rolled back
