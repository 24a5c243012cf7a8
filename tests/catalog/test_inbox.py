"""The back office's queries (catalog/inbox.py): the inbox of messages, complaints and return
requests with their status, review moderation, and the notices of what arrived, mailed once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from catalog import handoffs, inbox, subjects
from catalog.db import migrate, session_scope
from catalog.inbox import Decision, InboxKind, NoticeKind
from catalog.models import (
    Complaint,
    Customer,
    Order,
    OrderLine,
    OutboxEmail,
    Product,
    Return,
    Review,
)
from catalog.outbox import AGENT_NOTICE
from catalog.statuses import InboxStatus, ReturnStatus, ReviewStatus
from catalog.support import leave_message, record_complaint, store_review
from tests.catalog.test_demo_order_book import migrate_to

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SUPPORT = "support@shop.example"


@pytest.fixture
def shop_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(url)
    return url


def a_product(session: Session) -> Product:
    product = Product(sku="MUG-1", name="Blue mug", price_cents=1200, url_key="blue-mug")
    session.add(product)
    session.flush()
    return product


def an_order(session: Session, product: Product) -> Order:
    customer = Customer(email="roni@example.com", first_name="Roni", last_name="Lee")
    order = Order(
        number="000000900", customer=customer, status="delivered", currency="EUR",
        shipping_method="flat", payment_method="card", created_at=NOW - timedelta(days=5),
    )  # fmt: skip
    order.lines.append(
        OrderLine(product_id=product.id, sku=product.sku, name=product.name, qty=2, price_cents=1)
    )
    session.add(order)
    session.flush()
    return order


def a_return(session: Session, order: Order, status: str, at: datetime) -> Return:
    request = Return(
        number=f"R{order.number}-{len(order.returns) + 1}", line=order.lines[0], qty=1,
        reason="too small", status=status, created_at=at,
    )  # fmt: skip
    order.returns.append(request)
    session.flush()
    return request


def test_the_inbox_lists_every_kind_newest_first_with_its_conversation(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        product = a_product(session)
        order = an_order(session, product)
        subjects.link(session, "chat-return", "roni@example.com", order.number, now=NOW)
        leave_message(session, "chat-msg", "Roni@Example.com", "Call me back", now=NOW)
        record_complaint(session, "chat-cmp", "Rude courier", now=NOW + timedelta(minutes=1))
        a_return(session, order, ReturnStatus.REQUESTED, NOW + timedelta(minutes=2))
        a_return(session, order, ReturnStatus.RECEIVED, NOW - timedelta(days=1))  # history

        listed = inbox.items(session)
        assert [(i.kind, i.status) for i in listed] == [
            (InboxKind.RETURN, InboxStatus.NEW),
            (InboxKind.COMPLAINT, InboxStatus.NEW),
            (InboxKind.MESSAGE, InboxStatus.NEW),
        ]
        returned = listed[0]
        assert returned.conversation_id == "chat-return"  # the chat that verified the order
        assert returned.reference == "R000000900-1" and "Blue mug" in returned.text
        assert listed[2].email == "roni@example.com" and listed[2].text == "Call me back"
        assert inbox.new_counts(session) == {"message": 1, "complaint": 1, "return": 1, "review": 0}


def test_status_changes_filter_and_count(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        message = leave_message(session, "chat-1", None, "Where is my refund?", now=NOW)
        record_complaint(session, "chat-2", "Broken zip", now=NOW)
        item, before = inbox.set_status(session, InboxKind.MESSAGE, message.id, InboxStatus.DONE)
        assert (item.status, before) == (InboxStatus.DONE, InboxStatus.NEW)
        assert [i.kind for i in inbox.items(session, status=InboxStatus.DONE)] == ["message"]
        assert [i.kind for i in inbox.items(session, kinds=[InboxKind.COMPLAINT])] == ["complaint"]
        assert inbox.new_counts(session)["message"] == 0
        with pytest.raises(inbox.NotFound):
            inbox.set_status(session, InboxKind.COMPLAINT, 999, InboxStatus.DONE)


def test_a_return_that_is_only_history_is_not_in_the_inbox(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        order = an_order(session, a_product(session))
        history = a_return(session, order, ReturnStatus.REFUNDED, NOW)
        assert history.inbox_status is None and inbox.items(session) == []
        with pytest.raises(inbox.NotFound):
            inbox.set_status(session, InboxKind.RETURN, history.id, InboxStatus.DONE)


def test_moderation_publishes_or_rejects_a_pending_review(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        product = a_product(session)
        good = store_review(session, product, 5, "Lovely", "Holds a lot", "Roni", "chat-1", NOW)
        bad = store_review(session, product, 1, "Spam", "buy pills", "Bot", "chat-2", NOW)
        pending = inbox.pending_reviews(session)
        assert [(r.id, r.product_name) for r in pending] == [
            (good.id, "Blue mug"),
            (bad.id, "Blue mug"),
        ]
        inbox.moderate(session, good.id, Decision.APPROVE)
        inbox.moderate(session, bad.id, Decision.REJECT)
        assert (good.status, bad.status) == (ReviewStatus.APPROVED, ReviewStatus.REJECTED)
        session.refresh(product)
        assert (product.review_count, product.rating_avg) == (1, 5.0)  # the approved one only
        assert inbox.pending_reviews(session) == []
        with pytest.raises(inbox.AlreadyModerated):
            inbox.moderate(session, bad.id, Decision.APPROVE)
        with pytest.raises(inbox.NotFound):
            inbox.moderate(session, 999, Decision.APPROVE)


def test_arrivals_are_noticed_once_and_mailed_in_one_digest(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        told = inbox.watermarks(session)
        assert set(told) == set(NoticeKind)
        product = a_product(session)
        session.add(Review(product_id=product.id, rating=4, title="imported"))  # approved
        leave_message(session, "chat-1", None, "Hello?", now=NOW)
        store_review(session, product, 3, "ok", "fine", "Roni", "chat-2", NOW)
        handoffs.request(session, "chat-3", "asked for a person", now=NOW)
        found, newest = inbox.arrivals(session, told)
        assert sorted(n.kind for n in found) == ["handoff", "message", "review"]
        assert all(inbox.claim(session, k, told[k], newest[k]) for k in NoticeKind if newest[k])
        assert not inbox.claim(session, NoticeKind.MESSAGE, told[NoticeKind.MESSAGE], 99)
        mail = inbox.mail_notices(session, found, SUPPORT)
        assert mail is not None and mail.kind == AGENT_NOTICE and mail.to_address == SUPPORT
        assert "3 new" in mail.subject and "Hello?" not in mail.body  # no shopper's words
        assert "conversation chat-3" in mail.body
        assert inbox.arrivals(session, inbox.watermarks(session))[0] == []
        assert inbox.mail_notices(session, [], SUPPORT) is None
        assert len(session.scalars(select(OutboxEmail)).all()) == 1


def test_migration_0009_renames_open_complaints_and_marks_the_history_told(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate_to(url, "0008")
    with session_scope(url) as session:
        session.execute(
            insert(Complaint).values(
                conversation_id="c", text="late", status="open", created_at=NOW
            )
        )
    migrate_to(url, "0009")
    with session_scope(url) as session:
        assert session.scalar(select(Complaint.status)) == InboxStatus.NEW
        assert inbox.watermarks(session)[NoticeKind.COMPLAINT] == 1  # not mailed after upgrade
