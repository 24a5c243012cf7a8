"""What the conversation leaves for people to act on: complaints, hand-offs to an agent,
erasure requests, newsletter choices, reviews awaiting moderation and messages left for the
team when no agent was free.

Each function writes within the caller's transaction. Asking twice must not make two tasks
for a person, so a hand-off and an erasure request are re-used while still open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from catalog.customer_service import find_customer
from catalog.models import (
    Complaint,
    ErasureRequest,
    NewsletterSubscriber,
    Product,
    Review,
    SupportMessage,
)
from catalog.orders import normalise_order_number
from catalog.statuses import (
    ComplaintStatus,
    ErasureStatus,
    ReviewStatus,
    SupportMessageStatus,
)
from catalog.text import one_line
from core.clock import utc_now

MAX_TEXT_CHARS = 2000  # a note or a message left for the team
MAX_EMAIL_CHARS = 255


def kept_text(text: str, what: str) -> str:
    """The trimmed text; ValueError (a sentence for the person) when empty or too long."""
    kept = text.strip()
    if not kept:
        raise ValueError(f"Please write something: the {what} is empty.")
    if len(kept) > MAX_TEXT_CHARS:
        raise ValueError(
            f"Please shorten the {what}: it may have at most {MAX_TEXT_CHARS} characters, "
            f"this one has {len(kept)}."
        )
    return kept


def record_complaint(
    session: Session,
    conversation_id: str,
    text: str,
    email: str | None = None,
    order_number: str | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Keep the shopper's words as they wrote them; ValueError when there are none."""
    if not text.strip():
        raise ValueError("a complaint needs its text")
    number = order_number and (normalise_order_number(order_number) or order_number.strip())
    complaint = Complaint(
        conversation_id=conversation_id,
        email=email.strip().lower() if email and email.strip() else None,
        order_number=number[:32] if number else None,
        text=text.strip(),
        status=ComplaintStatus.OPEN,
        created_at=now or utc_now(),
    )
    session.add(complaint)
    session.flush()
    return complaint


def request_erasure(
    session: Session, email: str, conversation_id: str, now: datetime | None = None
) -> ErasureRequest:
    """Ask for the data of the customer with this e-mail to be erased; one pending request per
    address. The customer row is linked when ShopDesk's own tables have one (the built-in order
    book); a connected shop's customer lives in the shop, and the request carries the address."""
    wanted = email.strip().lower()
    existing = session.scalar(
        select(ErasureRequest)
        .where(
            func.lower(ErasureRequest.email) == wanted,
            ErasureRequest.status == ErasureStatus.PENDING,
        )
        .limit(1)
    )
    if existing is not None:
        return existing
    customer = find_customer(session, wanted)
    request = ErasureRequest(
        customer_id=customer.id if customer is not None else None,
        email=customer.email if customer is not None else wanted,
        conversation_id=conversation_id,
        status=ErasureStatus.PENDING,
        requested_at=now or utc_now(),
    )
    session.add(request)
    session.flush()
    return request


def set_newsletter(
    session: Session, email: str, subscribed: bool, now: datetime
) -> NewsletterSubscriber:
    """Subscribe or unsubscribe an address; `changed_at` moves only when the flag changes."""
    address = email.strip().lower()
    if "@" not in address.strip("@") or any(c.isspace() for c in address):
        raise ValueError(f"{email!r} is not an e-mail address")
    subscriber = session.scalar(
        select(NewsletterSubscriber).where(NewsletterSubscriber.email == address)
    )
    if subscriber is None:
        subscriber = NewsletterSubscriber(email=address, subscribed=subscribed, changed_at=now)
        session.add(subscriber)
    elif subscriber.subscribed != subscribed:
        subscriber.subscribed = subscribed
        subscriber.changed_at = now
    if subscriber.customer_id is None:
        customer = find_customer(session, address)
        subscriber.customer_id = customer.id if customer else None
    session.flush()
    return subscriber


def store_review(
    session: Session,
    product: Product,
    rating: int,
    title: str,
    text: str,
    reviewer: str,
    conversation_id: str,
    now: datetime | None = None,
) -> Review:
    """A review written in the chat: pending, so not shown or counted until approved."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ValueError(f"a rating is a whole number from 1 to 5, not {rating!r}")
    review = Review(
        rating=rating,
        title=one_line(title, 255),
        text=text.strip(),
        reviewer=one_line(reviewer, 120),
        status=ReviewStatus.PENDING,
        created_at=now or utc_now(),
        conversation_id=conversation_id,
    )
    product.reviews.append(review)
    session.flush()
    return review


def _email(email: str | None) -> str | None:
    address = (email or "").strip().lower()
    if not address:
        return None
    if (
        "@" not in address.strip("@")
        or any(c.isspace() for c in address)
        or len(address) > MAX_EMAIL_CHARS
    ):
        raise ValueError(
            f"{email!r} does not look like an e-mail address; please check it, or leave it out "
            "to get the answer in this chat."
        )
    return address


def leave_message(
    session: Session,
    conversation_id: str,
    email: str | None,
    text: str,
    now: datetime | None = None,
) -> SupportMessage:
    """Keep a shopper's message for the support team (status `new`); the e-mail is optional."""
    message = SupportMessage(
        conversation_id=conversation_id[:64],
        email=_email(email),
        text=kept_text(text, "message"),
        created_at=now or utc_now(),
        status=SupportMessageStatus.NEW,
    )
    session.add(message)
    session.flush()
    return message
