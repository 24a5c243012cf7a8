"""Masking: the stored transcripts of ended sessions keep no personal data.

Rasa stores every message as the shopper typed it. Once a session has ended, nothing needs
the address or phone number in it any more, so `mask_transcripts` rewrites those events with
placeholders (privacy/redaction.py), as SHOPDESK_TRANSCRIPT_PII says. Whom a conversation
verified is recorded in the shop's database first, so export and erasure still find it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from catalog import subjects
from core.clock import as_utc, utc_now
from privacy.personal import (
    VERIFIED_EMAIL_SLOT,
    VERIFIED_ORDER_SLOT,
    normalise_email,
)
from privacy.redaction import TranscriptPolicy, redact_event
from tracker.events import Events, chunks, open_events, parse_event, select_in_chunks

VERIFIED_SLOTS: Final = (VERIFIED_EMAIL_SLOT, VERIFIED_ORDER_SLOT)


def _ended_session_events(connection: Connection, events: Table, cutoff: float) -> list[int]:
    """The ids of the events of ended sessions: every session before a conversation's latest
    `session_started`, and the latest one too once the conversation is idle since the
    cut-off (none of its events undated). A shopper who came back does not keep their
    earlier sessions unmasked."""
    starts = (
        select(events.c.sender_id, func.max(events.c.id).label("last_start"))
        .where(events.c.type_name == "session_started")
        .group_by(events.c.sender_id)
        .subquery()
    )
    activity = (
        select(
            events.c.sender_id,
            func.max(events.c.timestamp).label("last_at"),
            (func.count() - func.count(events.c.timestamp)).label("undated"),
        )
        .group_by(events.c.sender_id)
        .subquery()
    )
    joined = events.join(activity, activity.c.sender_id == events.c.sender_id).outerjoin(
        starts, starts.c.sender_id == events.c.sender_id
    )
    query = (
        select(events.c.id)
        .select_from(joined)
        .where(
            or_(
                events.c.id < starts.c.last_start,
                and_(activity.c.last_at < cutoff, activity.c.undated == 0),
            )
        )
        .order_by(events.c.id)
    )
    return list(connection.scalars(query))


def _link_verified(session: Session, store: Events, ids: Sequence[int]) -> int:
    """Record in the shop database whom these events' conversations verified (the
    `verified_*` slots), before masking hides the address: the conversations of checks made
    before the links existed stay findable by export and erasure. How many links."""
    events = store.table
    query = (
        select(events.c.sender_id, events.c.data)
        .where(
            events.c.type_name == "slot",
            or_(*(events.c.data.like(f"%{name}%") for name in VERIFIED_SLOTS)),
        )
        .order_by(events.c.id)
    )
    state: dict[str, dict[str, str]] = {}
    pairs: set[tuple[str, str, str]] = set()
    rows = select_in_chunks(store.connection, query, events.c.id, ids)
    for sender_id, data in rows:
        event = parse_event(data)
        name, value = event.get("name"), event.get("value")
        if name not in VERIFIED_SLOTS:
            continue
        held = state.setdefault(sender_id, {})
        held[str(name)] = value.strip() if isinstance(value, str) else ""
        try:
            address = normalise_email(held.get(VERIFIED_EMAIL_SLOT, ""))
        except ValueError:
            continue  # not verified (yet), or already masked
        pairs.add((sender_id, address, held.get(VERIFIED_ORDER_SLOT, "")[:32]))
    for sender_id, address, number in sorted(pairs):
        subjects.link(session, sender_id, address, number or None)
    return len(pairs)


def mask_transcripts(
    tracker_url: str,
    idle_minutes: int,
    policy: TranscriptPolicy | None = None,
    now: datetime | None = None,
    session: Session | None = None,
) -> int:
    """Mask the personal data in the stored transcripts of ended sessions (see
    `_ended_session_events`; a conversation idle for `idle_minutes` has ended: Rasa starts a
    new session after 60), as SHOPDESK_TRANSCRIPT_PII says: `mask` (the default) rewrites
    each event with privacy.redaction, `keep` does nothing. With a shop `session`, whom each
    conversation verified is linked first (committed), so masking never hides a
    conversation from export or erasure. `idle_minutes` 0 masks sessions still going too
    (their slots included, which the bot would then read masked): for tests, or before a
    backup. The events keep their shape, so the tracker still replays. Returns how many
    events changed; running it again changes none."""
    policy = policy or TranscriptPolicy.from_env()
    if isinstance(idle_minutes, bool) or idle_minutes < 0:
        raise ValueError(f"mask transcripts idle at least 0 minutes, not {idle_minutes!r}")
    if policy is TranscriptPolicy.KEEP:
        return 0
    cutoff = (
        (as_utc(now) if now is not None else utc_now()) - timedelta(minutes=idle_minutes)
    ).timestamp()
    if idle_minutes == 0:
        cutoff = float("inf")
    with open_events(tracker_url) as store:
        if store is None:
            return 0
        ended = _ended_session_events(store.connection, store.table, cutoff)
        if session is not None:
            _link_verified(session, store, ended)
            session.commit()
    # One short transaction per chunk, redacted before it starts: on SQLite a write locks the
    # whole file, and Rasa must keep storing the messages of the conversations going on.
    return sum(_mask_chunk(tracker_url, chunk, policy) for chunk in chunks(ended))


def _mask_chunk(tracker_url: str, ids: Sequence[int], policy: TranscriptPolicy) -> int:
    """Mask these events; how many changed (Rasa never rewrites a stored event)."""
    with open_events(tracker_url) as store:
        if store is None:
            return 0
        events = store.table
        query = select(events.c.id, events.c.data).where(events.c.id.in_(ids))
        rows = store.connection.execute(query).all()
    masked: list[tuple[int, str]] = []
    for row_id, data in rows:
        event = parse_event(data)
        cleaned = redact_event(event, policy)
        if cleaned != event:
            masked.append((row_id, json.dumps(cleaned)))
    if not masked:
        return 0
    with open_events(tracker_url, write=True) as store:
        if store is None:
            return 0
        events = store.table
        for row_id, data in masked:
            store.connection.execute(update(events).where(events.c.id == row_id).values(data=data))
    return len(masked)
