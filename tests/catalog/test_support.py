"""What the conversation records for people: complaints, hand-offs, erasure, newsletter, reviews."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog import handoffs
from catalog.answers import summarise_reviews
from catalog.db import session_scope
from catalog.luma import import_luma
from catalog.models import (
    Customer,
    ErasureRequest,
    Handoff,
    NewsletterSubscriber,
    Product,
    Review,
    SupportMessage,
)
from catalog.search_index import refresh_product_stats
from catalog.settings import LUMA_DATA_DIR
from catalog.statuses import ReviewStatus
from catalog.support import (
    leave_message,
    record_complaint,
    request_erasure,
    set_newsletter,
    store_review,
)
from core.clock import utc_now
from tests.catalog.test_demo_order_book import copy_database

NOW = datetime(2025, 6, 18, 10, 30, tzinfo=UTC)
RONI = "roni_cost@example.com"  # the Luma sample customer


@pytest.fixture
def shop_url(luma_db_url: str, tmp_path: Path) -> str:
    return copy_database(luma_db_url, tmp_path / "shop.sqlite3")


def product(session: Session, sku: str) -> Product:
    return session.scalars(select(Product).where(Product.sku == sku)).one()


def roni(session: Session) -> Customer:
    return session.scalars(select(Customer).where(Customer.email == RONI)).one()


def test_a_complaint_keeps_the_words_and_the_order(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        complaint = record_complaint(
            session, "chat-1", "  The zipper broke\non day two. ", email=" Roni@Example.com ",
            order_number="#1", now=NOW,
        )  # fmt: skip
        assert (complaint.text, complaint.email, complaint.order_number) == (
            "The zipper broke\non day two.",
            "roni@example.com",
            "000000001",
        )
        assert (complaint.status, complaint.created_at, complaint.id is not None) == (
            "new",  # migration 0009: the inbox's vocabulary
            NOW,
            True,
        )
        bare = record_complaint(session, "chat-2", "Rude courier.")
        assert bare.email is None and bare.order_number is None and bare.created_at <= utc_now()
        with pytest.raises(ValueError):
            record_complaint(session, "chat-3", "   ")


def test_a_handoff_is_reused_while_open(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        first = handoffs.request(session, "chat-1", "wants a person", now=NOW)
        again = handoffs.request(session, "chat-1", "asked again", now=NOW + timedelta(minutes=2))
        assert again.id == first.id and again.reason == "wants a person"
        assert first.status == "waiting" and first.created_at == first.updated_at == NOW
        other = handoffs.request(session, "chat-2", "billing question", now=NOW)
        assert other.id != first.id
        first.status = "taken"
        assert handoffs.request(session, "chat-1", "still there?").id == first.id
        first.status = "closed"
        later = handoffs.request(session, "chat-1", "a new problem", now=NOW + timedelta(hours=1))
        assert later.id != first.id and later.status == "waiting"
        waiting = select(func.count()).select_from(Handoff).where(Handoff.status == "waiting")
        assert session.scalar(waiting) == 2


def test_an_erasure_request_is_made_once_while_pending(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        customer = roni(session)
        first = request_erasure(session, customer.email, "chat-1", now=NOW)
        assert (first.email, first.status, first.customer_id) == (RONI, "pending", customer.id)
        assert request_erasure(session, customer.email, "chat-2").id == first.id
        first.status = "done"
        assert request_erasure(session, customer.email, "chat-3").id != first.id
        assert session.scalar(select(func.count()).select_from(ErasureRequest)) == 2


def test_the_newsletter_flag_flips_and_remembers_when(shop_url: str) -> None:
    later = NOW + timedelta(days=1)
    with session_scope(shop_url) as session:
        row = set_newsletter(session, " Roni_Cost@Example.COM ", True, NOW)
        assert (row.email, row.subscribed, row.changed_at) == (RONI, True, NOW)
        assert row.customer_id == roni(session).id
        assert set_newsletter(session, RONI, True, later).changed_at == NOW  # no change
        off = set_newsletter(session, RONI, False, later)
        assert (off.id, off.subscribed, off.changed_at) == (row.id, False, later)
        stranger = set_newsletter(session, "new@example.org", False, NOW)
        assert stranger.customer_id is None and stranger.subscribed is False
        for bad in ("not an address", "@example.com", "a b@example.com", ""):
            with pytest.raises(ValueError):
                set_newsletter(session, bad, True, NOW)
    with session_scope(shop_url) as session:
        rows = session.scalars(select(NewsletterSubscriber).order_by(NewsletterSubscriber.email))
        assert [(r.email, r.subscribed) for r in rows] == [
            ("new@example.org", False),
            (RONI, False),
        ]


def test_a_chat_review_waits_for_moderation(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        tee = product(session, "MS08")
        before = (tee.rating_avg, tee.review_count, summarise_reviews(tee).text)
        assert before[1] and before[1] > 0
        review = store_review(
            session, tee, 1, "  Fell  apart ", "Fell apart after one wash.", "Shopper",
            "chat-7", now=NOW,
        )  # fmt: skip
        assert (review.status, review.title, review.conversation_id) == (
            ReviewStatus.PENDING,
            "Fell apart",
            "chat-7",
        )
        assert review in tee.reviews
        refresh_product_stats(session)
        session.refresh(tee)
        after = (tee.rating_avg, tee.review_count, summarise_reviews(tee).text)
        assert after == before and "Fell apart" not in after[2]
        for bad in (0, 6, True, 4.5):
            with pytest.raises(ValueError):
                store_review(session, tee, bad, "", "", "", "chat-7")  # type: ignore[arg-type]
        review.status = ReviewStatus.APPROVED  # once a moderator approves it, it counts
        refresh_product_stats(session)
        session.refresh(tee)
        assert tee.review_count == before[1] + 1
        assert "1★ from Shopper: “Fell apart after one wash.”" in summarise_reviews(tee).text


def test_imported_reviews_are_approved(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        statuses = session.scalars(select(Review.status).distinct()).all()
        assert statuses == [ReviewStatus.APPROVED]


def test_importing_the_catalog_again_keeps_chat_reviews(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        store_review(session, product(session, "MS08"), 2, "", "Too tight.", "Shopper", "chat-8")
    with session_scope(shop_url) as session:
        import_luma(session, LUMA_DATA_DIR)
    with session_scope(shop_url) as session:
        kept = session.scalars(select(Review).where(Review.conversation_id == "chat-8")).all()
        assert [r.text for r in kept] == ["Too tight."]


def test_a_shopper_leaves_a_message_with_or_without_an_email(shop_url: str) -> None:
    with session_scope(shop_url) as session:
        _leave_three(session)


def _leave_three(session: Session) -> None:
    kept = leave_message(session, "chat-1", " Roni@Example.com ", " Please call me back. ", NOW)
    anonymous = leave_message(session, "chat-2", "  ", "Still waiting for my parcel.", NOW)
    assert (kept.email, kept.text, kept.status, kept.created_at) == (
        "roni@example.com", "Please call me back.", "new", NOW
    )  # fmt: skip
    assert (anonymous.email, anonymous.conversation_id) == (None, "chat-2")
    assert leave_message(session, "chat-3", None, "Hello?").email is None
    assert len(session.scalars(select(SupportMessage)).all()) == 3


@pytest.mark.parametrize(
    ("email", "text", "complaint"),
    [
        ("roni@example.com", "", "the message is empty"),
        ("roni@example.com", "y" * 2001, "at most 2000 characters, this one has 2001"),
        ("roni at example.com", "Hello", "does not look like an e-mail address"),
        ("roni @example.com", "Hello", "does not look like an e-mail address"),
        ("@", "Hello", "does not look like an e-mail address"),
    ],
)
def test_a_left_message_is_checked_like_a_note(
    shop_url: str, email: str, text: str, complaint: str
) -> None:
    with session_scope(shop_url) as session:
        with pytest.raises(ValueError, match=complaint):
            leave_message(session, "chat-1", email, text)
        assert session.scalars(select(SupportMessage)).all() == []
