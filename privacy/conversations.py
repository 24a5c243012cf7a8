"""A shopper in Rasa's tracker store: the conversations that mention them, who verified whom,
and taking their events (or only their words) out of it.

Rasa need not run for any of this: its `events` table is read or changed through
tracker/events.py, the same on SQLite and PostgreSQL. The database narrows the rows with
LIKE on the JSON text; each candidate is then parsed and checked, since the JSON text alone
can mislead (an escape right before an address, a longer address containing it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete, func, or_, select

from privacy.personal import (
    EMAIL_SLOTS,
    VERIFIED_EMAIL_SLOT,
    email_pattern,
    normalise_email,
    scrub,
    words_pattern,
)
from tracker.events import (
    Events,
    in_chunks,
    open_events,
    parse_event,
    rowcount_in_chunks,
    select_in_chunks,
)

USER, SLOT = "user", "slot"


def _mentions(event: dict[str, Any], pattern: re.Pattern[str]) -> bool:
    """Whether the shopper wrote the address, or a slot that holds an address has it."""
    kind = event.get("event")
    if kind == USER:
        return bool(pattern.search(str(event.get("text") or "")))
    if kind == SLOT and event.get("name") in EMAIL_SLOTS:
        value = event.get("value")
        if value is None:
            return False
        return bool(pattern.search(value if isinstance(value, str) else json.dumps(value)))
    return False


def like_any(events: Table, terms: Sequence[str]) -> Any:
    """A cheap first filter for rows whose JSON may hold one of the terms (any case); None
    when it cannot help (a non-ASCII term is \\u-escaped in the JSON)."""
    if not terms or not all(term.isascii() for term in terms):
        return None
    likes = []
    for term in terms:
        needle = json.dumps(term.lower())[1:-1]
        needle = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        likes.append(func.lower(events.c.data).like(f"%{needle}%", escape="\\"))
    return or_(*likes)


def tracker_conversations(tracker_url: str, email: str) -> list[str]:
    """The sender ids of Rasa's conversations that mention the address (any case) in a
    shopper's message or in an e-mail slot. A bot reply quoting the address, or a longer
    address containing it, does not count."""
    address = normalise_email(email)
    pattern = email_pattern(address)
    found: set[str] = set()
    with open_events(tracker_url) as store:
        if store is None:
            return []
        events = store.table
        query = select(events.c.sender_id, events.c.data).where(
            events.c.type_name.in_((USER, SLOT))
        )
        like = like_any(events, [address])
        if like is not None:
            query = query.where(like)
        for sender_id, data in store.connection.execute(query):
            if sender_id not in found and _mentions(parse_event(data), pattern):
                found.add(sender_id)
    return sorted(found)


def verified_in(tracker_url: str, conversations: Sequence[str]) -> dict[str, set[str]]:
    """Who proved to be whom in each conversation: its `verified_customer_email` values."""
    verified: dict[str, set[str]] = {conversation: set() for conversation in conversations}
    if not conversations:
        return verified
    with open_events(tracker_url) as store:
        if store is None:
            return verified
        events = store.table
        query = select(events.c.sender_id, events.c.data).where(
            events.c.type_name == SLOT, events.c.data.like(f"%{VERIFIED_EMAIL_SLOT}%")
        )
        rows = select_in_chunks(store.connection, query, events.c.sender_id, conversations)
        for sender_id, data in rows:
            event = parse_event(data)
            value = event.get("value")
            if event.get("name") == VERIFIED_EMAIL_SLOT and isinstance(value, str):
                verified[sender_id].add(value.strip().lower())
    return verified


def count_events(tracker_url: str, conversations: Sequence[str]) -> int:
    """How many events the conversations have in the tracker store."""
    if not conversations:
        return 0
    with open_events(tracker_url) as store:
        if store is None:
            return 0
        events = store.table
        counts = in_chunks(
            store.connection,
            conversations,
            lambda chunk: select(func.count()).where(events.c.sender_id.in_(chunk)),
        )
        return sum(int(count or 0) for (count,) in counts)


def delete_events(tracker_url: str, conversations: Sequence[str]) -> int:
    """Delete the conversations' events from the tracker store; how many went."""
    if not conversations:
        return 0
    with open_events(tracker_url, write=True) as store:
        if store is None:
            return 0
        events = store.table
        return rowcount_in_chunks(
            store.connection,
            conversations,
            lambda chunk: delete(events).where(events.c.sender_id.in_(chunk)),
        )


def delete_conversation(tracker_url: str, conversation_id: str) -> int:
    """Delete one conversation's events from the tracker store ("clear this chat" in the
    widget); how many were deleted."""
    return delete_events(tracker_url, [conversation_id])


def _mentioning_events(
    store: Events,
    conversations: Sequence[str] | None,
    pattern: re.Pattern[str],
    terms: Sequence[str],
) -> list[tuple[int, str, str]]:
    """(id, sender id, data without what `pattern` matches) of the events that hold it, in
    these conversations (None: in every conversation). `terms` narrow the rows in the
    database first (LIKE); the pattern decides.

    The event is parsed, not searched as JSON text, where an escape such as a newline right
    before the address would hide it."""
    events = store.table
    query = select(events.c.id, events.c.sender_id, events.c.data)
    like = like_any(events, terms)
    if like is not None:
        query = query.where(like)
    rows = (
        store.connection.execute(query)
        if conversations is None
        else select_in_chunks(store.connection, query, events.c.sender_id, conversations)
    )
    found: list[tuple[int, str, str]] = []
    for id_, sender_id, data in rows:
        try:
            event = json.loads(data or "null")
        except ValueError:
            continue
        cleaned = scrub(event, pattern)
        if cleaned != event:
            found.append((id_, sender_id, json.dumps(cleaned)))
    return found


def conversations_naming(tracker_url: str, numbers: Sequence[str]) -> set[str]:
    """The conversations with an event that holds one of these order numbers."""
    if not numbers:
        return set()
    pattern = words_pattern(numbers)
    with open_events(tracker_url) as store:
        if store is None:
            return set()
        return {sender for _, sender, _ in _mentioning_events(store, None, pattern, numbers)}


def scrub_tracker(
    tracker_url: str,
    conversations: Sequence[str],
    pattern: re.Pattern[str],
    terms: Sequence[str],
    apply: bool,
) -> int:
    """Replace what `pattern` matches by a placeholder in other people's conversations, in
    place (if `apply`): their conversation stays, the erased shopper's data does not. How
    many events hold it."""
    if not conversations:
        return 0
    with open_events(tracker_url, write=apply) as store:
        if store is None:
            return 0
        rows = _mentioning_events(store, conversations, pattern, terms)
        if apply:
            events = store.table
            for id_, _, cleaned in rows:
                store.connection.execute(
                    events.update().where(events.c.id == id_).values(data=cleaned)
                )
        return len(rows)
