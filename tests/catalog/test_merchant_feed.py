"""The Google Merchant Center feed importer, on the TSV and XML fixtures of one small shop."""

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from catalog.db import migrate, session_scope
from catalog.importing import CatalogImportError, Rejection
from catalog.luma import import_luma
from catalog.merchant_feed import detect_format, import_merchant_feed
from catalog.models import Product
from catalog.settings import LUMA_DATA_DIR
from tests.catalog.test_importing import catalog_content

FIXTURES = Path(__file__).parent / "fixtures"
TSV = FIXTURES / "merchant_feed.tsv"
XML = FIXTURES / "merchant_feed.xml"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'feed.sqlite3'}"
    migrate(url)
    return url


def products(url: str) -> dict[str, Product]:
    with session_scope(url) as session:
        found = {p.sku: p for p in session.scalars(select(Product))}
        for product in found.values():  # load what the assertions read
            _ = (product.categories, product.variants, product.attributes, product.images)
        return found


@pytest.mark.parametrize("feed", [TSV, XML], ids=["tsv", "xml"])
def test_feed_products(db: str, feed: Path) -> None:
    with session_scope(db) as session:
        report = import_merchant_feed(session, feed)
    assert (report.created, report.variants, report.rejected) == (3, 5, [])
    shop = products(db)
    assert set(shop) == {"TEE-01", "JKT-100", "BOT-7"}

    tee = shop["TEE-01"]  # an item group: one product, three variants
    assert tee.name == "Trailhead Organic Tee"
    assert tee.description == "Soft organic cotton tee."
    assert tee.price_cents == 2400  # the lowest of 24.00, 24.00 and 26.00
    assert (tee.brand, tee.gender, tee.source) == ("Trailhead", "Men", "merchant")
    assert [c.path for c in tee.categories] == ["Apparel/Men/Tops/Tees"]
    assert sorted((v.sku, v.size, v.color, v.qty) for v in tee.variants) == [
        ("TEE-01-BLK-L", "L", "Black", 7),  # quantity given
        ("TEE-01-BLK-M", "M", "Black", 100),  # in_stock
        ("TEE-01-BLU-M", "M", "Blue", 0),  # out_of_stock
    ]
    attributes = {(a.name, a.value) for a in tee.attributes}
    assert {("material", "Organic Cotton"), ("material", "Elastane"), ("pattern", "Solid"),
            ("gtin", "00012345678905"), ("mpn", "TH-TEE-01-UM")} <= attributes  # fmt: skip
    assert [i.url.rsplit("/", 1)[1] for i in tee.images] == [
        "tee-black.jpg", "tee-back.jpg", "tee-side.jpg", "tee-blue.jpg",
    ]  # fmt: skip
    assert tee.url_key == "trailhead-organic-tee"

    parka = shop["JKT-100"]  # HTML description, a thousands separator, a sale with dates
    assert parka.description == "Warm & light 800-fill down Storm hood"
    assert (parka.price_cents, parka.special_price_cents) == (129900, 99900)
    assert (parka.special_from, parka.special_to) == (date(2026, 11, 1), date(2026, 11, 30))
    assert parka.price_on(date(2026, 11, 15)) == 99900
    assert parka.price_on(date(2026, 12, 1)) == 129900
    assert parka.gender == "Women" and parka.url_key == "summit-down-parka"
    assert [(v.sku, v.color, v.qty) for v in parka.variants] == [("JKT-100", "Red", 100)]

    bottle = shop["BOT-7"]
    assert bottle.name == "Steel Water Bottle" and bottle.price_cents == 1999
    assert bottle.gender == "Unisex"
    assert [v.qty for v in bottle.variants] == [0]  # preorder: nothing to ship yet
    assert [c.path for c in bottle.categories] == ["Gear/Fitness Equipment"]


def test_tsv_and_xml_give_the_same_catalog_and_reimport_changes_nothing(db: str) -> None:
    with session_scope(db) as session:
        import_merchant_feed(session, TSV)
    first = catalog_content(db)
    for feed in (XML, TSV):
        with session_scope(db) as session:
            report = import_merchant_feed(session, feed)
        assert (report.created, report.updated, report.unchanged) == (0, 0, 3)
        assert catalog_content(db) == first


def test_format_detection(tmp_path: Path) -> None:
    assert detect_format(TSV) == "merchant-tsv"
    assert detect_format(XML) == "merchant-xml"
    for name, source in (("feed.dat", XML), ("export", TSV)):
        (tmp_path / name).write_bytes(source.read_bytes())
    assert detect_format(tmp_path / "feed.dat") == "merchant-xml"
    assert detect_format(tmp_path / "export") == "merchant-tsv"


def tsv_with(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    text = TSV.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "feed.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def feed_row(**values: str) -> str:
    """A line of the TSV fixture's columns with these values, the others blank."""
    header = TSV.read_text(encoding="utf-8").split("\n", 1)[0].split("\t")
    return "\t".join(values.get(name, "") for name in header) + "\n"


def test_bad_tsv_rows_are_rejected_with_line_and_field(db: str, tmp_path: Path) -> None:
    feed = tsv_with(
        tmp_path,
        ("Trailhead Organic Tee - Black / L", ""),  # line 3: no title
        ("26.00 USD", "26.00 EUR"),  # line 4: another currency than its product's
        ("2026-11-01T00:00-0800/", "2026-13-01T00:00-0800/"),  # line 5: bad date
        ("USD 19.99", "19.99.99"),  # line 6: bad price
    )
    with open(feed, "a", encoding="utf-8") as handle:
        handle.write(feed_row(id="TEE-01-BLK-M", title="Copy", price="5", availability="in_stock"))
        handle.write(feed_row(id="HAT-1", title="Hat", price="5", availability="soon"))
        handle.write(feed_row(id="JKT-100", title="Copy", price="5", availability="in_stock"))
    with session_scope(db) as session:
        report = import_merchant_feed(session, feed)
    assert report.rejected == [
        Rejection("feed.tsv", 3, "title", "empty"),
        Rejection(
            "feed.tsv",
            4,
            "price",
            "in EUR, but TEE-01-BLK-M of the same product is in USD",
        ),
        Rejection(
            "feed.tsv", 5, "sale_price_effective_date", "not a date: '2026-13-01T00:00-0800'"
        ),
        Rejection("feed.tsv", 6, "price", "not a price: '19.99.99'"),
        Rejection("feed.tsv", 7, "id", "TEE-01-BLK-M appears again (first on line 2)"),
        Rejection(
            "feed.tsv",
            8,
            "availability",
            "'soon' is not one of backorder, in_stock, out_of_stock, preorder",
        ),
    ]
    shop = products(db)
    assert set(shop) == {"TEE-01", "JKT-100"}
    assert [v.sku for v in shop["TEE-01"].variants] == ["TEE-01-BLK-M"]
    assert shop["JKT-100"].name == "Copy"  # the first JKT-100 was rejected, this one is not


def test_a_variant_of_another_product_is_rejected(db: str, tmp_path: Path) -> None:
    with session_scope(db) as session:
        import_luma(session, LUMA_DATA_DIR)
    feed = tsv_with(tmp_path, ("TEE-01-BLU-M\t", "MH01-XS-Black\t"))
    with session_scope(db) as session:
        report = import_merchant_feed(session, feed)
    assert report.rejected == [
        Rejection("feed.tsv", 4, "variant sku", "MH01-XS-Black already belongs to product MH01")
    ]
    assert len(products(db)["TEE-01"].variants) == 2


def test_xml_rejections_point_at_the_field_line(db: str, tmp_path: Path) -> None:
    text = XML.read_text(encoding="utf-8").replace("<g:price>USD 19.99</g:price>", "<g:price/>")
    feed = tmp_path / "feed.xml"
    feed.write_text(text, encoding="utf-8")
    line = text[: text.index("<g:price/>")].count("\n") + 1
    with session_scope(db) as session:
        report = import_merchant_feed(session, feed)
    assert report.rejected == [Rejection("feed.xml", line, "price", "not a price: ''")]


LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<rss xmlns:g="http://base.google.com/ns/1.0"><channel><item><g:id>&lol2;</g:id></item></channel></rss>
"""
EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "http://example.com/evil.dtd">
<rss><channel><item><g:id xmlns:g="http://base.google.com/ns/1.0">1</g:id></item></channel></rss>
"""


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("laughs.xml", LAUGHS.encode(), "DOCTYPE and ENTITY declarations are not allowed"),
        ("external.xml", EXTERNAL.encode(), "DOCTYPE and ENTITY declarations are not allowed"),
        (
            "utf16.xml",
            LAUGHS.replace(
                '<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>'
            ).encode("utf-16"),
            "DOCTYPE and ENTITY declarations are not allowed",
        ),
        ("broken.xml", b"<rss><channel><item><g:id>1</item></channel></rss>", "broken.xml:1: "),
        ("junk.xml", bytes(range(256)) * 4, "not well-formed XML"),
        ("items.xml", b"<rss><channel><title>x</title></channel></rss>", "no <item> elements"),
        ("empty.xml", b"\n", "the file is empty"),
        ("missing.tsv", None, "missing.tsv: file not found"),
        ("columns.tsv", b"id\ttitle\nA\tB\n", "missing columns price"),
        ("header.tsv", b"id\ttitle\tprice\n", "no product rows"),
        ("junk.tsv", bytes(range(256)) * 4, "not UTF-8 text"),
        ("nul.tsv", b"id\ttitle\tprice\nA\x00\tB\t1\n", "binary data"),
    ],
)
def test_a_broken_feed_changes_nothing(
    db: str, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    with session_scope(db) as session:
        import_merchant_feed(session, TSV)
    before = catalog_content(db)
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    raised = pytest.raises(CatalogImportError, match=message)
    with raised as error, session_scope(db) as session:
        import_merchant_feed(session, path)
    assert name in str(error.value)
    assert catalog_content(db) == before


OWN_FEED = Path(__file__).parents[1] / "e2e" / "fixtures" / "own_shop_feed.tsv"


def test_a_product_keeps_its_feed_s_currency(db: str, tmp_path: Path) -> None:
    """A "12.00 EUR" item is stored in EUR, never as dollars, in a USD shop without a rate."""
    with session_scope(db) as session:
        report = import_merchant_feed(session, OWN_FEED)  # the default policy: a USD shop
    assert (report.products, report.rejected) == (29, [])
    mug = products(db)["KC-001"]
    assert (mug.price_cents, mug.currency) == (1200, "EUR")


def test_a_rate_still_converts_to_the_shop_s_currency(db: str) -> None:
    from decimal import Decimal

    from catalog.importing import PricePolicy

    policy = PricePolicy(currency="USD", rates={"EUR": Decimal("1.10")})
    with session_scope(db) as session:
        import_merchant_feed(session, OWN_FEED, prices=policy)
    mug = products(db)["KC-001"]
    assert (mug.price_cents, mug.currency) == (1320, "USD")


def test_search_links_to_the_page_the_feed_names(db: str) -> None:
    from catalog.search import SearchRequest, search
    from catalog.search_index import refresh_search

    with session_scope(db) as session:
        import_merchant_feed(session, OWN_FEED)
        refresh_search(session)
    with session_scope(db) as session:
        hits = search(session, SearchRequest("cast iron teapot")).hits
    assert hits[0].url == "https://kitchen-corner.example/products/cast-iron-teapot"
    assert hits[0].currency == "EUR"
