"""Retention: transcripts and the records around them are kept only so long.

`apply_retention` forgets, event by event, what is older than the shop's retention period
(SHOPDESK_TRANSCRIPT_RETENTION_DAYS, default 365): a shopper who came back keeps their
recent messages, not the old ones. The web server runs it on a schedule (web/housekeeping.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Final, cast

from pydantic import BeforeValidator
from sqlalchemy import CursorResult, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from catalog.models import (
    AgentNote,
    ConversationSubject,
    NewsletterConfirmation,
    NluCorrection,
    OutboxEmail,
    SignInFailure,
    VerificationFailure,
)
from core.clock import as_utc, utc_now
from core.settings import Section, var, whole_number
from privacy.forgetting import TrainingDataForgetter, forget_training
from privacy.holdings import in_conversations
from tracker.events import open_events, select_in_chunks

RETENTION_ENV: Final = "SHOPDESK_TRANSCRIPT_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS: Final = 365


class RetentionSettings(Section):
    """How long conversations and what hangs on them are kept."""

    days: Annotated[int, BeforeValidator(whole_number(1))] = var(
        RETENTION_ENV, DEFAULT_RETENTION_DAYS
    )


def retention_days_from_env(environ: Mapping[str, str] | None = None) -> int:
    """`SHOPDESK_TRANSCRIPT_RETENTION_DAYS` (default 365); ValueError (a SettingsError) unless
    a whole number above 0, since 0 would delete every conversation, live ones included."""
    return RetentionSettings.from_env(environ).days


@dataclass(frozen=True)
class RetentionResult:
    conversations: int = 0  # left without any event: removed from the tracker store
    tracker_events: int = 0  # every event older than the cut-off
    agent_notes: int = 0
    corrections: int = 0  # agents' corrections (and their exported copies)
    links: int = 0  # conversation_subjects rows of conversations with no recent event
    outbox: int = 0  # e-mails queued before the cut-off, sent or not
    other: int = 0  # newsletter confirmations, failed verifications and sign-ins

    def summary(self) -> str:
        """One line without personal data, for the terminal and the web server's log."""
        text = (
            f"{self.conversations} conversations ({self.tracker_events} events) and "
            f"{self.agent_notes} agent notes removed"
        )
        extra = [
            f"{label} {value}"
            for label, value in (
                ("corrections", self.corrections),
                ("links", self.links),
                ("e-mails", self.outbox),
                ("other records", self.other),
            )
            if value
        ]
        return text + (f"; also {', '.join(extra)}" if extra else "")


def _ended_before(tracker_url: str, cutoff: float) -> list[str]:
    """The conversations whose every event is older than the cut-off (none undated)."""
    with open_events(tracker_url) as store:
        if store is None:
            return []
        events = store.table
        query = (
            select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(
                func.max(events.c.timestamp) < cutoff,
                func.count() == func.count(events.c.timestamp),
            )
        )
        return sorted(store.connection.scalars(query))


def _with_events_since(tracker_url: str, conversations: Sequence[str], cutoff: float) -> set[str]:
    """Those of the conversations that have an event at or after the cut-off (or undated)."""
    if not conversations:
        return set()
    with open_events(tracker_url) as store:
        if store is None:
            return set()
        events = store.table
        recent = or_(events.c.timestamp >= cutoff, events.c.timestamp.is_(None))
        query = select(events.c.sender_id).where(recent).distinct()
        rows = select_in_chunks(store.connection, query, events.c.sender_id, conversations)
        return {sender_id for (sender_id,) in rows}


def _delete_events_before(tracker_url: str, cutoff: float) -> int:
    """Delete every event older than the cut-off, whatever came after it."""
    with open_events(tracker_url, write=True) as store:
        if store is None:
            return 0
        events = store.table
        deleted = store.connection.execute(delete(events).where(events.c.timestamp < cutoff))
        return int(deleted.rowcount)


def _delete_rows(session: Session, model: Any, condition: Any) -> int:
    result = cast(CursorResult[Any], session.execute(delete(model).where(condition)))
    return int(result.rowcount or 0)


def apply_retention(
    session: Session,
    tracker_url: str,
    older_than_days: int,
    now: datetime | None = None,
    *,
    forgetter: TrainingDataForgetter,
) -> RetentionResult:
    """Forget what is older than `older_than_days`, event by event: a shopper who came back
    keeps their recent messages, not the old ones. Deleted: every tracker event before the
    cut-off; agent notes written before it or on a conversation left without events; agents'
    corrections made, or of a message sent, before it (and their copies in the learning
    loop's exports, with the test stories of conversations started before it); the links of
    conversations with no event since; e-mails queued, newsletter confirmations asked,
    verifications and sign-ins failed before it.

    The shop's rows are committed first, then the events deleted: the tracker store says
    which conversations end up empty, so a failure there leaves a retry everything it needs.
    ValueError unless `older_than_days` is at least 1.
    """
    if isinstance(older_than_days, bool) or older_than_days < 1:
        raise ValueError(f"keep transcripts at least 1 day, not {older_than_days!r}")
    now = as_utc(now) if now is not None else utc_now()
    cutoff = now - timedelta(days=older_than_days)
    cutoff_epoch = cutoff.timestamp()  # aware UTC: the epoch seconds of Rasa's timestamps
    ended = _ended_before(tracker_url, cutoff_epoch)
    notes = _delete_rows(
        session,
        AgentNote,
        or_(AgentNote.created_at < cutoff, in_conversations(AgentNote.conversation_id, ended)),
    )
    old_corrections = or_(
        NluCorrection.created_at < cutoff, NluCorrection.message_at < cutoff_epoch
    )
    removed = list(session.scalars(select(NluCorrection.text).where(old_corrections)))
    corrections = _delete_rows(session, NluCorrection, old_corrections)
    linked = sorted(
        set(
            session.scalars(
                select(ConversationSubject.conversation_id).where(
                    ConversationSubject.linked_at < cutoff
                )
            )
        )
    )
    going = sorted(set(linked) - _with_events_since(tracker_url, linked, cutoff_epoch))
    links = _delete_rows(
        session,
        ConversationSubject,
        and_(
            ConversationSubject.linked_at < cutoff,
            in_conversations(ConversationSubject.conversation_id, going),
        ),
    )
    outbox = _delete_rows(session, OutboxEmail, OutboxEmail.created_at < cutoff)
    other = (
        _delete_rows(session, NewsletterConfirmation, NewsletterConfirmation.created_at < cutoff)
        + _delete_rows(session, VerificationFailure, VerificationFailure.failed_at < cutoff)
        + _delete_rows(session, SignInFailure, SignInFailure.at < cutoff)
    )
    session.commit()
    events = _delete_events_before(tracker_url, cutoff_epoch)
    emptied = len(set(ended) - _with_events_since(tracker_url, ended, cutoff_epoch))
    forget_training(session, forgetter, removed, before=cutoff)
    return RetentionResult(
        conversations=emptied,
        tracker_events=events,
        agent_notes=notes,
        corrections=corrections,
        links=links,
        outbox=outbox,
        other=other,
    )
