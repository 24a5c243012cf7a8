"""The agents' back office: what the chat left for people, as the console's inbox reads it.

Three kinds of item wait for an agent: messages left for the team when nobody answered,
complaints, and return requests. Each moves new → in progress → done (`InboxStatus`), one
vocabulary for the three, so the console filters and counts them alike. Reviews written in the
chat wait for a moderator apart from these: they are approved or rejected, not worked on.

Notices: the web server asks `arrivals` on every sweep which items (and waiting hand-offs)
appeared since it last looked, tells the signed-in agents, and e-mails the shop's support
address once per batch. What the address was told is kept per kind in `inbox_watermarks`
(a row id), so a restart mails nothing twice; `claim` moves it only from the value the caller
read, so two web processes cannot both mail the same batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, joinedload

from catalog import outbox
from catalog.models import (
    Complaint,
    ConversationSubject,
    Handoff,
    InboxWatermark,
    Order,
    OutboxEmail,
    Product,
    Return,
    Review,
    SupportMessage,
)
from catalog.statuses import HandoffStatus, InboxStatus, ReviewStatus
from core.clock import utc_now

DEFAULT_LIMIT: Final = 100  # items the inbox lists at once, newest first
MAX_LIMIT: Final = 500
MAX_NOTICES: Final = 50  # per kind and sweep; a burst beyond it is counted, not itemised


class InboxKind(StrEnum):
    """The kinds of item in the inbox, as the console's filter and paths name them."""

    MESSAGE = "message"
    COMPLAINT = "complaint"
    RETURN = "return"


class NoticeKind(StrEnum):
    """What agents are told about as it arrives: the inbox's kinds, a review to moderate and
    a shopper waiting for a person (migration 0009 names these in `inbox_watermarks`)."""

    MESSAGE = InboxKind.MESSAGE.value
    COMPLAINT = InboxKind.COMPLAINT.value
    RETURN = InboxKind.RETURN.value
    REVIEW = "review"
    HANDOFF = "handoff"


class Decision(StrEnum):
    """A moderator's verdict on a pending review."""

    APPROVE = "approve"
    REJECT = "reject"


DECIDED: Final = {Decision.APPROVE: ReviewStatus.APPROVED, Decision.REJECT: ReviewStatus.REJECTED}

NOTICE_TITLES: Final = {
    NoticeKind.MESSAGE: "A shopper left a message for the team",
    NoticeKind.COMPLAINT: "A shopper made a complaint",
    NoticeKind.RETURN: "A shopper asked to return an item",
    NoticeKind.REVIEW: "A review is waiting for moderation",
    NoticeKind.HANDOFF: "A shopper is waiting for a person",
}
MAIL_SUBJECT: Final = "ShopDesk: {count} new for the support team"
MAIL_FOOTER: Final = (
    "Open the agent console (/agent/) to read and answer them: the Inbox for messages, "
    "complaints, returns and reviews, the Queue for shoppers waiting."
)


class NotFound(LookupError):
    """No such item or review: the sentence is for the agent."""


class AlreadyModerated(ValueError):
    """A review that is not pending any more (another moderator was first)."""


@dataclass(frozen=True)
class InboxItem:
    """One item as the console lists it; `reference` is the order or return number."""

    kind: InboxKind
    id: int
    status: str
    created_at: datetime
    conversation_id: str | None
    email: str | None
    text: str
    reference: str | None = None
    order_number: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "status": self.status,
            "created_at": self.created_at.isoformat(),
            "conversation_id": self.conversation_id,
            "email": self.email,
            "text": self.text,
            "reference": self.reference,
            "order_number": self.order_number,
        }


@dataclass(frozen=True)
class PendingReview:
    """A review written in the chat, with the product it is about."""

    id: int
    product_id: int
    product_name: str
    sku: str
    rating: int
    title: str
    text: str
    reviewer: str
    created_at: datetime | None
    conversation_id: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "product_id": self.product_id,
            "product_name": self.product_name,
            "sku": self.sku,
            "rating": self.rating,
            "title": self.title,
            "text": self.text,
            "reviewer": self.reviewer,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "conversation_id": self.conversation_id,
        }


@dataclass(frozen=True)
class Notice:
    """Something new for the agents: its kind and row id, when, and in which conversation."""

    kind: NoticeKind
    id: int
    created_at: datetime
    conversation_id: str | None

    @property
    def title(self) -> str:
        return NOTICE_TITLES[self.kind]

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "id": self.id,
            "title": self.title,
            "created_at": self.created_at.isoformat(),
            "conversation_id": self.conversation_id,
        }


# ---------------------------------------------------------------- the inbox


def _limit(limit: int) -> int:
    return max(1, min(limit, MAX_LIMIT))


def _message(message: SupportMessage) -> InboxItem:
    return InboxItem(
        InboxKind.MESSAGE, message.id, message.status, message.created_at,
        message.conversation_id, message.email, message.text,
    )  # fmt: skip


def _complaint(complaint: Complaint) -> InboxItem:
    return InboxItem(
        InboxKind.COMPLAINT, complaint.id, complaint.status, complaint.created_at,
        complaint.conversation_id, complaint.email, complaint.text,
        order_number=complaint.order_number,
    )  # fmt: skip


def return_conversation(session: Session, order_number: str, at: datetime | None) -> str | None:
    """The chat a return was asked for in: returns record no conversation, but asking needs
    the order verified first, and verifying links the conversation to the order number
    (catalog/subjects.py); the latest such link made before the request is its chat."""
    query = select(ConversationSubject.conversation_id).where(
        ConversationSubject.order_number == order_number
    )
    if at is not None:
        query = query.where(ConversationSubject.linked_at <= at)
    return session.scalar(query.order_by(ConversationSubject.linked_at.desc()).limit(1))


def _return(session: Session, request: Return) -> InboxItem:
    line = request.line
    what = f"{request.qty} × {line.name}" if line is not None else f"{request.qty} item(s)"
    reason = f": {request.reason}" if request.reason else ""
    order = request.order
    return InboxItem(
        InboxKind.RETURN, request.id, request.inbox_status or InboxStatus.NEW,
        request.created_at or utc_now(),
        return_conversation(session, order.number, request.created_at),
        order.customer.email if order.customer is not None else None,
        f"{what}{reason}", reference=request.number, order_number=order.number,
    )  # fmt: skip


def items(
    session: Session,
    kinds: Iterable[InboxKind] = tuple(InboxKind),
    status: InboxStatus | None = None,
    limit: int = DEFAULT_LIMIT,
) -> list[InboxItem]:
    """The inbox, newest first: of `kinds`, with `status` (any when None), at most `limit`."""
    limit = _limit(limit)
    wanted = set(kinds)
    found: list[InboxItem] = []
    if InboxKind.MESSAGE in wanted:
        query = select(SupportMessage)
        if status is not None:
            query = query.where(SupportMessage.status == status)
        newest = query.order_by(SupportMessage.created_at.desc(), SupportMessage.id.desc())
        found += [_message(m) for m in session.scalars(newest.limit(limit))]
    if InboxKind.COMPLAINT in wanted:
        query_c = select(Complaint)
        if status is not None:
            query_c = query_c.where(Complaint.status == status)
        newest_c = query_c.order_by(Complaint.created_at.desc(), Complaint.id.desc())
        found += [_complaint(c) for c in session.scalars(newest_c.limit(limit))]
    if InboxKind.RETURN in wanted:
        query_r = (
            select(Return)
            .where(Return.inbox_status.is_not(None))
            .options(joinedload(Return.order).joinedload(Order.customer), joinedload(Return.line))
        )
        if status is not None:
            query_r = query_r.where(Return.inbox_status == status)
        newest_r = query_r.order_by(Return.created_at.desc(), Return.id.desc())
        found += [_return(session, r) for r in session.scalars(newest_r.limit(limit))]
    found.sort(key=lambda item: (item.created_at, item.id), reverse=True)
    return found[:limit]


def new_counts(session: Session) -> dict[str, int]:
    """How many of each kind are new, and of reviews how many wait for moderation."""
    waiting = {
        InboxKind.MESSAGE: (SupportMessage.id, SupportMessage.status == InboxStatus.NEW),
        InboxKind.COMPLAINT: (Complaint.id, Complaint.status == InboxStatus.NEW),
        InboxKind.RETURN: (Return.id, Return.inbox_status == InboxStatus.NEW),
        NoticeKind.REVIEW: (Review.id, Review.status == ReviewStatus.PENDING),
    }
    return {
        kind: session.scalar(select(func.count(key)).where(condition)) or 0
        for kind, (key, condition) in waiting.items()
    }


def set_status(
    session: Session, kind: InboxKind, item_id: int, status: InboxStatus
) -> tuple[InboxItem, str]:
    """Move one item to `status`; the item as it is now and the status it had (NotFound)."""
    row: SupportMessage | Complaint | Return | None
    if kind == InboxKind.MESSAGE:
        row = session.get(SupportMessage, item_id)
    elif kind == InboxKind.COMPLAINT:
        row = session.get(Complaint, item_id)
    else:
        row = session.get(Return, item_id)
        if row is not None and row.inbox_status is None:
            row = None  # history of the order book, not a request anyone waits on
    if row is None:
        raise NotFound(f"There is no {kind.value} {item_id} in the inbox.")
    if isinstance(row, Return):
        before = row.inbox_status or InboxStatus.NEW
        row.inbox_status = status
        session.flush()
        return _return(session, row), before
    before = row.status
    row.status = status
    session.flush()
    return (_message(row) if isinstance(row, SupportMessage) else _complaint(row)), before


# ---------------------------------------------------------------- reviews


def pending_reviews(session: Session, limit: int = DEFAULT_LIMIT) -> list[PendingReview]:
    """Reviews waiting for a moderator, oldest first (the order they were written in)."""
    rows = session.execute(
        select(Review, Product.name, Product.sku)
        .join(Product, Product.id == Review.product_id)
        .where(Review.status == ReviewStatus.PENDING)
        .order_by(Review.created_at, Review.id)
        .limit(_limit(limit))
    )
    return [
        PendingReview(
            review.id,
            review.product_id,
            name,
            sku,
            review.rating,
            review.title,
            review.text,
            review.reviewer,
            review.created_at,
            review.conversation_id,
        )
        for review, name, sku in rows
    ]


def refresh_rating(session: Session, product_id: int) -> None:
    """The product's average and number of approved reviews, as search ranks and answers
    quote them; only this product's, where an import refreshes every product's."""
    published = (Review.product_id == product_id) & (Review.status == ReviewStatus.APPROVED)
    session.execute(
        update(Product)
        .where(Product.id == product_id)
        .values(
            rating_avg=select(func.avg(Review.rating)).where(published).scalar_subquery(),
            review_count=select(func.count(Review.id)).where(published).scalar_subquery(),
        )
        .execution_options(synchronize_session=False)
    )


def moderate(session: Session, review_id: int, decision: Decision) -> Review:
    """Approve (quoted and counted from now on) or reject a pending review."""
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"There is no review {review_id}.")
    if review.status != ReviewStatus.PENDING:
        raise AlreadyModerated(f"Review {review_id} has already been {review.status}.")
    review.status = DECIDED[decision]
    session.flush()
    refresh_rating(session, review.product_id)
    session.expire(review.product)
    return review


# ---------------------------------------------------------------- notices


def _handoff_notice(h: Handoff) -> Notice:
    return Notice(NoticeKind.HANDOFF, h.id, h.created_at, h.conversation_id)


def _arrived(session: Session, kind: NoticeKind, after: int, upto: int) -> list[Notice]:
    """The rows of `kind` with ids in (after, upto] that someone has to look at."""
    if kind == NoticeKind.MESSAGE:
        m = session.scalars(
            select(SupportMessage).where(SupportMessage.id > after, SupportMessage.id <= upto)
            .order_by(SupportMessage.id).limit(MAX_NOTICES)
        )  # fmt: skip
        return [Notice(kind, x.id, x.created_at, x.conversation_id) for x in m]
    if kind == NoticeKind.COMPLAINT:
        c = session.scalars(
            select(Complaint).where(Complaint.id > after, Complaint.id <= upto)
            .order_by(Complaint.id).limit(MAX_NOTICES)
        )  # fmt: skip
        return [Notice(kind, x.id, x.created_at, x.conversation_id) for x in c]
    if kind == NoticeKind.RETURN:
        r = session.scalars(
            select(Return).where(
                Return.id > after, Return.id <= upto, Return.inbox_status == InboxStatus.NEW
            ).options(joinedload(Return.order)).order_by(Return.id).limit(MAX_NOTICES)
        )  # fmt: skip
        return [
            Notice(
                kind,
                x.id,
                x.created_at or utc_now(),
                return_conversation(session, x.order.number, x.created_at),
            )
            for x in r
        ]
    if kind == NoticeKind.REVIEW:
        v = session.scalars(
            select(Review).where(
                Review.id > after, Review.id <= upto, Review.status == ReviewStatus.PENDING
            ).order_by(Review.id).limit(MAX_NOTICES)
        )  # fmt: skip
        return [Notice(kind, x.id, x.created_at or utc_now(), x.conversation_id) for x in v]
    h = session.scalars(
        select(Handoff).where(
            Handoff.id > after, Handoff.id <= upto, Handoff.status == HandoffStatus.WAITING
        ).order_by(Handoff.id).limit(MAX_NOTICES)
    )  # fmt: skip
    return [_handoff_notice(x) for x in h]


KNOWN_KINDS: Final = frozenset(kind.value for kind in NoticeKind)
TABLES: Final[dict[NoticeKind, type[SupportMessage | Complaint | Return | Review | Handoff]]] = {
    NoticeKind.MESSAGE: SupportMessage,
    NoticeKind.COMPLAINT: Complaint,
    NoticeKind.RETURN: Return,
    NoticeKind.REVIEW: Review,
    NoticeKind.HANDOFF: Handoff,
}


def newest_ids(session: Session) -> dict[NoticeKind, int]:
    """The highest row id of each kind's table (0 when empty)."""
    return {
        kind: session.scalar(select(func.coalesce(func.max(table.id), 0))) or 0
        for kind, table in TABLES.items()
    }


def watermarks(session: Session) -> dict[NoticeKind, int]:
    """What the support address has been told about, per kind. A kind with no row yet starts
    at its newest row: a new kind of notice does not mail its whole history."""
    stored = {
        NoticeKind(kind): last_id
        for kind, last_id in session.execute(select(InboxWatermark.kind, InboxWatermark.last_id))
        if kind in KNOWN_KINDS
    }
    missing = [kind for kind in NoticeKind if kind not in stored]
    if missing:
        newest = newest_ids(session)
        for kind in missing:
            session.add(InboxWatermark(kind=kind.value, last_id=newest[kind]))
            stored[kind] = newest[kind]
        session.flush()
    return stored


def arrivals(
    session: Session, after: Mapping[NoticeKind, int]
) -> tuple[list[Notice], dict[NoticeKind, int]]:
    """What arrived past `after` (row ids per kind), oldest first, and the ids to look past
    next time. Rows nobody has to look at (an approved import, a received return) move the
    mark but are no notice."""
    newest = newest_ids(session)
    found: list[Notice] = []
    for kind in NoticeKind:
        start = after.get(kind, newest[kind])
        if newest[kind] > start:
            found += _arrived(session, kind, start, newest[kind])
    found.sort(key=lambda notice: (notice.created_at, notice.kind, notice.id))
    return found, {kind: max(newest[kind], after.get(kind, 0)) for kind in NoticeKind}


def claim(session: Session, kind: NoticeKind, read: int, new: int) -> bool:
    """Move `kind`'s watermark from `read` (what the caller read) to `new`; False when
    another process moved it first (then that process mails the batch)."""
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(InboxWatermark)
        .where(InboxWatermark.kind == kind.value, InboxWatermark.last_id == read)
        .values(last_id=new)
    )
    return int(result.rowcount or 0) == 1


def mail_notices(
    session: Session, notices: Sequence[Notice], to_address: str, now: datetime | None = None
) -> OutboxEmail | None:
    """One e-mail to the shop's support address listing `notices` (none when there are none).

    It names what arrived, when and in which conversation, never what the shopper wrote: mail
    leaves the shop's systems and outlives the retention and erasure of the conversation."""
    if not notices or not to_address.strip():
        return None
    lines = [
        f"- {n.title} ({n.created_at:%Y-%m-%d %H:%M} UTC"
        + (f", conversation {n.conversation_id})" if n.conversation_id else ")")
        for n in notices
    ]
    body = "\n".join([*lines, "", MAIL_FOOTER])
    subject = MAIL_SUBJECT.format(count=len(notices))
    return outbox.enqueue(session, to_address, outbox.AGENT_NOTICE, subject, body, now=now)
