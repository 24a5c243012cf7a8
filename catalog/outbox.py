"""E-mails for the shop's mailer: a row per message in `outbox`, sent by whatever mailer the
shop runs (it reads rows with no `sent_at`, sends them and sets it).

A change made in the chat (cancel, new shipping address, erasure request) is told to the
order's own e-mail address, so a stranger who got past the checks cannot act unseen.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import OutboxEmail
from core.clock import utc_now

# kinds of message, for the mailer's templates and for tests
ORDER_CANCELLED = "order_cancelled"
ADDRESS_CHANGED = "address_changed"
ERASURE_REQUESTED = "erasure_requested"
NEWSLETTER_CONFIRM = "newsletter_confirm"
AGENT_NOTICE = "agent_notice"  # to the shop's support address: new items for agents (inbox)
KINDS = (ORDER_CANCELLED, ADDRESS_CHANGED, ERASURE_REQUESTED, NEWSLETTER_CONFIRM, AGENT_NOTICE)


def enqueue(
    session: Session,
    to_address: str,
    kind: str,
    subject: str,
    body: str,
    now: datetime | None = None,
) -> OutboxEmail:
    """Add one message in the caller's transaction, so it goes out only if the change stood."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}; one of {', '.join(KINDS)}")
    message = OutboxEmail(
        to_address=to_address.strip().lower(),
        kind=kind,
        subject=subject[:255],
        body=body,
        created_at=now or utc_now(),
    )
    session.add(message)
    session.flush()
    return message


def unsent(session: Session, limit: int = 100) -> list[OutboxEmail]:
    """The oldest messages not sent yet, for the mailer."""
    return list(
        session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.sent_at.is_(None))
            .order_by(OutboxEmail.id)
            .limit(limit)
        )
    )
