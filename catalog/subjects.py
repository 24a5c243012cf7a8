"""Whose conversation is it: the verified e-mail and order numbers of a conversation,
recorded when the check succeeds.

Export and erasure look conversations up here first, so they stay complete after the
transcript was masked (a masked transcript no longer holds the e-mail address).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session

from catalog.models import ConversationSubject
from core.clock import utc_now

_CHUNK = 500  # values per IN (...): well under SQLite's limit on bound parameters


def link(
    session: Session,
    conversation_id: str,
    email: str,
    order_number: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record that `conversation_id` proved `email` (and this order); once per triple."""
    email = email.strip().lower()
    exists = session.scalar(
        select(ConversationSubject.id).where(
            ConversationSubject.conversation_id == conversation_id[:64],
            ConversationSubject.email == email,
            ConversationSubject.order_number.is_(None)
            if order_number is None
            else ConversationSubject.order_number == order_number,
        )
    )
    if exists is None:
        session.add(
            ConversationSubject(
                conversation_id=conversation_id[:64],
                email=email,
                order_number=order_number,
                linked_at=now or utc_now(),
            )
        )
        session.flush()


def conversations_of(session: Session, email: str) -> set[str]:
    """Every conversation that verified this e-mail address."""
    wanted = email.strip().lower()
    return set(
        session.scalars(
            select(ConversationSubject.conversation_id).where(ConversationSubject.email == wanted)
        )
    )


def order_numbers_of(session: Session, email: str) -> set[str]:
    """The order numbers this e-mail address verified in any conversation."""
    wanted = email.strip().lower()
    rows = session.scalars(
        select(ConversationSubject.order_number).where(ConversationSubject.email == wanted)
    )
    return {number for number in rows if number}


def forget(session: Session, email: str) -> int:
    """Remove the links of an erased shopper; how many there were."""
    wanted = email.strip().lower()
    statement = delete(ConversationSubject).where(ConversationSubject.email == wanted)
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount or 0)


def conversations_of_orders(session: Session, order_numbers: Iterable[str]) -> set[str]:
    """Every conversation that verified one of these orders: an erased customer's orders
    are theirs even where the link names an address the customer has since changed."""
    numbers = sorted(set(order_numbers))
    found: set[str] = set()
    for start in range(0, len(numbers), _CHUNK):
        chunk = numbers[start : start + _CHUNK]
        found.update(
            session.scalars(
                select(ConversationSubject.conversation_id).where(
                    ConversationSubject.order_number.in_(chunk)
                )
            )
        )
    return found
