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
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    MetaData,
    Table,
    create_engine,
    delete,
    exists,
    false,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.pool import NullPool

from catalog.db import sqlalchemy_url
from catalog.models import (
    AgentNote,
    AuditEntry,
    Complaint,
    Customer,
    ErasureRequest,
    Handoff,
    NewsletterSubscriber,
    Order,
    Review,
    SupportMessage,
)
from catalog.redaction import TranscriptPolicy, redact_event
from catalog.settings import PROJECT_ROOT
from catalog.support import local_now

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


def retention_days_from_env() -> int:
    """`SHOPDESK_TRANSCRIPT_RETENTION_DAYS` (default 365); ValueError unless a whole number
    above 0, since 0 would delete every conversation, live ones included."""
    text = os.environ.get("SHOPDESK_TRANSCRIPT_RETENTION_DAYS", "").strip()
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
    engine = create_engine(url, poolclass=NullPool)
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
    """A cheap first filter for rows whose JSON may hold the address; None when it cannot
    help (a non-ASCII address is \\u-escaped in the JSON)."""
    if not address.isascii():
        return None
    needle = json.dumps(address)[1:-1]
    needle = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(events.c.data).like(f"%{needle}%", escape="\\")


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


def _recorded_conversations(session: Session, address: str, customer: Customer | None) -> set[str]:
    """Conversations the shop recorded for the address: complaints, messages, requests."""
    ids: set[str] = set()
    for model in (Complaint, SupportMessage, ErasureRequest):
        query = select(model.conversation_id).where(func.lower(model.email) == address)
        ids.update(session.scalars(query))
    if customer is not None:
        query = select(ErasureRequest.conversation_id).where(
            ErasureRequest.customer_id == customer.id
        )
        ids.update(session.scalars(query))
    return {conversation for conversation in ids if conversation}


def _customer(session: Session, address: str) -> Customer | None:
    return session.scalar(select(Customer).where(func.lower(Customer.email) == address))


def conversations_of(session: Session, tracker_url: str, email: str) -> list[str]:
    """Every conversation that involves the shopper: those of the tracker store that mention
    the address, and those the shop recorded for it. ValueError for a malformed address.

    Some of them may be someone else's: a conversation where another address was verified
    and theirs only mentioned ("my friend ... had the same problem"). `export_shopper` leaves
    those out, and `erase_shopper` removes only the mention from them."""
    address = normalise_email(email)
    recorded = _recorded_conversations(session, address, _customer(session, address))
    return sorted(recorded.union(tracker_conversations(tracker_url, address)))


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
    connection: Connection, events: Table, conversations: Sequence[str], address: str
) -> list[tuple[int, str]]:
    """(id, data without the address) of the events of these conversations that hold it.

    The event is parsed, not searched as JSON text, where an escape such as a newline right
    before the address would hide it."""
    pattern = _email_pattern(address)
    like = _like_address(events, address)
    found: list[tuple[int, str]] = []
    for chunk in _chunks(conversations):
        query = select(events.c.id, events.c.data).where(events.c.sender_id.in_(chunk))
        if like is not None:
            query = query.where(like)
        for id_, data in connection.execute(query):
            try:
                event = json.loads(data or "null")
            except ValueError:
                continue
            cleaned = _scrubbed(event, pattern)
            if cleaned != event:
                found.append((id_, json.dumps(cleaned)))
    return found


def _count_mentions(tracker_url: str, conversations: Sequence[str], address: str) -> int:
    if not conversations:
        return 0
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        return len(_mentioning_events(*tracker, conversations, address))


def _remove_mentions(tracker_url: str, conversations: Sequence[str], address: str) -> int:
    """Replace the address by a placeholder in other people's conversations, in place: their
    conversation stays, the erased shopper's address does not."""
    if not conversations:
        return 0
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        connection, events = tracker
        rows = _mentioning_events(connection, events, conversations, address)
        for id_, cleaned in rows:
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
                if kind == "user":
                    sender = "shopper"
                    if text.startswith("/") and metadata.get("display_text"):
                        text = str(metadata["display_text"])
                else:
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
    mentioned_elsewhere: list[str]  # someone else's that mention the address
    orders: list[Order]
    reviews: list[Review]
    complaints: list[Complaint]
    messages: list[SupportMessage]
    notes: list[AgentNote]
    handoffs: list[Handoff]
    newsletter: list[NewsletterSubscriber]
    requests: list[ErasureRequest]


def _in_conversations(column: Any, conversations: Sequence[str]) -> Any:
    if not conversations:
        return false()
    return or_(*(column.in_(chunk) for chunk in _chunks(conversations)))


def _holdings(session: Session, tracker_url: str, email: str) -> _Holdings:
    address = normalise_email(email)
    customer = _customer(session, address)
    recorded = _recorded_conversations(session, address, customer)
    mentioned = set(tracker_conversations(tracker_url, address)) - recorded
    verified = _verified_in(tracker_url, sorted(mentioned))
    # A conversation where only someone else proved who they are is theirs, not this one's.
    elsewhere = {c for c in mentioned if verified[c] and address not in verified[c]}
    conversations = sorted(recorded | (mentioned - elsewhere))
    orders: list[Order] = []
    if customer is not None:
        orders = list(
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

    def theirs(model: type[Complaint] | type[SupportMessage]) -> Any:
        # Their address, or no address in one of their conversations: never a record that
        # names someone else, even in a conversation that is theirs.
        return or_(
            func.lower(model.email) == address,
            model.email.is_(None) & _in_conversations(model.conversation_id, conversations),
        )

    requests_of = func.lower(ErasureRequest.email) == address
    if customer is not None:
        requests_of = or_(requests_of, ErasureRequest.customer_id == customer.id)
    newsletter_of = func.lower(NewsletterSubscriber.email) == address
    if customer is not None:
        newsletter_of = or_(newsletter_of, NewsletterSubscriber.customer_id == customer.id)

    def rows(model: Any, condition: Any) -> list[Any]:
        return list(session.scalars(select(model).where(condition).order_by(model.id)))

    def in_theirs(model: Any) -> list[Any]:
        return rows(model, _in_conversations(model.conversation_id, conversations))

    return _Holdings(
        address=address,
        customer=customer,
        conversations=conversations,
        mentioned_elsewhere=sorted(elsewhere),
        orders=orders,
        reviews=in_theirs(Review),
        complaints=rows(Complaint, theirs(Complaint)),
        messages=rows(SupportMessage, theirs(SupportMessage)),
        notes=in_theirs(AgentNote),
        handoffs=in_theirs(Handoff),
        newsletter=rows(NewsletterSubscriber, newsletter_of),
        requests=rows(ErasureRequest, requests_of),
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
    mentions: int = 0  # events of other people's conversations that lost the address
    agent_notes: int = 0  # deleted
    handoffs: int = 0
    complaints: int = 0
    support_messages: int = 0
    newsletter: int = 0
    orders: int = 0  # anonymised: totals, lines, status and dates stay
    reviews: int = 0
    customer: int = 0
    requests: int = 0  # erasure requests closed (status done) and anonymised

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


def _redactor(held: _Holdings) -> re.Pattern[str]:
    """The shopper's own data as it may appear inside a text that is kept (a review, a
    return reason): their address, phone (however it is punctuated), name and streets."""
    alternatives: list[str] = [re.escape(held.address)]
    values: list[str | None] = []
    customer = held.customer
    if customer is not None:
        alternatives.append(re.escape(customer.email))
        values += [customer.street, f"{customer.first_name} {customer.last_name}"]
        digits = re.sub(r"\D", "", customer.phone or "")
        if len(digits) >= 7:
            alternatives.append(r"\+?" + r"[\s().-]*".join(digits))
    for order in held.orders:
        values += [order.ship_name, order.ship_street]
    alternatives += [re.escape(v.strip()) for v in values if v and len(v.strip()) >= 4]
    alternatives.sort(key=len, reverse=True)
    return re.compile("|".join(alternatives), re.IGNORECASE)


def redact(text: str, pattern: re.Pattern[str] | None = None) -> str:
    """The text without card numbers, e-mail addresses or what `pattern` matches."""
    if pattern is not None:
        text = pattern.sub(REDACTED, text)
    text = ANY_EMAIL.sub(REDACTED, text)
    return CARD_NUMBER.sub(REDACTED, text)


def _count(held: _Holdings, tracker_url: str) -> ErasureResult:
    return ErasureResult(
        conversations=len(held.conversations),
        tracker_events=_events_of(tracker_url, held.conversations),
        mentions=_count_mentions(tracker_url, held.mentioned_elsewhere, held.address),
        agent_notes=len(held.notes),
        handoffs=len(held.handoffs),
        complaints=len(held.complaints),
        support_messages=len(held.messages),
        newsletter=len(held.newsletter),
        orders=len(held.orders),
        reviews=len(held.reviews),
        customer=1 if held.customer is not None else 0,
        requests=len(held.requests),
    )


def preview_erasure(session: Session, tracker_url: str, email: str) -> ErasureResult:
    """What `erase_shopper` would delete and anonymise; changes nothing."""
    return _count(_holdings(session, tracker_url, email), tracker_url)


def erase_shopper(
    session: Session, tracker_url: str, email: str, now: datetime | None = None
) -> ErasureResult:
    """Erase the shopper behind the address: their conversations' transcripts, the notes,
    hand-offs, complaints and messages of those conversations, their newsletter row; their
    orders, reviews and account are anonymised, since the shop must keep its books. Someone
    else's conversation that only mentions the address loses the address, not the rest.
    Their erasure requests are closed (`done`) and an audit entry (action `erase`, counts
    only) says when.

    The shop's changes are committed before the transcripts are deleted: the transcripts are
    how the conversations are found, so they go last, and if deleting them fails, running the
    erasure again finishes it. Running it again after success finds nothing and changes
    nothing; so does an address the shop never saw (`ErasureResult.nothing`).
    ValueError for a malformed address.
    """
    now = now or local_now()
    held = _holdings(session, tracker_url, email)
    result = _count(held, tracker_url)
    if result.nothing:
        return result
    pattern = _redactor(held)
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
    for row in [*held.notes, *held.handoffs, *held.complaints, *held.messages, *held.newsletter]:
        session.delete(row)
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
    mentions = _remove_mentions(tracker_url, held.mentioned_elsewhere, held.address)
    return ErasureResult(**{**result.to_dict(), "tracker_events": deleted, "mentions": mentions})


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
    conversations: int = 0  # deleted from the tracker store, with all their events
    tracker_events: int = 0
    agent_notes: int = 0

    def summary(self) -> str:
        return (
            f"{self.conversations} conversations ({self.tracker_events} events) and "
            f"{self.agent_notes} agent notes removed"
        )


def _old_conversations(tracker_url: str, cutoff: float) -> list[str]:
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return []
        connection, events = tracker
        last = func.max(events.c.timestamp)
        query = (
            select(events.c.sender_id)
            .group_by(events.c.sender_id)
            .having(last < cutoff, func.count() == func.count(events.c.timestamp))
        )
        return sorted(connection.scalars(query))


def _delete_old_events(
    tracker_url: str, conversations: Sequence[str], cutoff: float
) -> tuple[int, int]:
    """Delete the conversations' events, unless one got an event since they were picked:
    a conversation is removed whole or not at all, never cut in half. (conversations, events)"""
    if not conversations:
        return 0, 0
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0, 0
        connection, events = tracker
        newer = events.alias("newer")
        recent = exists().where(
            newer.c.sender_id == events.c.sender_id,
            or_(newer.c.timestamp >= cutoff, newer.c.timestamp.is_(None)),
        )
        removed = deleted = 0
        for chunk in _chunks(conversations):
            still_old = list(
                connection.scalars(
                    select(events.c.sender_id)
                    .where(events.c.sender_id.in_(chunk), ~recent)
                    .distinct()
                )
            )
            if still_old:
                statement = delete(events).where(events.c.sender_id.in_(still_old), ~recent)
                deleted += connection.execute(statement).rowcount
                removed += len(still_old)
        return removed, deleted


def apply_retention(
    session: Session, tracker_url: str, older_than_days: int, now: datetime | None = None
) -> RetentionResult:
    """Forget transcripts whose last event is older than `older_than_days` (a conversation
    that is still going keeps all of it), and agent notes written before the cut-off or on a
    conversation that is removed.

    The notes are committed first, then the transcripts deleted: the tracker store says which
    conversations are old, so a failure there leaves a retry everything it needs.
    ValueError unless `older_than_days` is at least 1.
    """
    if isinstance(older_than_days, bool) or older_than_days < 1:
        raise ValueError(f"keep transcripts at least 1 day, not {older_than_days!r}")
    now = now or local_now()
    cutoff = now - timedelta(days=older_than_days)
    cutoff_epoch = cutoff.timestamp()  # naive: the shop's local time, as Rasa's clock
    old = _old_conversations(tracker_url, cutoff_epoch)
    notes = select(AgentNote.id).where(
        or_(AgentNote.created_at < cutoff, _in_conversations(AgentNote.conversation_id, old))
    )
    note_ids = list(session.scalars(notes))
    for chunk in _chunks(note_ids):
        session.execute(delete(AgentNote).where(AgentNote.id.in_(chunk)))
    session.commit()
    removed, events = _delete_old_events(tracker_url, old, cutoff_epoch)
    return RetentionResult(conversations=removed, tracker_events=events, agent_notes=len(note_ids))


def mask_transcripts(
    tracker_url: str,
    idle_minutes: int,
    policy: TranscriptPolicy | None = None,
    now: datetime | None = None,
) -> int:
    """Mask the personal data in the stored transcripts of conversations idle for at least
    `idle_minutes` (ended: Rasa starts a new session after 60), as SHOPDESK_TRANSCRIPT_PII
    says: `mask` (the default) rewrites each event with catalog.redaction, `keep` does
    nothing. The events keep their shape, so the tracker still replays. Returns how many
    events changed; running it again changes none."""
    policy = policy or TranscriptPolicy.from_env()
    if isinstance(idle_minutes, bool) or idle_minutes < 1:
        raise ValueError(f"mask transcripts idle at least 1 minute, not {idle_minutes!r}")
    if policy is TranscriptPolicy.KEEP:
        return 0
    cutoff = ((now or local_now()) - timedelta(minutes=idle_minutes)).timestamp()
    ended = _old_conversations(tracker_url, cutoff)
    changed = 0
    with _tracker(tracker_url) as tracker:
        if tracker is None:
            return 0
        connection, events = tracker
        for chunk in _chunks(ended):
            rows = connection.execute(
                select(events.c.id, events.c.data).where(events.c.sender_id.in_(chunk))
            ).all()
            for row_id, data in rows:
                event = _event(data)
                masked = redact_event(event, policy)
                if masked != event:
                    connection.execute(
                        update(events).where(events.c.id == row_id).values(data=json.dumps(masked))
                    )
                    changed += 1
    return changed
