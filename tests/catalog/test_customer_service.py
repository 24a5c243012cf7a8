"""The built-in order book's rows under the shop's rules: who may see an order, what may change.

`catalog.customer_service` proves an order and makes the row-level changes; what the bot tells
(parcels, refunds, invoices, the return window) is read from the connector-neutral view
(`catalog.order_views.order_view`) with the rules every connector shares (connectors.orders).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from catalog.addresses import Address
from catalog.customer_service import (
    REFUND_METHOD,
    cancel_order,
    change_shipping_address,
    create_return,
    find_customer,
    verify_order,
)
from catalog.db import session_scope
from catalog.models import Order, Return
from catalog.order_views import order_view, shipping_address
from connectors.errors import NotAllowed
from connectors.orders import can_cancel, latest_shipment, return_deadline, returnable_lines
from connectors.statuses import OrderStatus, RefundStatus, ReturnStatus
from tests.catalog.test_demo_order_book import TODAY, order_book_db

NOW: Final = datetime.combine(TODAY, datetime.min.time()).replace(hour=10, tzinfo=UTC)
WINDOW: Final = 30
NEW_ADDRESS: Final = Address("Emily Carter", "77 Lake Drive", "Madison", "WI", "53703")
TIMING_TRIES: Final = 50


@pytest.fixture
def book_url(luma_db_url: str, tmp_path: Path) -> str:
    return order_book_db(luma_db_url, tmp_path)


def verified(session: Session, number: str) -> Order:
    """A showcase order, verified with its customer's e-mail."""
    order = session.scalars(select(Order).where(Order.number == number)).one()
    found = verify_order(session, number, order.customer.email or "")
    assert found is not None
    return found


def test_an_order_is_shown_only_with_its_customers_email(book_url: str) -> None:
    with session_scope(book_url) as session:
        for number, email in (
            ("000000101", "james.nguyen@example.net"),
            ("#101", "  James.Nguyen@Example.NET "),
            ("101", "JAMES.NGUYEN@EXAMPLE.NET"),
        ):
            order = verify_order(session, number, email)
            assert order is not None and order.number == "000000101"
        returned = verify_order(session, "105", "daniel.kim@example.org")
        refused = [
            verify_order(session, "000000101", "emily.carter@example.com"),  # another's e-mail
            verify_order(session, "000000101", ""),
            verify_order(session, "000000199999", "james.nguyen@example.net"),  # no such order
            verify_order(session, "not a number", "james.nguyen@example.net"),
            verify_order(session, "000000101", "jämes.nguyen@example.net"),
        ]
        assert refused == [None] * len(refused)
    # everything the bot reads was loaded with it: usable after the session is gone
    assert order is not None
    assert order.customer.email == "james.nguyen@example.net"
    assert order.lines and order.shipments and order.invoices
    assert order.returns == [] and order.refunds == []
    assert returned is not None and returned.refunds[0].return_ is returned.returns[0]
    view = order_view(order)
    assert (view.number, view.email, view.status) == (
        "000000101",
        "james.nguyen@example.net",
        OrderStatus.SHIPPED,
    )
    assert [line.line_id for line in view.lines] == [str(line.id) for line in order.lines]


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements (without their values) the session runs inside the block."""
    seen: list[str] = []
    engine = session.get_bind()

    def listen(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def median_ms(check: Callable[[], object], tries: int = TIMING_TRIES) -> float:
    times = []
    for _ in range(tries):
        started = time.perf_counter()
        check()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def test_a_wrong_email_runs_the_same_queries_as_a_missing_order(book_url: str) -> None:
    """Timing attack: a wrong e-mail for an existing order must not be told apart from a number
    that does not exist. Asserted on the code path (the same statements run); the medians over
    50 tries are printed for a person to read (`pytest -s`), never asserted."""
    with session_scope(book_url) as session:
        with statements(session) as wrong_email:
            assert verify_order(session, "000000101", "emily.carter@example.com") is None
        with statements(session) as missing:
            assert verify_order(session, "000000999", "emily.carter@example.com") is None
        assert wrong_email == missing and len(missing) == 1
        existing = median_ms(lambda: verify_order(session, "000000101", "x@example.com"))
        absent = median_ms(lambda: verify_order(session, "000000999", "x@example.com"))
        print(f"verify_order, median of 50: wrong e-mail {existing:.3f}, no order {absent:.3f} ms")


def test_tracking_gives_the_carriers_page_and_the_eta(book_url: str) -> None:
    with session_scope(book_url) as session:
        view = order_view(verified(session, "000000101"))
        shipped = latest_shipment(view)
        assert view.status == OrderStatus.SHIPPED and shipped is not None
        assert shipped.carrier == "UPS"
        assert shipped.tracking_number and shipped.tracking_url == (
            f"https://www.ups.com/track?tracknum={shipped.tracking_number}"
        )
        assert shipped.eta and shipped.eta > TODAY and shipped.delivered_at is None
        fedex = latest_shipment(order_view(verified(session, "000000108")))
        assert fedex and fedex.tracking_url and "fedex.com" in fedex.tracking_url
        delivered = latest_shipment(order_view(verified(session, "000000102")))
        assert delivered and delivered.delivered_at
        assert delivered.delivered_at.date() == TODAY - timedelta(5)
        waiting = order_view(verified(session, "000000100"))
        assert waiting.status == OrderStatus.PROCESSING and latest_shipment(waiting) is None


def test_only_an_unshipped_order_can_be_cancelled(book_url: str) -> None:
    with session_scope(book_url) as session:
        assert [can_cancel(order_view(verified(session, f"00000010{n}"))) for n in range(9)] == [
            True, False, False, False, False, False, False, True, False
        ]  # fmt: skip
        for number, said in (
            ("000000101", "has already shipped"),
            ("000000102", "has already been delivered"),
            ("000000104", "is already cancelled"),
            ("000000106", "has been refunded"),
        ):
            order = verified(session, number)
            before = (order.status, len(order.refunds), order.cancelled_at)
            with pytest.raises(NotAllowed) as refusal:
                cancel_order(session, order, NOW)
            assert said in refusal.value.reason and number in str(refusal.value)
            assert (order.status, len(order.refunds), order.cancelled_at) == before


def test_cancelling_a_paid_order_starts_a_refund(book_url: str) -> None:
    with session_scope(book_url) as session:
        order = verified(session, "000000100")
        with pytest.raises(ValueError):
            cancel_order(session, order, NOW, fee_cents=order.total_cents + 1)
        assert order.status == OrderStatus.PROCESSING  # a bad fee changes nothing
        refund = cancel_order(session, order, NOW, fee_cents=500)
        assert (order.status, order.cancelled_at, order.updated_at) == ("cancelled", NOW, NOW)
        assert order.cancellation_fee_cents == 500
        assert refund is not None and refund in order.refunds
        assert (refund.amount_cents, refund.status, refund.method) == (
            order.total_cents - 500,
            "pending",
            REFUND_METHOD,
        )
        assert not can_cancel(order_view(order))
    with session_scope(book_url) as session:
        again = order_view(verified(session, "000000100"))
        assert again.status == OrderStatus.CANCELLED and again.cancellation_fee_cents == 500
        [info] = again.refunds
        assert (info.status, info.processed_at, info.return_number) == (
            RefundStatus.PENDING,
            None,
            None,
        )
        assert info.amount_cents == again.total_cents - 500


def test_cancelling_before_payment_refunds_nothing(book_url: str) -> None:
    with session_scope(book_url) as session:
        pending = session.scalars(select(Order).where(Order.status == "pending").limit(1)).one()
        order = verified(session, pending.number)
        assert order.invoices == []
        assert cancel_order(session, order, NOW) is None and order.refunds == []
        assert order.status == OrderStatus.CANCELLED


def test_the_address_changes_only_before_shipping(book_url: str) -> None:
    with session_scope(book_url) as session:
        order = verified(session, "000000100")
        change_shipping_address(session, order, NEW_ADDRESS, NOW)
        assert order.updated_at == NOW
    with session_scope(book_url) as session:
        assert shipping_address(verified(session, "000000100")) == NEW_ADDRESS
        assert order_view(verified(session, "000000100")).shipping_address == NEW_ADDRESS
        shipped = verified(session, "000000101")
        before = shipping_address(shipped)
        with pytest.raises(NotAllowed, match="has already shipped"):
            change_shipping_address(session, shipped, NEW_ADDRESS, NOW)
        assert shipping_address(shipped) == before
        abroad = Address("Emily Carter", "1 Rue de Rivoli", "Paris", "IDF", "75001", "FR")
        with pytest.raises(NotAllowed, match="United States"):
            change_shipping_address(session, verified(session, "000000107"), abroad, NOW)


def test_the_return_window_includes_its_last_day(book_url: str) -> None:
    with session_scope(book_url) as session:
        recent = order_view(verified(session, "000000102"))
        delivered = TODAY - timedelta(days=5)
        assert return_deadline(recent, WINDOW) == delivered + timedelta(days=WINDOW)
        last_day = delivered + timedelta(days=WINDOW)
        assert returnable_lines(recent, last_day, WINDOW) == list(recent.lines)
        assert returnable_lines(recent, last_day + timedelta(days=1), WINDOW) == []
        assert returnable_lines(recent, delivered, WINDOW) == list(recent.lines)
        old = order_view(verified(session, "000000103"))
        assert returnable_lines(old, TODAY, WINDOW) == []
        assert returnable_lines(old, TODAY, 60) == list(old.lines)  # delivered 60 days ago
        for number in ("000000100", "000000101", "000000104"):
            view = order_view(verified(session, number))
            assert return_deadline(view, WINDOW) is None
            assert returnable_lines(view, TODAY, WINDOW) == []


def test_returns_are_numbered_and_not_repeated(book_url: str) -> None:
    with session_scope(book_url) as session:
        order = verified(session, "000000102")
        first, second = order.lines
        made = create_return(session, order, first, "  too   small ", NOW, WINDOW)
        assert (made.number, made.status, made.qty, made.reason) == (
            "R000000102-1",
            ReturnStatus.REQUESTED,
            first.qty,
            "too small",
        )
        [left] = returnable_lines(order_view(order), TODAY, WINDOW)
        assert left.line_id == str(second.id)
        with pytest.raises(NotAllowed, match="already been returned"):
            create_return(session, order, first, "again", NOW, WINDOW)
        assert create_return(session, order, second, "", NOW, WINDOW).number == "R000000102-2"
        assert [r.number for r in order_view(order).returns] == ["R000000102-1", "R000000102-2"]
        # order 105 had one of its two lines returned already: the other one is next
        partly = verified(session, "000000105")
        [other] = returnable_lines(order_view(partly), TODAY, WINDOW)
        line = next(x for x in partly.lines if str(x.id) == other.line_id)
        assert create_return(session, partly, line, "", NOW, WINDOW).number == "R000000105-2"
        for number, said in (
            ("000000103", "return window of order 000000103 closed on"),
            ("000000100", "has not been delivered yet"),
        ):
            closed = verified(session, number)
            with pytest.raises(NotAllowed, match=said):
                create_return(session, closed, closed.lines[0], "", NOW, WINDOW)
        with pytest.raises(NotAllowed, match="is not part of order"):
            create_return(session, partly, first, "", NOW, WINDOW)
        numbers = session.scalars(select(Return.number)).all()
        assert len(numbers) == len(set(numbers))


def test_refunds_and_invoices_are_told(book_url: str) -> None:
    with session_scope(book_url) as session:
        [pending] = order_view(verified(session, "000000105")).refunds
        assert (pending.status, pending.method, pending.return_number) == (
            RefundStatus.PENDING,
            REFUND_METHOD,
            "R000000105-1",
        )
        assert pending.processed_at is None and pending.amount_cents > 0
        [done] = order_view(verified(session, "000000106")).refunds
        assert done.status == RefundStatus.PROCESSED
        assert done.processed_at and done.processed_at < NOW
        [cancelled] = order_view(verified(session, "000000104")).refunds
        assert cancelled.return_number is None
        order = order_view(verified(session, "000000102"))
        assert order.refunds == ()
        [invoice] = order.invoices
        assert (invoice.number, invoice.amount_cents) == ("INV000000102", order.total_cents)
        assert invoice.url is None  # the built-in book has no invoice page of its own


def test_customers_are_found_by_email_in_any_case(book_url: str) -> None:
    with session_scope(book_url) as session:
        found = find_customer(session, "  Emily.Carter@EXAMPLE.com")
        assert found is not None and found.first_name == "Emily"
        assert find_customer(session, "nobody@example.com") is None
        assert find_customer(session, " ") is None
