"""A shopper's right to erasure: their conversations and records deleted, what the shop must
keep for its books anonymised, and their words taken out of other people's records.

What is theirs is found once (privacy/holdings.py); a preview counts what an erasure would
do and changes nothing. The learning loop's copies are forgotten through the caller's
`TrainingDataForgetter` (privacy/forgetting.py): privacy sits below the learning loop.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from catalog.models import (
    AgentNote,
    AuditEntry,
    Complaint,
    ErasureRequest,
    Handoff,
    NluCorrection,
    OutboxEmail,
    Review,
    SupportMessage,
)
from catalog.statuses import ErasureStatus
from core.clock import as_utc, utc_now
from privacy.compaction import compact_sqlite
from privacy.conversations import count_events, delete_events, scrub_tracker
from privacy.forgetting import TrainingDataForgetter, forget_training
from privacy.holdings import Holdings, holdings
from privacy.personal import (
    ERASED,
    FORMER_CUSTOMER,
    REDACTED,
    email_pattern,
    words_pattern,
)
from privacy.redaction import redact

ERASE_ACTION: Final = "erase"  # the audit entry's action


@dataclass(frozen=True)
class ErasureResult:
    """How many of each thing an erasure deleted or anonymised (or would, for a preview)."""

    conversations: int = 0  # deleted from the tracker store
    tracker_events: int = 0
    mentions: int = 0  # events of other people's conversations that lost the shopper's data
    agent_notes: int = 0  # deleted
    handoffs: int = 0
    complaints: int = 0
    support_messages: int = 0
    newsletter: int = 0  # the subscription, and confirmations asked for the address
    orders: int = 0  # anonymised: totals, lines, status and dates stay
    reviews: int = 0
    customer: int = 0
    requests: int = 0  # erasure requests closed (status done) and anonymised
    corrections: int = 0  # agents' corrections of their messages (and the exported copies)
    links: int = 0  # conversation_subjects rows: which conversation verified what
    outbox: int = 0  # e-mails to the address, sent or not
    # other people's records (notes, complaints, messages, hand-offs, reviews, audit entries,
    # corrections, e-mails) that named the shopper: those words removed, the record kept
    other_records: int = 0

    @property
    def nothing(self) -> bool:
        return not any(asdict(self).values())

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    def summary(self) -> str:
        """One line without any personal data: fit for the audit log and the terminal."""
        if self.nothing:
            return "nothing found for that e-mail address"
        return ", ".join(
            f"{field.name.replace('_', ' ')} {getattr(self, field.name)}"
            for field in fields(self)
            if getattr(self, field.name)
        )


MIN_TRACE_CHARS: Final = 4  # a shorter name, street or city would match inside ordinary words
# Free texts that may name a shopper in someone else's record: (model, its text columns).
SCRUBBED_TEXTS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (AgentNote, ("text",)),
    (Complaint, ("text",)),
    (SupportMessage, ("text",)),
    (Handoff, ("reason",)),
    (Review, ("title", "text")),
    (AuditEntry, ("detail",)),
    (NluCorrection, ("text",)),
    (OutboxEmail, ("subject", "body")),
)


@dataclass(frozen=True)
class _Traces:
    """The shopper's data as it may appear inside a text: `pattern` matches all of it (their
    address, phone however punctuated, order numbers, names, streets and cities); `terms`
    are the values that identify them on their own, a first filter in the database. A city
    alone identifies nobody: it is removed only from a text that names them otherwise."""

    pattern: re.Pattern[str]
    terms: tuple[str, ...]


def _traces(held: Holdings) -> _Traces:
    addresses = {held.address}
    names: set[str] = set()
    streets: set[str] = set()
    cities: set[str] = set()
    alternatives: list[str] = []
    customer = held.customer
    if customer is not None:
        addresses.add(customer.email.lower())
        names.add(f"{customer.first_name} {customer.last_name}")
        streets.add(customer.street or "")
        cities.add(customer.city or "")
        digits = re.sub(r"\D", "", customer.phone or "")
        if len(digits) >= 7:
            alternatives.append(r"\+?" + r"[\s().-]*".join(digits))
    for order in held.orders:
        names.add(order.ship_name or "")
        streets.add(order.ship_street or "")
        cities.add(order.ship_city or "")
    words = {
        value.strip()
        for value in names | streets | cities
        if len(value.strip()) >= MIN_TRACE_CHARS and value.strip() != ERASED
    }
    alternatives += [email_pattern(address).pattern for address in sorted(addresses)]
    alternatives.append(words_pattern([*held.order_numbers, *words]).pattern)
    identifying = {value.strip() for value in names | streets if value.strip() in words}
    terms = tuple(sorted(addresses | set(held.order_numbers) | identifying))
    return _Traces(re.compile("|".join(alternatives), re.IGNORECASE), terms)


def _kept_text(text: str, pattern: re.Pattern[str]) -> str:
    """A text the shop keeps (a review, a return's reason) without the shopper's own data
    (`pattern`) nor anyone's e-mail address, phone or card number (`privacy.redaction`)."""
    return redact(pattern.sub(REDACTED, text))


def _going(held: Holdings) -> list[Any]:
    """The rows an erasure deletes."""
    return [
        *held.notes, *held.handoffs, *held.complaints, *held.messages, *held.newsletter,
        *held.corrections, *held.links, *held.outbox, *held.confirmations,
    ]  # fmt: skip


def _scrubs(session: Session, held: Holdings, traces: _Traces) -> list[tuple[Any, dict[str, str]]]:
    """Other people's records that name the shopper, each with its texts as they will read:
    any record the erasure does not delete or anonymise anyway."""
    handled = {id(row) for row in [*_going(held), *held.reviews]}
    found: list[tuple[Any, dict[str, str]]] = []
    for model, columns in SCRUBBED_TEXTS:
        condition = or_(
            *(
                func.lower(getattr(model, column)).contains(term.lower(), autoescape=True)
                for column in columns
                for term in traces.terms
            )
        )
        for row in session.scalars(select(model).where(condition).order_by(model.id)):
            if id(row) in handled:
                continue
            changed: dict[str, str] = {}
            for column in columns:
                value = getattr(row, column)
                if not value:
                    continue
                cleaned = traces.pattern.sub(REDACTED, value)
                if cleaned != value:
                    length = getattr(getattr(model, column).type, "length", None)
                    changed[column] = cleaned[:length] if length else cleaned
            if changed:
                found.append((row, changed))
    return found


def _count(
    held: Holdings, tracker_url: str, traces: _Traces, scrubs: list[tuple[Any, dict[str, str]]]
) -> ErasureResult:
    others = {id(row) for row, _ in scrubs} | {id(row) for row in held.named_elsewhere}
    return ErasureResult(
        conversations=len(held.conversations),
        tracker_events=count_events(tracker_url, held.conversations),
        mentions=scrub_tracker(
            tracker_url, held.mentioned_elsewhere, traces.pattern, traces.terms, apply=False
        ),
        agent_notes=len(held.notes),
        handoffs=len(held.handoffs),
        complaints=len(held.complaints),
        support_messages=len(held.messages),
        newsletter=len(held.newsletter) + len(held.confirmations),
        orders=len(held.orders),
        reviews=len(held.reviews),
        customer=1 if held.customer is not None else 0,
        requests=len(held.requests),
        corrections=len(held.corrections),
        links=len(held.links),
        outbox=len(held.outbox),
        other_records=len(others),
    )


def preview_erasure(session: Session, tracker_url: str, email: str) -> ErasureResult:
    """What `erase_shopper` would delete and anonymise; changes nothing."""
    held = holdings(session, tracker_url, email)
    traces = _traces(held)
    return _count(held, tracker_url, traces, _scrubs(session, held, traces))


def _anonymise(held: Holdings, pattern: re.Pattern[str]) -> list[str]:
    """Orders, reviews, account and requests lose the personal data; the ids of the requests
    this closes."""
    customer = held.customer
    placeholder = f"{ERASED}-{customer.id}@invalid" if customer is not None else None
    for order in held.orders:
        order.ship_name = order.ship_street = order.ship_city = ERASED
        order.ship_postcode = None  # region and country stay: the books are kept by state
        for item in order.returns:
            item.reason = _kept_text(item.reason, pattern)[:255]
    for review in held.reviews:
        review.reviewer = FORMER_CUSTOMER
        review.title = _kept_text(review.title, pattern)[:255]
        review.text = _kept_text(review.text, pattern)
        review.conversation_id = None
    if customer is not None and placeholder is not None:
        customer.email = placeholder
        customer.first_name = customer.last_name = ERASED
        customer.phone = customer.street = customer.city = None
        customer.region = customer.postcode = customer.country = None
    done: list[str] = []
    for request in held.requests:
        request.email = placeholder or f"{ERASED}-request-{request.id}@invalid"
        if request.status == ErasureStatus.PENDING:
            request.status = ErasureStatus.DONE
            done.append(str(request.id))
    return done


def erase_shopper(
    session: Session,
    tracker_url: str,
    email: str,
    now: datetime | None = None,
    *,
    forgetter: TrainingDataForgetter,
) -> ErasureResult:
    """Erase the shopper behind the address: their conversations (see
    `_their_conversations`) with every event, and the notes, hand-offs, complaints,
    messages and agents' corrections of those conversations; their newsletter row, the
    e-mails to the address and the links that tied conversations to them; their orders,
    reviews and account are anonymised, since the shop must keep its books. Someone else's
    record or conversation that names them (the address, an order number, their name,
    street or city) loses those words, not the rest. The learning loop's exported copies
    of the deleted corrections go too (`forgetter`: the learning loop's, from the caller).
    Their erasure requests are closed (`done`) and an audit
    entry (action `erase`, counts only) says when. SQLite files are then compacted, so what
    was deleted cannot be read back from the file.

    The shop's changes are committed before the transcripts are deleted: the links and the
    transcripts are how the conversations are found, and the transcripts go last, so if
    deleting them fails, running the erasure again finishes it. Running it again after
    success finds nothing and changes nothing; so does an address the shop never saw
    (`ErasureResult.nothing`). ValueError for a malformed address.
    """
    now = as_utc(now) if now is not None else utc_now()
    held = holdings(session, tracker_url, email)
    traces = _traces(held)
    scrubs = _scrubs(session, held, traces)
    result = _count(held, tracker_url, traces, scrubs)
    if result.nothing:
        return result
    removed = [correction.text for correction in held.corrections]
    done = _anonymise(held, traces.pattern)
    for row in _going(held):
        session.delete(row)
    for record in held.named_elsewhere:
        record.email = None  # typed by someone else: the record is theirs, the address is not
    for row, values in scrubs:
        if isinstance(row, NluCorrection):
            removed.append(row.text)
        for column, value in values.items():
            setattr(row, column, value)
    customer = held.customer
    detail = f"customer {customer.id if customer is not None else 'none'}; {result.summary()}" + (
        f"; requests {', '.join(done)} done" if done else ""
    )
    session.add(
        AuditEntry(
            at=now,
            agent_id=None,
            action=ERASE_ACTION,
            conversation_id=held.requests[0].conversation_id[:64] if held.requests else None,
            detail=detail[:500],
        )
    )
    session.flush()
    session.commit()
    deleted = delete_events(tracker_url, held.conversations)
    mentions = scrub_tracker(
        tracker_url, held.mentioned_elsewhere, traces.pattern, traces.terms, apply=True
    )
    forget_training(session, forgetter, removed, held.conversations)
    compact_sqlite(str(session.get_bind().engine.url.render_as_string(hide_password=False)))
    compact_sqlite(tracker_url)
    return ErasureResult(**{**result.to_dict(), "tracker_events": deleted, "mentions": mentions})


def pending_erasures(session: Session) -> list[ErasureRequest]:
    """The requests made in the chat (`action_delete_account`) not carried out yet, oldest
    first: `privacy erase --pending` works through them."""
    return list(
        session.scalars(
            select(ErasureRequest)
            .where(ErasureRequest.status == ErasureStatus.PENDING)
            .order_by(ErasureRequest.requested_at, ErasureRequest.id)
        )
    )
