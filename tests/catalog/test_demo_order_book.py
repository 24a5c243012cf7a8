"""The demo order book over the real Luma catalog: deterministic, complete, idempotent."""

import re
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from catalog import cli
from catalog.addresses import US_STATES
from catalog.db import MIGRATIONS_DIR, engine_for, migrate, session_scope
from catalog.demo.order_book import (
    FIRST_NUMBER,
    OrderBookError,
    generate_order_book,
    showcase,
)
from catalog.luma import import_luma
from catalog.models import (
    Customer,
    Handoff,
    NewsletterSubscriber,
    Order,
    Product,
    Return,
    Review,
    Variant,
)
from catalog.orders import ORDER_WITH_DETAILS
from catalog.policies import policies
from catalog.settings import LUMA_DATA_DIR
from tests.catalog import test_postgres

TODAY = date(2025, 6, 18)
MIDNIGHT = datetime(2025, 6, 19, tzinfo=UTC)  # nothing generated may lie after the end of TODAY
TRACKING = {
    "UPS": re.compile(r"1Z[A-Z0-9]{6}0[123]\d{8}"),
    "FedEx": re.compile(r"[1-9]\d{11}"),
    "USPS": re.compile(r"94001\d{17}"),
}
postgres_url = test_postgres.postgres_url  # the same fresh-schema fixture, for this module


def copy_database(source_url: str, target: Path) -> str:
    """A private copy of a SQLite catalog (the backup API includes what is still in the WAL)."""
    source = sqlite3.connect(str(make_url(source_url).database))
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    return f"sqlite:///{target}"


@cache
def _order_book_template(luma_db_url: str) -> str:
    """The Luma catalog with the default order book of TODAY, made once per test run."""
    target = Path(str(make_url(luma_db_url).database)).with_name("order-book.sqlite3")
    url = copy_database(luma_db_url, target)
    with session_scope(url) as session:
        generate_order_book(session, today=TODAY)
    return url


def order_book_db(luma_db_url: str, tmp_path: Path) -> str:
    """A private copy of the Luma catalog with the default order book of TODAY, to change."""
    return copy_database(_order_book_template(luma_db_url), tmp_path / "shop.sqlite3")


@pytest.fixture
def book_url(luma_db_url: str, tmp_path: Path) -> str:
    return order_book_db(luma_db_url, tmp_path)


def book_orders(session: Session) -> list[Order]:
    return list(
        session.scalars(
            select(Order)
            .where(Order.number >= f"{FIRST_NUMBER:09d}")
            .order_by(Order.number)
            .options(*ORDER_WITH_DETAILS)
        )
    )


def dump(url: str) -> list[tuple[Any, ...]]:
    """Every generated row by its content, without row ids."""
    rows: list[tuple[Any, ...]] = []
    with session_scope(url) as session:
        for o in book_orders(session):
            c = o.customer
            rows.append(
                (
                    o.number, o.status, o.shipping_method, o.payment_method, o.currency,
                    o.created_at, o.updated_at, o.cancelled_at, o.subtotal_cents,
                    o.shipping_cents, o.total_cents, o.cancellation_fee_cents, o.ship_name,
                    o.ship_street, o.ship_city, o.ship_region, o.ship_postcode, o.ship_country,
                    (c.email, c.first_name, c.last_name, c.phone, c.street, c.city, c.region,
                     c.postcode, c.country, c.created_at),
                    sorted((li.sku, li.name, li.qty, li.price_cents) for li in o.lines),
                    sorted((s.carrier, s.tracking_number, s.status, s.shipped_at,
                            s.delivered_at, s.eta) for s in o.shipments),
                    sorted((r.number, r.line.sku if r.line else None, r.qty, r.reason,
                            r.status, r.created_at) for r in o.returns),
                    sorted((i.number, i.issued_at, i.amount_cents) for i in o.invoices),
                    sorted((f.amount_cents, f.status, f.method, f.created_at, f.processed_at,
                            f.return_.number if f.return_ else "") for f in o.refunds),
                )
            )  # fmt: skip
        subscribers = session.scalars(select(NewsletterSubscriber).order_by("email"))
        rows += [(s.email, s.subscribed, s.changed_at, s.customer_id is None) for s in subscribers]
    return rows


def test_same_seed_and_day_give_identical_rows_in_two_databases(
    luma_db_url: str, tmp_path: Path
) -> None:
    first = copy_database(luma_db_url, tmp_path / "first.sqlite3")
    second = copy_database(luma_db_url, tmp_path / "second.sqlite3")
    other = copy_database(luma_db_url, tmp_path / "other.sqlite3")
    for url, seed in ((first, 7), (second, 7), (other, 8)):
        with session_scope(url) as session:
            generate_order_book(session, seed=seed, today=TODAY)
    assert dump(first) == dump(second)
    assert len(dump(first)) > 160
    different = dump(other)
    assert different != dump(first)
    # the showcase is the same for every seed: number, customer and status
    assert [(*row[:2], row[18][0]) for row in different[:9]] == [
        (entry.number, entry.status, entry.email) for entry in showcase()
    ]


def test_showcase_orders_are_there_as_documented(book_url: str) -> None:
    with session_scope(book_url) as session:
        orders = {o.number: o for o in book_orders(session)}
        shown = [orders[entry.number] for entry in showcase()]
        assert [(o.number, o.customer.email, o.status) for o in shown] == [
            (e.number, e.email, e.status) for e in showcase()
        ]
        assert [o.number for o in shown] == [f"{n:09d}" for n in range(100, 109)]
        assert len({o.customer_id for o in shown}) == 9
        for order in shown:  # only their showcase order, so testers are not confused
            assert sum(o.customer_id == order.customer_id for o in orders.values()) == 1
        by_number = {o.number: o for o in shown}
        assert not by_number["000000100"].shipments and by_number["000000100"].invoices
        assert by_number["000000101"].shipments[0].carrier == "UPS"
        assert by_number["000000108"].shipments[0].carrier == "FedEx"
        for number, days in (("000000102", 5), ("000000103", 60)):
            delivered = by_number[number].shipments[0].delivered_at
            assert delivered is not None and delivered.date() == TODAY - timedelta(days=days)
        assert by_number["000000104"].cancelled_at and not by_number["000000104"].shipments
        assert [r.status for r in by_number["000000105"].returns] == ["received"]
        assert [r.status for r in by_number["000000105"].refunds] == ["pending"]
        assert len(by_number["000000105"].lines) == 2
        assert [r.status for r in by_number["000000106"].refunds] == ["processed"]
        two = by_number["000000107"].lines
        assert len(two) == 2 and len({line.product_id for line in two}) == 2
        assert not by_number["000000107"].shipments


def test_every_status_is_there_with_its_documents(book_url: str) -> None:
    with session_scope(book_url) as session:
        orders = book_orders(session)
        assert len(orders) == 160
        assert len({o.customer_id for o in orders}) == 40
        statuses = Counter(o.status for o in orders)
        assert set(statuses) == {
            "pending", "processing", "shipped", "delivered", "cancelled", "returned", "refunded"
        }  # fmt: skip
        delivered_days = []
        for order in orders:
            paid = order.status != "pending" and not (
                order.status == "cancelled" and order.payment_method == "checkmo"
            )
            assert [i.amount_cents for i in order.invoices] == ([order.total_cents] if paid else [])
            assert order.invoices == [] or order.invoices[0].number == f"INV{order.number}"
            parcel = order.shipments[0] if order.shipments else None
            if order.status in ("pending", "processing", "cancelled"):
                assert parcel is None
            else:
                assert parcel is not None and parcel.carrier in TRACKING
                assert TRACKING[parcel.carrier].fullmatch(parcel.tracking_number or "")
                assert parcel.shipped_at is not None and order.created_at is not None
                assert order.created_at < parcel.shipped_at
            if order.status == "shipped":
                assert parcel and parcel.status == "in_transit" and parcel.delivered_at is None
                assert parcel.eta is not None and parcel.eta > TODAY
            elif parcel is not None:
                assert parcel.status == "delivered" and parcel.delivered_at is not None
                delivered_days.append((TODAY - parcel.delivered_at.date()).days)
            assert (order.cancelled_at is not None) == (order.status == "cancelled")
            refunds = sorted(r.status for r in order.refunds)
            returns = sorted(r.status for r in order.returns)
            if order.status == "cancelled":
                assert refunds == (["processed"] if paid else []) and returns == []
            elif order.status == "returned":
                assert returns == ["received"] and refunds == ["pending"]
                assert order.refunds[0].return_ is order.returns[0]
            elif order.status == "refunded":
                assert returns == ["refunded"] * len(order.lines) == ["refunded"] * len(refunds)
                assert refunds == ["processed"] * len(order.lines)
                assert all(r.processed_at and r.processed_at > r.created_at for r in order.refunds)
            else:
                assert refunds == returns == []
            for refund in order.refunds:
                if refund.return_ is not None:
                    line = refund.return_.line
                    assert line is not None and refund.amount_cents == line.qty * line.price_cents
            moments = [order.created_at, order.updated_at, order.cancelled_at]
            moments += [s.delivered_at for s in order.shipments]
            moments += [r.processed_at for r in order.refunds] + [
                i.issued_at for i in order.invoices
            ]
            assert all(m is None or m < MIDNIGHT for m in moments)
        assert any(days <= 30 for days in delivered_days)
        assert any(days > 30 for days in delivered_days)
        numbers = session.scalars(select(Return.number)).all()
        assert len(numbers) == len(set(numbers)) > 0


def test_lines_and_money_follow_the_catalog_and_the_shop_settings(book_url: str) -> None:
    delivery = policies().delivery
    with session_scope(book_url) as session:
        variants = {v.sku: v.product_id for v in session.scalars(select(Variant))}
        products = {p.id: p for p in session.scalars(select(Product))}
        for order in book_orders(session):
            assert 1 <= len(order.lines) <= 4
            assert len({line.product_id for line in order.lines}) == len(order.lines)
            assert order.created_at is not None
            for line in order.lines:
                assert line.product_id is not None and variants[line.sku] == line.product_id
                product = products[line.product_id]
                assert line.name == product.name
                assert line.price_cents == product.price_on(order.created_at.date())
            assert order.subtotal_cents == sum(li.qty * li.price_cents for li in order.lines)
            fee = delivery.fee_cents(order.shipping_method, order.subtotal_cents)
            if order.shipping_method == "Standard" and order.ship_region in ("AK", "HI"):
                fee += delivery.remote_surcharge_cents
            assert order.shipping_cents == fee
            assert order.total_cents == order.subtotal_cents + order.shipping_cents
            assert order.payment_method in ("checkmo", "card", "paypal")
            assert order.ship_name == f"{order.customer.first_name} {order.customer.last_name}"


def test_customers_look_like_us_shoppers(book_url: str) -> None:
    with session_scope(book_url) as session:
        customers = {o.customer for o in book_orders(session)}
        for customer in customers:
            assert re.fullmatch(r"[a-z0-9.]+@example\.(com|net|org)", customer.email)
            assert re.fullmatch(r"\(\d{3}\) 555-01\d\d", customer.phone or "")
            assert re.fullmatch(
                r"\d+ [A-Z][a-z]+ [A-Z][a-z]+( Apt \d+[A-D])?", customer.street or ""
            )
            assert customer.region in US_STATES and customer.country == "US"
            assert re.fullmatch(r"\d{5}", customer.postcode or "") and customer.city
        assert len({c.email.split("@")[1] for c in customers}) == 3


def test_newsletter_subscribers_are_seeded(book_url: str) -> None:
    with session_scope(book_url) as session:
        subscribers = session.scalars(select(NewsletterSubscriber)).all()
        assert {s.subscribed for s in subscribers} == {True, False}
        assert all(s.customer_id is not None and s.changed_at < MIDNIGHT for s in subscribers)
        emily = next(s for s in subscribers if s.email == "emily.carter@example.com")
        assert emily.subscribed


def test_generating_again_changes_nothing_unless_replaced(book_url: str) -> None:
    before = dump(book_url)
    with session_scope(book_url) as session:
        again = generate_order_book(session, seed=99, today=TODAY + timedelta(days=3))
    assert not again.created and again.orders == 160 and again.customers == 40
    assert dump(book_url) == before
    with session_scope(book_url) as session:
        replaced = generate_order_book(session, today=TODAY, replace=True)
    assert replaced.created and dump(book_url) == before  # same seed and day: the same rows
    with session_scope(book_url) as session:
        fewer = generate_order_book(session, seed=3, customers=12, orders=20, today=TODAY,
                                    replace=True)  # fmt: skip
        assert fewer.orders == 20 and fewer.customers == 12
        # the replaced customers are gone, the Luma sample customer and orders stay
        assert session.scalar(select(func.count()).select_from(Customer)) == 12 + 1
        assert session.scalar(select(func.count()).select_from(Order)) == 20 + 2
        assert sum(fewer.by_status.values()) == 20


def test_sizes_that_cannot_hold_the_showcase_are_refused(luma_db_url: str, tmp_path: Path) -> None:
    url = copy_database(luma_db_url, tmp_path / "shop.sqlite3")
    with session_scope(url) as session:
        for customers, orders in ((8, 100), (20, 10), (9, 20)):
            with pytest.raises(ValueError):
                generate_order_book(session, customers=customers, orders=orders, today=TODAY)
        report = generate_order_book(session, customers=9, orders=9, today=TODAY)
        assert report.orders == 9 and set(report.by_status) == {
            "processing", "shipped", "delivered", "cancelled", "returned", "refunded"
        }  # fmt: skip


def test_an_empty_catalog_has_no_order_book(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    migrate(url)
    with session_scope(url) as session, pytest.raises(OrderBookError):
        generate_order_book(session, today=TODAY)


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.delenv("SHOPDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("SHOPDESK_DB_PATH", str(path))
    return f"sqlite:///{path}"


def test_cli_load_makes_the_order_book_once_and_orders_lists_it(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["load", "--no-embeddings"]) == cli.EXIT_OK
    assert "order book generated: 160 orders of 40 customers" in capsys.readouterr().out
    assert cli.main(["load", "--no-embeddings"]) == cli.EXIT_OK
    assert "order book already there, unchanged: 160 orders" in capsys.readouterr().out
    with session_scope(cli_db) as session:  # its orders are sales for ranking
        sold = session.scalar(select(func.sum(Product.units_sold)))
        lines = session.scalar(text("SELECT sum(qty) FROM order_lines"))
        assert sold == lines and (lines or 0) > 160
    assert cli.main(["orders", "--list"]) == cli.EXIT_OK
    listed = capsys.readouterr().out.splitlines()
    assert listed[1].split()[:3] == ["000000100", "emily.carter@example.com", "processing"]
    assert len(listed) == 1 + len(showcase())
    assert cli.main(["orders"]) == cli.EXIT_OK
    assert "nothing changed (--replace generates it anew)" in capsys.readouterr().out
    args = ["orders", "--replace", "--seed", "3", "--customers", "12", "--orders", "30"]
    assert cli.main([*args, "--today", "2025-06-18"]) == cli.EXIT_OK
    out = capsys.readouterr().out
    assert "order book generated: 30 orders of 12 customers" in out and "committed" in out


def test_cli_orders_bad_arguments_exit_2(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["orders", "--customers", "5"]) == cli.EXIT_BAD_ARGUMENTS
    assert "at least 9 customers" in capsys.readouterr().err
    for bad in (["--today", "2025-13-01"], ["--orders", "0"], ["--seed", "x"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(["orders", *bad])
        assert exit_.value.code == cli.EXIT_BAD_ARGUMENTS


def test_cli_orders_needs_a_catalog(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["orders"]) == cli.EXIT_NOTHING_IMPORTED
    assert "load it first" in capsys.readouterr().err


def migrate_to(url: str, revision: str, down: bool = False) -> None:
    """Move the schema up (or down) to `revision`, as catalog.db.migrate moves it to the head."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine_for(url).begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def upgrade_with_old_rows(url: str) -> None:
    """Migrate to 0002, write an imported review and a return; to 0003, write a handoff; then
    migrate to the head."""
    migrate_to(url, "0002")
    with engine_for(url).begin() as connection:
        for statement in (
            "INSERT INTO customers (id, email, first_name, last_name) "
            "VALUES (1, 'a@example.com', 'A', 'B')",
            "INSERT INTO orders (id, number, customer_id, status, currency, shipping_method, "
            "payment_method) VALUES (1, '000000001', 1, 'delivered', 'USD', 'x', 'checkmo')",
            "INSERT INTO returns (id, order_id, qty, reason, status) "
            "VALUES (7, 1, 1, '', 'requested')",
            "INSERT INTO products (id, sku, name, description, price_cents, url_key) "
            "VALUES (1, 'S1', 'Shirt', '', 100, 'shirt')",
            "INSERT INTO reviews (product_id, rating, title, text, reviewer) "
            "VALUES (1, 5, '', '', '')",
        ):
            connection.execute(text(statement))
    migrate_to(url, "0003")
    with engine_for(url).begin() as connection:
        connection.execute(
            text(
                "INSERT INTO handoffs (id, conversation_id, reason, status, created_at, "
                "updated_at) VALUES (3, 'chat-1', 'asked', 'waiting', '2025-06-18 10:00:00', "
                "'2025-06-18 10:00:00')"
            )
        )
    migrate(url)
    with session_scope(url) as session:
        assert session.scalars(select(Return.number)).all() == ["R000000001-7"]
        assert session.scalars(select(Review.status)).all() == ["approved"]
        order = session.scalars(select(Order)).one()
        assert (order.total_cents, order.cancellation_fee_cents, order.ship_city) == (0, 0, None)
        handoff = session.get_one(Handoff, 3)  # 0004: never taken in a console, so no agent
        assert (handoff.status, handoff.agent_id, handoff.taken_at, handoff.closed_at) == (
            "waiting", None, None, None
        )  # fmt: skip


def test_migration_keeps_old_rows_on_sqlite(tmp_path: Path) -> None:
    upgrade_with_old_rows(f"sqlite:///{tmp_path / 'old.sqlite3'}")


@pytest.mark.postgres
def test_migration_keeps_old_rows_on_postgresql(postgres_url: str) -> None:
    upgrade_with_old_rows(postgres_url)


@pytest.mark.postgres
def test_order_book_on_postgresql_is_the_sqlite_one(
    postgres_url: str, luma_db_url: str, tmp_path: Path
) -> None:
    migrate(postgres_url)
    with session_scope(postgres_url) as session:
        import_luma(session, LUMA_DATA_DIR)
        assert generate_order_book(session, today=TODAY).created
    with session_scope(postgres_url) as session:
        assert not generate_order_book(session, today=TODAY).created
    assert dump(postgres_url) == dump(order_book_db(luma_db_url, tmp_path))
    with session_scope(postgres_url) as session:
        assert generate_order_book(session, seed=2, today=TODAY, replace=True).created
        assert session.scalar(select(func.count()).select_from(Order)) == 160 + 2
