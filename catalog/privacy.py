"""Shoppers' rights over their data: an export of everything the shop keeps about an e-mail
address, its erasure, and the retention job that forgets old transcripts.

Two databases are involved. The shop's (orders, reviews, complaints, the agents' notes...)
is reached through the caller's session. The transcripts are not there: Rasa keeps every
conversation in its SQL tracker store, one `events` table (sender_id, type_name, timestamp,
data: the event as JSON). Rasa need not run for any of this; the table is reflected and
read or deleted with SQLAlchemy Core, the same on SQLite and PostgreSQL.

A shopper's conversations are found from what they said in them: their e-mail address in a
message or in one of the slots that hold one, plus the conversations the shop recorded for
that address (a complaint, a message left, an erasure request). Data that must stay for the
shop's books (an order's lines, totals, status and dates) is anonymised rather than deleted;
everything else that is the shopper's is deleted.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import (
    Connection,
    CursorResult,
    MetaData,
    Table,
    and_,
    create_engine,
    delete,
    false,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.pool import NullPool

from catalog import subjects
from catalog.button_text import ButtonTurns
from catalog.db import secure_sqlite, sqlalchemy_url
from catalog.models import (
    AgentNote,
    AuditEntry,
    Complaint,
    ConversationSubject,
    Customer,
    ErasureRequest,
    Handoff,
    NewsletterConfirmation,
    NewsletterSubscriber,
    NluCorrection,
    Order,
    OutboxEmail,
    Review,
    SignInFailure,
    SupportMessage,
    VerificationFailure,
)
from catalog.redaction import TranscriptPolicy, redact_event
from catalog.settings import PROJECT_ROOT
from catalog.support import local_now

if TYPE_CHECKING:
    from learning.forget import LearningFiles

log = logging.getLogger(__name__)

# The slots of bot/domain.yml that hold an e-mail address the shopper gave.
EMAIL_SLOTS = ("verified_customer_email", "email", "contact_email", "newsletter_email")
ERASED = "erased"  # what an erased name, street or city reads as
FORMER_CUSTOMER = "Former customer"  # an erased reviewer's nickname
REDACTED = "[removed]"  # in place of personal data inside a text that is kept
OTHER_EMAIL = "[another e-mail address]"  # in an export, for addresses that are not theirs
DEFAULT_TRACKER_DB = PROJECT_ROOT / "var" / "rasa_tracker.sqlite3"
DEFAULT_RETENTION_DAYS = 365
MAX_EMAIL_CHARS = 255
_CHUNK = 500  # ids per IN (...): well under SQLite's limit on bound parameters
SQLITE_BUSY_S = 30.0  # how long compaction waits for Rasa or the web server to finish a write

_EMAIL_CHARS = r"[\w.%+\-!#$&'*/=?^`{|}~]"
ANY_EMAIL = re.compile(rf"{_EMAIL_CHARS}+@[\w-]+(?:\.[\w-]+)+")
# 13 to 19 digits, maybe in groups split by spaces or dashes: what a card number looks like.
CARD_NUMBER = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")


# --- where things are ---------------------------------------------------------------------


def tracker_url_from_env() -> str:
    """Rasa's tracker store: `SHOPDESK_TRACKER_DB_URL`, else the SQLite file that the launcher
    gives Rasa (`SHOPDESK_TRACKER_DB`, default var/rasa_tracker.sqlite3)."""
    url = os.environ.get("SHOPDESK_TRACKER_DB_URL", "").strip()
    if url:
        return url
    path = os.environ.get("SHOPDESK_TRACKER_DB", "").strip()
    file = Path(path).expanduser().resolve() if path else DEFAULT_TRACKER_DB
    return f"sqlite:///{file}"


def retention_days_from_env(environ: Mapping[str, str] | None = None) -> int:
    """`SHOPDESK_TRANSCRIPT_RETENTION_DAYS` (default 365); ValueError unless a whole number
    above 0, since 0 would delete every conversation, live ones included."""
    env = os.environ if environ is None else environ
    text = env.get("SHOPDESK_TRANSCRIPT_RETENTION_DAYS", "").strip()
    if not text:
        return DEFAULT_RETENTION_DAYS
    if not text.isdigit() or int(text) < 1:
        raise ValueError(
            f"SHOPDESK_TRANSCRIPT_RETENTION_DAYS is {text!r}; it must be a whole number of days "
            "above 0"
        )
    return int(text)


def normalise_email(email: str) -> str:
    """The address as the shop stores it (trimmed, lower-case); ValueError, with a sentence for
    the person, when it is not an address: erasing "gmail.com" must not match everyone."""
    address = email.strip().lower()
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain.strip(".")
        or any(c.isspace() for c in address)
        or len(address) > MAX_EMAIL_CHARS
    ):
        raise ValueError(f"{email!r} is not an e-mail address; please check it.")
    return address


def _email_pattern(email: str) -> re.Pattern[str]:
    """The address as a whole word: roni@example.com is not in xroni@example.com.au."""
    return re.compile(rf"(?<!{_EMAIL_CHARS}){re.escape(email)}(?![\w-]|\.\w)", re.IGNORECASE)


def _words_pattern(values: Iterable[str]) -> re.Pattern[str]:
    """Any of the values as a whole word, any case: order 000000101 is not in 0000001010, and
    a city "Troy" is not in "destroy". No values: a pattern that matches nothing."""
    alternatives = sorted({re.escape(value) for value in values if value}, key=len, reverse=True)
    if not alternatives:
        return re.compile(r"(?!)")
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


# --- the tracker store ----------------------------------------------------------------------


@contextmanager
def _tracker(url: str) -> Iterator[tuple[Connection, Table] | None]:
    """A transaction on Rasa's `events` table; None when there is no tracker store yet.

    A missing SQLite file is not created (Rasa has simply not run), and the engine is not
    pooled: these are one-off jobs, and Rasa itself keeps using the file.
    """
    url = sqlalchemy_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if not database or database == ":memory:" or not Path(database).is_file():
            yield None
            return
    engine = secure_sqlite(create_engine(url, poolclass=NullPool))  # erased rows zeroed
    try:
        with engine.begin() as connection:
            if not inspect(connection).has_table("events"):
                yield None
                return
            yield connection, Table("events", MetaData(), autoload_with=connection)
    finally:
        engine.dispose()


def _event(data: str | None) -> dict[str, Any]:
    try:
        event = json.loads(data or "{}")
    except ValueError:
        return {}
    return event if isinstance(event, dict) else {}


def _mentions(event: dict[str, Any], pattern: re.Pattern[str]) -> bool:
    """Whether the shopper wrote the address, or a slot that holds an address has it."""
    kind = event.get("event")
    if kind == "user":
        return bool(pattern.search(str(event.get("text") or "")))
    if kind == "slot" and event.get("name") in EMAIL_SLOTS:
        value = event.get("value")
        if value is None:
            return False
        return bool(pattern.search(value if isinstance(value, str) else json.dumps(value)))
    return False


def tracker_conversations(tracker_url: str, email: str) -> list[str]:
    """The sender ids of Rasa's conversations that mention the address (any case) in a
    shopper's message or in an e-mail slot.

    The database narrows the rows with LIKE on the JSON text (an ASCII address is written
    there as is); each candidate is then parsed and checked, so a bot reply quoting the
    address, or a longer address containing it, does not count.
    """
    address = normalise_email(email)
    pattern = _email_pattern(address)
    found: set[str] = set()
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return []
        connection, events = tracker
        query = select(events.c.sender_id, events.c.data).where(
            events.c.type_name.in_(("user", "slot"))
        )
        like = _like_address(events, address)
        if like is not None:
            query = query.where(like)
        for sender_id, data in connection.execute(query):
            if sender_id not in found and _mentions(_event(data), pattern):
                found.add(sender_id)
    return sorted(found)


def _like_address(events: Table, address: str) -> Any:
    """A cheap first filter for rows whose JSON may hold the address."""
    return _like_any(events, [address])


def _like_any(events: Table, terms: Sequence[str]) -> Any:
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


def _verified_in(tracker_url: str, conversations: Sequence[str]) -> dict[str, set[str]]:
    """Who proved to be whom in each conversation: its `verified_customer_email` values."""
    verified: dict[str, set[str]] = {conversation: set() for conversation in conversations}
    if not conversations:
        return verified
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return verified
        connection, events = tracker
        for chunk in _chunks(conversations):
            query = select(events.c.sender_id, events.c.data).where(
                events.c.sender_id.in_(chunk),
                events.c.type_name == "slot",
                events.c.data.like("%verified_customer_email%"),
            )
            for sender_id, data in connection.execute(query):
                event = _event(data)
                value = event.get("value")
                if event.get("name") == "verified_customer_email" and isinstance(value, str):
                    verified[sender_id].add(value.strip().lower())
    return verified


def _customer(session: Session, address: str) -> Customer | None:
    return session.scalar(select(Customer).where(func.lower(Customer.email) == address))


def _orders_of(session: Session, customer: Customer | None) -> list[Order]:
    if customer is None:
        return []
    return list(
        session.scalars(
            select(Order)
            .where(Order.customer_id == customer.id)
            .options(
                selectinload(Order.lines),
                selectinload(Order.shipments),
                selectinload(Order.returns),
                selectinload(Order.invoices),
                selectinload(Order.refunds),
            )
            .order_by(Order.created_at, Order.id)
        )
    )


def _requests_of(session: Session, address: str, customer: Customer | None) -> list[ErasureRequest]:
    condition = func.lower(ErasureRequest.email) == address
    if customer is not None:
        condition = or_(condition, ErasureRequest.customer_id == customer.id)
    return list(
        session.scalars(select(ErasureRequest).where(condition).order_by(ErasureRequest.id))
    )


def _their_conversations(
    session: Session,
    tracker_url: str,
    address: str,
    numbers: Sequence[str],
    requests: Sequence[ErasureRequest],
) -> tuple[set[str], set[str]]:
    """(theirs, mentioned): the conversations in which the shopper proved who they are, and
    those in which the address was only typed.

    Theirs: linked to the address or to one of their orders when the check succeeded
    (`conversation_subjects`, which masking leaves alone), or whose `verified_customer_email`
    slot still says so (conversations from before the links), or where they asked for
    erasure (asked only once verified). Typing an address proves nothing: anyone can type
    anyone's, so a conversation that only mentions it is not theirs."""
    linked = subjects.conversations_of(session, address)
    linked |= subjects.conversations_of_orders(session, numbers)
    mentioned = set(tracker_conversations(tracker_url, address))
    verified = _verified_in(tracker_url, sorted(mentioned - linked))
    by_slot = {conversation for conversation, who in verified.items() if address in who}
    asked = {request.conversation_id for request in requests if request.conversation_id}
    return linked | by_slot | asked, mentioned


def conversations_of(session: Session, tracker_url: str, email: str) -> list[str]:
    """Every conversation that involves the shopper: theirs (verified, see
    `_their_conversations`: found after masking too), those of the tracker store that mention
    the address, and those of a complaint or message that names it. ValueError for a
    malformed address.

    Only theirs are exported, and deleted whole by an erasure; from the others, an erasure
    removes the address (and their order numbers, name, street and city), not the rest."""
    address = normalise_email(email)
    customer = _customer(session, address)
    numbers = [order.number for order in _orders_of(session, customer)]
    requests = _requests_of(session, address, customer)
    theirs, mentioned = _their_conversations(session, tracker_url, address, numbers, requests)
    named: set[str] = set()
    for model in (Complaint, SupportMessage):
        query = select(model.conversation_id).where(func.lower(model.email) == address)
        named.update(session.scalars(query))
    return sorted(conversation for conversation in theirs | mentioned | named if conversation)


def _events_of(tracker_url: str, conversations: Sequence[str], remove: bool = False) -> int:
    """How many events the conversations have in the tracker store, deleted if `remove`."""
    if not conversations:
        return 0
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        connection, events = tracker
        total = 0
        for chunk in _chunks(conversations):
            if remove:
                total += connection.execute(
                    delete(events).where(events.c.sender_id.in_(chunk))
                ).rowcount
            else:
                query = select(func.count()).where(events.c.sender_id.in_(chunk))
                total += connection.scalar(query) or 0
        return total


def delete_conversation(tracker_url: str, conversation_id: str) -> int:
    """Delete one conversation's events from the tracker store ("clear this chat" in the
    widget); how many were deleted."""
    return _events_of(tracker_url, [conversation_id], remove=True)


def _scrubbed(value: Any, pattern: re.Pattern[str]) -> Any:
    """The JSON value with the pattern replaced in every string (keys too)."""
    if isinstance(value, str):
        return pattern.sub(REDACTED, value)
    if isinstance(value, list):
        return [_scrubbed(item, pattern) for item in value]
    if isinstance(value, dict):
        return {_scrubbed(k, pattern): _scrubbed(v, pattern) for k, v in value.items()}
    return value


def _mentioning_events(
    connection: Connection,
    events: Table,
    conversations: Sequence[str] | None,
    pattern: re.Pattern[str],
    terms: Sequence[str],
) -> list[tuple[int, str, str]]:
    """(id, sender id, data without what `pattern` matches) of the events that hold it, in
    these conversations (None: in every conversation). `terms` narrow the rows in the
    database first (LIKE); the pattern decides.

    The event is parsed, not searched as JSON text, where an escape such as a newline right
    before the address would hide it."""
    like = _like_any(events, terms)
    found: list[tuple[int, str, str]] = []
    queries = (
        [select(events.c.id, events.c.sender_id, events.c.data)]
        if conversations is None
        else [
            select(events.c.id, events.c.sender_id, events.c.data).where(
                events.c.sender_id.in_(chunk)
            )
            for chunk in _chunks(conversations)
        ]
    )
    for query in queries:
        if like is not None:
            query = query.where(like)
        for id_, sender_id, data in connection.execute(query):
            try:
                event = json.loads(data or "null")
            except ValueError:
                continue
            cleaned = _scrubbed(event, pattern)
            if cleaned != event:
                found.append((id_, sender_id, json.dumps(cleaned)))
    return found


def _conversations_naming(tracker_url: str, numbers: Sequence[str]) -> set[str]:
    """The conversations with an event that holds one of these order numbers."""
    if not numbers:
        return set()
    pattern = _words_pattern(numbers)
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return set()
        return {sender for _, sender, _ in _mentioning_events(*tracker, None, pattern, numbers)}


def _scrub_tracker(
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
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        connection, events = tracker
        rows = _mentioning_events(connection, events, conversations, pattern, terms)
        if apply:
            for id_, _, cleaned in rows:
                connection.execute(events.update().where(events.c.id == id_).values(data=cleaned))
        return len(rows)


def _when(timestamp: Any) -> str | None:
    if not isinstance(timestamp, int | float):
        return None
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()


def transcripts(tracker_url: str, conversations: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Each conversation's messages in order: who (shopper, bot or agent), when (ISO, UTC)
    and the text. A button press reads as the button's title, as the shopper saw it."""
    found: dict[str, list[dict[str, Any]]] = {conversation: [] for conversation in conversations}
    if not conversations:
        return found
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return found
        connection, events = tracker
        buttons: dict[str, ButtonTurns] = {}
        for chunk in _chunks(conversations):
            query = (
                select(events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
                .where(events.c.sender_id.in_(chunk), events.c.type_name.in_(("user", "bot")))
                .order_by(events.c.sender_id, events.c.id)
            )
            for sender_id, kind, timestamp, data in connection.execute(query):
                event = _event(data)
                metadata = event.get("metadata") or {}
                if not isinstance(metadata, dict):
                    metadata = {}
                text = str(event.get("text") or "")
                turns = buttons.setdefault(sender_id, ButtonTurns())
                if kind == "user":
                    sender = "shopper"
                    text = turns.user_text(event)  # a button's title only if the bot offered it
                else:
                    turns.bot(event)
                    sender = "agent" if metadata.get("agent_name") else "bot"
                if text:
                    at = _when(timestamp if timestamp is not None else event.get("timestamp"))
                    found[sender_id].append({"at": at, "sender": sender, "text": text})
    return found


# --- what is the shopper's -----------------------------------------------------------------


@dataclass
class _Holdings:
    """Everything of one address, found once and then exported, counted or erased."""

    address: str
    customer: Customer | None
    conversations: list[str]  # theirs: exported, and deleted whole by an erasure
    mentioned_elsewhere: list[str]  # not theirs, but naming the address or an order of theirs
    orders: list[Order]
    reviews: list[Review]
    complaints: list[Complaint]
    messages: list[SupportMessage]
    notes: list[AgentNote]
    handoffs: list[Handoff]
    newsletter: list[NewsletterSubscriber]
    requests: list[ErasureRequest]
    corrections: list[NluCorrection]  # agents' corrections of messages in their conversations
    links: list[ConversationSubject]
    outbox: list[OutboxEmail]  # e-mails to the address, sent or not
    confirmations: list[NewsletterConfirmation]
    # Complaints and messages that give the address without proof that it is the writer's:
    # not exported, and an erasure removes the address from them, not the record.
    named_elsewhere: list[Complaint | SupportMessage]

    @property
    def order_numbers(self) -> list[str]:
        return [order.number for order in self.orders]


def _in_conversations(column: Any, conversations: Sequence[str]) -> Any:
    if not conversations:
        return false()
    return or_(*(column.in_(chunk) for chunk in _chunks(conversations)))


def _records_of(
    model: type[Complaint] | type[SupportMessage],
    address: str,
    conversations: Sequence[str],
    numbers: Sequence[str],
) -> Any:
    """Which complaints or messages are the shopper's: those giving their address in a
    conversation where that address was verified, or (a complaint) about one of their
    orders; and those without an address in one of their conversations. An address someone
    typed proves nothing: anyone can type anyone's, and the record would then be exported
    to, or erased by, a person who never wrote it."""
    here = _in_conversations(model.conversation_id, conversations)
    proved = here
    if model is Complaint:
        proved = or_(here, _in_conversations(Complaint.order_number, numbers))
    return or_(
        and_(func.lower(model.email) == address, proved),
        and_(model.email.is_(None), here),
    )


def _holdings(session: Session, tracker_url: str, email: str) -> _Holdings:
    address = normalise_email(email)
    customer = _customer(session, address)
    orders = _orders_of(session, customer)
    numbers = [order.number for order in orders]
    requests = _requests_of(session, address, customer)
    theirs, mentioned = _their_conversations(session, tracker_url, address, numbers, requests)
    conversations = sorted(theirs)
    elsewhere = (mentioned | _conversations_naming(tracker_url, numbers)) - theirs

    newsletter_of = func.lower(NewsletterSubscriber.email) == address
    if customer is not None:
        newsletter_of = or_(newsletter_of, NewsletterSubscriber.customer_id == customer.id)
    links_of = or_(
        ConversationSubject.email == address,
        _in_conversations(ConversationSubject.conversation_id, conversations),
        _in_conversations(ConversationSubject.order_number, numbers),
    )

    def rows(model: Any, condition: Any) -> list[Any]:
        return list(session.scalars(select(model).where(condition).order_by(model.id)))

    def in_theirs(model: Any) -> list[Any]:
        return rows(model, _in_conversations(model.conversation_id, conversations))

    complaints = rows(Complaint, _records_of(Complaint, address, conversations, numbers))
    messages = rows(SupportMessage, _records_of(SupportMessage, address, conversations, numbers))
    mine = {id(row) for row in [*complaints, *messages]}
    named = [
        row
        for model in (Complaint, SupportMessage)
        for row in rows(model, func.lower(model.email) == address)
        if id(row) not in mine
    ]
    return _Holdings(
        address=address,
        customer=customer,
        conversations=conversations,
        mentioned_elsewhere=sorted(elsewhere),
        orders=orders,
        reviews=in_theirs(Review),
        complaints=complaints,
        messages=messages,
        notes=in_theirs(AgentNote),
        handoffs=in_theirs(Handoff),
        newsletter=rows(NewsletterSubscriber, newsletter_of),
        requests=requests,
        corrections=in_theirs(NluCorrection),
        links=rows(ConversationSubject, links_of),
        outbox=rows(OutboxEmail, func.lower(OutboxEmail.to_address) == address),
        confirmations=rows(
            NewsletterConfirmation, func.lower(NewsletterConfirmation.email) == address
        ),
        named_elsewhere=named,
    )


# --- export ---------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _customer_record(customer: Customer) -> dict[str, Any]:
    return {
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "created_at": _iso(customer.created_at),
    }


def _order_record(order: Order) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "created_at": _iso(order.created_at),
        "updated_at": _iso(order.updated_at),
        "currency": order.currency,
        "shipping_method": order.shipping_method,
        "payment_method": order.payment_method,
        "ship_to": {
            "name": order.ship_name,
            "street": order.ship_street,
            "city": order.ship_city,
            "region": order.ship_region,
            "postcode": order.ship_postcode,
            "country": order.ship_country,
        },
        "subtotal_cents": order.subtotal_cents,
        "shipping_cents": order.shipping_cents,
        "total_cents": order.total_cents,
        "cancelled_at": _iso(order.cancelled_at),
        "cancellation_fee_cents": order.cancellation_fee_cents,
        "lines": [
            {"sku": line.sku, "name": line.name, "qty": line.qty, "price_cents": line.price_cents}
            for line in order.lines
        ],
        "shipments": [
            {
                "carrier": s.carrier,
                "tracking_number": s.tracking_number,
                "status": s.status,
                "shipped_at": _iso(s.shipped_at),
                "delivered_at": _iso(s.delivered_at),
                "eta": s.eta.isoformat() if s.eta else None,
            }
            for s in order.shipments
        ],
        "returns": [
            {
                "number": r.number,
                "qty": r.qty,
                "reason": r.reason,
                "status": r.status,
                "created_at": _iso(r.created_at),
            }
            for r in order.returns
        ],
        "invoices": [
            {"number": i.number, "issued_at": _iso(i.issued_at), "amount_cents": i.amount_cents}
            for i in order.invoices
        ],
        "refunds": [
            {
                "amount_cents": r.amount_cents,
                "status": r.status,
                "method": r.method,
                "created_at": _iso(r.created_at),
                "processed_at": _iso(r.processed_at),
            }
            for r in order.refunds
        ],
    }


def _addresses(held: _Holdings) -> list[dict[str, Any]]:
    """The default address, then each different address an order was sent to."""
    found: list[dict[str, Any]] = []
    seen: set[tuple[str | None, ...]] = set()
    rows: list[tuple[str, tuple[str | None, ...]]] = []
    if held.customer is not None:
        c = held.customer
        name = f"{c.first_name} {c.last_name}".strip()
        rows.append(("default", (name, c.street, c.city, c.region, c.postcode, c.country)))
    for o in held.orders:
        shipped = (o.ship_name, o.ship_street, o.ship_city, o.ship_region, o.ship_postcode)
        rows.append(("shipping", (*shipped, o.ship_country)))
    keys = ("name", "street", "city", "region", "postcode", "country")
    for kind, parts in rows:
        if not parts[1] or parts in seen:
            continue
        seen.add(parts)
        found.append({"kind": kind, **dict(zip(keys, parts, strict=True))})
    return found


def _hide_other_emails(text: str, address: str) -> str:
    """A transcript may name someone else's address (a typo, a gift): it is not theirs."""
    return ANY_EMAIL.sub(
        lambda match: match.group(0) if match.group(0).lower() == address else OTHER_EMAIL, text
    )


def export_shopper(session: Session, tracker_url: str, email: str) -> dict[str, Any]:
    """Everything kept about the address, JSON-ready (strings, numbers, lists, dicts).

    Money is in cents with the order's currency; shop times are the shop's local time, ISO;
    transcript times are UTC, as Rasa records them. Records that name another address are
    left out, and other addresses in the transcripts are hidden. An address the shop does
    not know gives a record with empty lists. ValueError for a malformed address.
    """
    held = _holdings(session, tracker_url, email)
    talks = transcripts(tracker_url, held.conversations)
    subscription = next(
        (row for row in held.newsletter if row.email.lower() == held.address), None
    ) or (held.newsletter[0] if held.newsletter else None)
    return {
        "email": held.address,
        "exported_at": local_now().isoformat(),
        "customer": _customer_record(held.customer) if held.customer is not None else None,
        "addresses": _addresses(held),
        "orders": [_order_record(order) for order in held.orders],
        "reviews": [
            {
                "product_sku": review.product.sku,
                "product_name": review.product.name,
                "rating": review.rating,
                "title": review.title,
                "text": review.text,
                "nickname": review.reviewer,
                "status": review.status,
                "created_at": _iso(review.created_at),
            }
            for review in held.reviews
        ],
        "complaints": [
            {
                "order_number": c.order_number,
                "text": c.text,
                "status": c.status,
                "created_at": _iso(c.created_at),
            }
            for c in held.complaints
        ],
        "newsletter": (
            {
                "email": subscription.email,
                "subscribed": subscription.subscribed,
                "changed_at": _iso(subscription.changed_at),
            }
            if subscription is not None
            else None
        ),
        "messages": [
            {
                "email": m.email,
                "text": m.text,
                "status": m.status,
                "created_at": _iso(m.created_at),
            }
            for m in held.messages
        ],
        "erasure_requests": [
            {"status": r.status, "requested_at": _iso(r.requested_at)} for r in held.requests
        ],
        "conversations": [
            {
                "id": conversation,
                "messages": [
                    {**message, "text": _hide_other_emails(message["text"], held.address)}
                    for message in talks.get(conversation, [])
                ],
            }
            for conversation in held.conversations
        ],
    }


# --- erasure --------------------------------------------------------------------------------


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


MIN_TRACE_CHARS = 4  # a shorter name, street or city would match inside ordinary words
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


def _redactor(held: _Holdings) -> _Traces:
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
    alternatives += [_email_pattern(address).pattern for address in sorted(addresses)]
    alternatives.append(_words_pattern([*held.order_numbers, *words]).pattern)
    identifying = {value.strip() for value in names | streets if value.strip() in words}
    terms = tuple(sorted(addresses | set(held.order_numbers) | identifying))
    return _Traces(re.compile("|".join(alternatives), re.IGNORECASE), terms)


def redact(text: str, pattern: re.Pattern[str] | None = None) -> str:
    """The text without card numbers, e-mail addresses or what `pattern` matches."""
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = ANY_EMAIL.sub(REDACTED, text)
    return CARD_NUMBER.sub(REDACTED, text)


def _going(held: _Holdings) -> list[Any]:
    """The rows an erasure deletes."""
    return [
        *held.notes, *held.handoffs, *held.complaints, *held.messages, *held.newsletter,
        *held.corrections, *held.links, *held.outbox, *held.confirmations,
    ]  # fmt: skip


def _scrubs(session: Session, held: _Holdings, traces: _Traces) -> list[tuple[Any, dict[str, str]]]:
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
    held: _Holdings, tracker_url: str, traces: _Traces, scrubs: list[tuple[Any, dict[str, str]]]
) -> ErasureResult:
    others = {id(row) for row, _ in scrubs} | {id(row) for row in held.named_elsewhere}
    return ErasureResult(
        conversations=len(held.conversations),
        tracker_events=_events_of(tracker_url, held.conversations),
        mentions=_scrub_tracker(
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
    held = _holdings(session, tracker_url, email)
    traces = _redactor(held)
    return _count(held, tracker_url, traces, _scrubs(session, held, traces))


def _anonymise(held: _Holdings, pattern: re.Pattern[str]) -> list[str]:
    """Orders, reviews, account and requests lose the personal data; the ids of the requests
    this closes."""
    customer = held.customer
    placeholder = f"{ERASED}-{customer.id}@invalid" if customer is not None else None
    for order in held.orders:
        order.ship_name = order.ship_street = order.ship_city = ERASED
        order.ship_postcode = None  # region and country stay: the books are kept by state
        for item in order.returns:
            item.reason = redact(item.reason, pattern)[:255]
    for review in held.reviews:
        review.reviewer = FORMER_CUSTOMER
        review.title = redact(review.title, pattern)[:255]
        review.text = redact(review.text, pattern)
        review.conversation_id = None
    if customer is not None and placeholder is not None:
        customer.email = placeholder
        customer.first_name = customer.last_name = ERASED
        customer.phone = customer.street = customer.city = None
        customer.region = customer.postcode = customer.country = None
    done: list[str] = []
    for request in held.requests:
        request.email = placeholder or f"{ERASED}-request-{request.id}@invalid"
        if request.status == "pending":
            request.status = "done"
            done.append(str(request.id))
    return done


def erase_shopper(
    session: Session,
    tracker_url: str,
    email: str,
    now: datetime | None = None,
    learning: LearningFiles | None = None,
) -> ErasureResult:
    """Erase the shopper behind the address: their conversations (see
    `_their_conversations`) with every event, and the notes, hand-offs, complaints,
    messages and agents' corrections of those conversations; their newsletter row, the
    e-mails to the address and the links that tied conversations to them; their orders,
    reviews and account are anonymised, since the shop must keep its books. Someone else's
    record or conversation that names them (the address, an order number, their name,
    street or city) loses those words, not the rest. The learning loop's exported copies
    of the deleted corrections go too (`learning`: where they are, default
    `LearningFiles.from_env()`). Their erasure requests are closed (`done`) and an audit
    entry (action `erase`, counts only) says when. SQLite files are then compacted, so what
    was deleted cannot be read back from the file.

    The shop's changes are committed before the transcripts are deleted: the links and the
    transcripts are how the conversations are found, and the transcripts go last, so if
    deleting them fails, running the erasure again finishes it. Running it again after
    success finds nothing and changes nothing; so does an address the shop never saw
    (`ErasureResult.nothing`). ValueError for a malformed address.
    """
    now = now or local_now()
    held = _holdings(session, tracker_url, email)
    traces = _redactor(held)
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
            action="erase",
            conversation_id=held.requests[0].conversation_id[:64] if held.requests else None,
            detail=detail[:500],
        )
    )
    session.flush()
    session.commit()
    deleted = _events_of(tracker_url, held.conversations, remove=True)
    mentions = _scrub_tracker(
        tracker_url, held.mentioned_elsewhere, traces.pattern, traces.terms, apply=True
    )
    _forget_learning(session, learning, removed, held.conversations)
    compact_sqlite(str(session.get_bind().engine.url.render_as_string(hide_password=False)))
    compact_sqlite(tracker_url)
    return ErasureResult(**{**result.to_dict(), "tracker_events": deleted, "mentions": mentions})


def _forget_learning(
    session: Session,
    files: LearningFiles | None,
    removed: Sequence[str],
    conversations: Sequence[str] = (),
    before: datetime | None = None,
) -> int:
    """Take deleted corrections and conversations out of the learning loop's exported files
    (learning/forget.py); how many examples and stories went. A failure is logged: the
    database is already right, and `python -m learning export` rewrites the files whole."""
    if not removed and not conversations and before is None:
        return 0
    from learning.forget import LearningFiles, forget  # the learning loop is heavy to import

    kept = list(session.scalars(select(NluCorrection.text)))
    try:
        gone = forget(files or LearningFiles.from_env(), removed, kept, conversations, before)
    except (OSError, ValueError) as error:
        log.warning(
            "the learning exports could not be updated (%s); run `python -m learning export` "
            "and check var/learning/test_stories.yml",
            type(error).__name__,
        )
        return 0
    if gone:
        log.info("learning exports: %d example(s) and stories removed", gone)
    return gone


def compact_sqlite(url: str) -> bool:
    """Rewrite a SQLite database file without its free space, and empty its write-ahead log:
    a deleted row's bytes can linger in pages that another connection (Rasa's, without
    `secure_delete`) moved around. Nothing to do on another database (PostgreSQL's own
    VACUUM reclaims dead rows) or a missing file. False, logged, if the file was busy:
    run `privacy compact` again later."""
    parsed = make_url(sqlalchemy_url(url))
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return True
    if not Path(database).is_file():
        return True
    engine = create_engine(parsed, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_S})
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM")
            busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        if busy is not None and busy[0]:
            raise OperationalError("PRAGMA wal_checkpoint", None, TimeoutError("busy"))
        return True
    except SQLAlchemyError as error:
        log.warning(
            "%s could not be compacted (%s); deleted data may linger in its free space until "
            "`python -m catalog.cli privacy compact` succeeds",
            Path(database).name,
            type(getattr(error, "orig", None) or error).__name__,
        )
        return False
    finally:
        engine.dispose()


def pending_erasures(session: Session) -> list[ErasureRequest]:
    """The requests made in the chat (`action_delete_account`) not carried out yet, oldest
    first: `privacy erase --pending` works through them."""
    return list(
        session.scalars(
            select(ErasureRequest)
            .where(ErasureRequest.status == "pending")
            .order_by(ErasureRequest.requested_at, ErasureRequest.id)
        )
    )


# --- retention ------------------------------------------------------------------------------


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
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return []
        connection, events = tracker
        query = (
            select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(
                func.max(events.c.timestamp) < cutoff,
                func.count() == func.count(events.c.timestamp),
            )
        )
        return sorted(connection.scalars(query))


def _with_events_since(tracker_url: str, conversations: Sequence[str], cutoff: float) -> set[str]:
    """Those of the conversations that have an event at or after the cut-off (or undated)."""
    if not conversations:
        return set()
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return set()
        connection, events = tracker
        recent = or_(events.c.timestamp >= cutoff, events.c.timestamp.is_(None))
        found: set[str] = set()
        for chunk in _chunks(conversations):
            query = select(events.c.sender_id).where(events.c.sender_id.in_(chunk), recent)
            found.update(connection.scalars(query.distinct()))
        return found


def _delete_events_before(tracker_url: str, cutoff: float) -> int:
    """Delete every event older than the cut-off, whatever came after it."""
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        connection, events = tracker
        return int(connection.execute(delete(events).where(events.c.timestamp < cutoff)).rowcount)


def _delete_rows(session: Session, model: Any, condition: Any) -> int:
    result = cast(CursorResult[Any], session.execute(delete(model).where(condition)))
    return int(result.rowcount or 0)


def apply_retention(
    session: Session,
    tracker_url: str,
    older_than_days: int,
    now: datetime | None = None,
    learning: LearningFiles | None = None,
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
    now = now or local_now()
    cutoff = now - timedelta(days=older_than_days)
    cutoff_epoch = cutoff.timestamp()  # naive: the shop's local time, as Rasa's clock
    ended = _ended_before(tracker_url, cutoff_epoch)
    notes = _delete_rows(
        session,
        AgentNote,
        or_(AgentNote.created_at < cutoff, _in_conversations(AgentNote.conversation_id, ended)),
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
            _in_conversations(ConversationSubject.conversation_id, going),
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
    _forget_learning(session, learning, removed, before=cutoff)
    return RetentionResult(
        conversations=emptied,
        tracker_events=events,
        agent_notes=notes,
        corrections=corrections,
        links=links,
        outbox=outbox,
        other=other,
    )


# --- masking --------------------------------------------------------------------------------

VERIFIED_SLOTS = ("verified_customer_email", "verified_order_number")


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


def _link_verified(
    session: Session, connection: Connection, events: Table, ids: Sequence[int]
) -> int:
    """Record in the shop database whom these events' conversations verified (the
    `verified_*` slots), before masking hides the address: the conversations of checks made
    before the links existed stay findable by export and erasure. How many links."""
    state: dict[str, dict[str, str]] = {}
    pairs: set[tuple[str, str, str]] = set()
    for chunk in _chunks(ids):
        query = (
            select(events.c.sender_id, events.c.data)
            .where(
                events.c.id.in_(chunk),
                events.c.type_name == "slot",
                or_(*(events.c.data.like(f"%{name}%") for name in VERIFIED_SLOTS)),
            )
            .order_by(events.c.id)
        )
        for sender_id, data in connection.execute(query):
            event = _event(data)
            name, value = event.get("name"), event.get("value")
            if name not in VERIFIED_SLOTS:
                continue
            held = state.setdefault(sender_id, {})
            held[str(name)] = value.strip() if isinstance(value, str) else ""
            try:
                address = normalise_email(held.get("verified_customer_email", ""))
            except ValueError:
                continue  # not verified (yet), or already masked
            pairs.add((sender_id, address, held.get("verified_order_number", "")[:32]))
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
    each event with catalog.redaction, `keep` does nothing. With a shop `session`, whom each
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
    cutoff = ((now or local_now()) - timedelta(minutes=idle_minutes)).timestamp()
    if idle_minutes == 0:
        cutoff = float("inf")
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        connection, events = tracker
        ended = _ended_session_events(connection, events, cutoff)
        if session is not None:
            _link_verified(session, connection, events, ended)
            session.commit()
    # One short transaction per chunk, redacted before it starts: on SQLite a write locks the
    # whole file, and Rasa must keep storing the messages of the conversations going on.
    return sum(_mask_chunk(tracker_url, chunk, policy) for chunk in _chunks(ended))


def _mask_chunk(tracker_url: str, ids: Sequence[int], policy: TranscriptPolicy) -> int:
    """Mask these events; how many changed (Rasa never rewrites a stored event)."""
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        connection, events = tracker
        rows = connection.execute(
            select(events.c.id, events.c.data).where(events.c.id.in_(ids))
        ).all()
    masked: list[tuple[int, str]] = []
    for row_id, data in rows:
        event = _event(data)
        cleaned = redact_event(event, policy)
        if cleaned != event:
            masked.append((row_id, json.dumps(cleaned)))
    if not masked:
        return 0
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        connection, events = tracker
        for row_id, data in masked:
            connection.execute(update(events).where(events.c.id == row_id).values(data=data))
    return len(masked)
