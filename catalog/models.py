"""Typed SQLAlchemy models of the catalog and the order book.

Prices are stored as integer cents so sums and comparisons are exact on every database.
Ratings, review counts and popularity are kept on the product (refreshed by every import)
because search ranks on them for every query and must not aggregate reviews each time.
Timestamps are naive, in the shop's local time, as the generated order book writes them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from catalog.db import UTCDateTime
from catalog.statuses import (
    ComplaintStatus,
    ErasureStatus,
    HandoffStatus,
    InboxStatus,
    ReturnStatus,
    ReviewStatus,
    SupportMessageStatus,
)


class Base(DeclarativeBase):
    pass


product_categories = Table(
    "product_categories",
    Base.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_product_categories_category_id", "category_id"),
)


class Category(Base):
    """A node of the category tree; `path` names it from the root: "Men/Tops/Jackets"."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class Product(Base):
    """A product a shopper can find: a configurable parent or a standalone simple product."""

    __tablename__ = "products"
    # Search takes matches in best-seller order before it scores them (catalog/search.py).
    __table_args__ = (Index("ix_products_popularity", "units_sold", "review_count", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int] = mapped_column(Integer)
    special_price_cents: Mapped[int | None] = mapped_column(Integer)
    special_from: Mapped[date | None] = mapped_column(Date)
    special_to: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    url_key: Mapped[str] = mapped_column(String(255))
    image: Mapped[str | None] = mapped_column(String(255))
    gender: Mapped[str | None] = mapped_column(String(40))
    brand: Mapped[str | None] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(40), default="magento")  # which importer owns it
    rating_avg: Mapped[float | None] = mapped_column(Float)
    review_count: Mapped[int] = mapped_column(Integer, default=0)
    units_sold: Mapped[int] = mapped_column(Integer, default=0)
    # When a catalog sync found it gone from its source (catalog/sync.py): out of search and
    # recommendations, still readable by SKU for the orders that refer to it. None: listed.
    discontinued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    categories: Mapped[list[Category]] = relationship(secondary=product_categories)
    variants: Mapped[list[Variant]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )
    attributes: Mapped[list[ProductAttribute]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductImage.position"
    )
    reviews: Mapped[list[Review]] = relationship(
        back_populates="product", cascade="all, delete-orphan"
    )

    def price_on(self, day: date) -> int:
        """The price a shopper pays on `day`: the special price while it runs, if lower."""
        special = self.special_price_cents
        if special is None or special >= self.price_cents:
            return self.price_cents
        if (self.special_from and day < self.special_from) or (
            self.special_to and day > self.special_to
        ):
            return self.price_cents
        return special


class Variant(Base):
    """A sellable size/colour of a product, with its stock."""

    __tablename__ = "variants"
    __table_args__ = (Index("ix_variants_product_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    size: Mapped[str | None] = mapped_column(String(40))
    color: Mapped[str | None] = mapped_column(String(40))
    qty: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="variants")


class ProductAttribute(Base):
    """One value of a descriptive attribute: material=Cotton, activity=Running (multi-valued)."""

    __tablename__ = "product_attributes"
    __table_args__ = (
        UniqueConstraint("product_id", "name", "value"),
        Index("ix_product_attributes_name_value", "name", "value"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(255))

    product: Mapped[Product] = relationship(back_populates="attributes")


class ProductImage(Base):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="images")


class Review(Base):
    """A shopper's review; only approved ones are quoted and counted in the ratings."""

    __tablename__ = "reviews"
    __table_args__ = (Index("ix_reviews_product_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)  # 1..5
    title: Mapped[str] = mapped_column(String(255), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(120), default="")
    # Imported reviews are published; one written in the chat waits for a moderator.
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.APPROVED)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conversation_id: Mapped[str | None] = mapped_column(String(64))  # written in this chat

    product: Mapped[Product] = relationship(back_populates="reviews")

    def __init__(self, **fields: Any) -> None:
        # Approved from the start, not only once saved: answers read unsaved reviews too.
        fields.setdefault("status", ReviewStatus.APPROVED)
        super().__init__(**fields)


class ProductLink(Base):
    """A merchandiser's link: `related`, `upsell` or `crosssell`."""

    __tablename__ = "product_links"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    linked_product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ProductEmbedding(Base):
    """A sentence embedding of a product's text, for "more like this".

    `text_hash` says which text it was made from, so an import re-embeds only what changed.
    `revision` grows with every write of the vector (catalog.embeddings.refresh_embeddings), so
    every process's cached copy of the vectors can tell that one was re-embedded.
    """

    __tablename__ = "product_embeddings"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(120))
    text_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, L2-normalised
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Customer(Base):
    """A shop account with its default (shipping) address."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    first_name: Mapped[str] = mapped_column(String(120))
    last_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(40))
    street: Mapped[str | None] = mapped_column(String(255))
    city: Mapped[str | None] = mapped_column(String(120))
    region: Mapped[str | None] = mapped_column(String(120))  # two-letter state code in the US
    postcode: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Order(Base):
    """An order with the address it ships to and its money in cents.

    status: an OrderStatus (catalog/statuses.py): pending (awaiting payment), processing (paid,
    not shipped), shipped, delivered, cancelled, returned (its refund pending) or refunded.
    """

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # Magento increment id
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    shipping_method: Mapped[str] = mapped_column(String(64))
    payment_method: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ship_name: Mapped[str | None] = mapped_column(String(255))
    ship_street: Mapped[str | None] = mapped_column(String(255))
    ship_city: Mapped[str | None] = mapped_column(String(120))
    ship_region: Mapped[str | None] = mapped_column(String(120))
    ship_postcode: Mapped[str | None] = mapped_column(String(20))
    ship_country: Mapped[str | None] = mapped_column(String(2))
    subtotal_cents: Mapped[int] = mapped_column(Integer, default=0)  # the merchandise
    shipping_cents: Mapped[int] = mapped_column(Integer, default=0)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancellation_fee_cents: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    shipments: Mapped[list[Shipment]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    returns: Mapped[list[Return]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )
    refunds: Mapped[list[Refund]] = relationship(
        back_populates="order", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    qty: Mapped[int] = mapped_column(Integer)
    price_cents: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="lines")


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(64))
    tracking_number: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))  # a ShipmentStatus
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    eta: Mapped[date | None] = mapped_column(Date)  # the carrier's estimate while in transit

    order: Mapped[Order] = relationship(back_populates="shipments")


def _return_inbox_status(context: Any) -> str | None:
    """A requested return waits for an agent (new); any other is history for the inbox."""
    requested = context.get_current_parameters().get("status") == ReturnStatus.REQUESTED
    return InboxStatus.NEW if requested else None


class Return(Base):
    """A return of some of an order's items (a request, then its progress)."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True, unique=True)  # R000000104-1
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_lines.id", ondelete="SET NULL")
    )
    qty: Mapped[int] = mapped_column(Integer, default=1)
    reason: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[str] = mapped_column(String(32))  # a ReturnStatus
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where an agent is with the request (an InboxStatus, the console's inbox); None for a
    # return nobody has to look at: one the order book records as already received.
    inbox_status: Mapped[str | None] = mapped_column(String(16), default=_return_inbox_status)

    order: Mapped[Order] = relationship(back_populates="returns")
    line: Mapped[OrderLine | None] = relationship()


class Invoice(Base):
    """The bill of a paid order; an order cancelled before payment has none."""

    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # INV000000104
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    amount_cents: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="invoices")


class Refund(Base):
    """Money going back to the shopper: for a cancelled order, or for a return."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id", ondelete="SET NULL"))
    amount_cents: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # a RefundStatus
    method: Mapped[str] = mapped_column(String(64))  # "original payment method"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="refunds")
    return_: Mapped[Return | None] = relationship()


class NewsletterSubscriber(Base):
    """Whether an e-mail address gets the newsletter; `subscribed` is the one flag that counts.

    A row stays when someone unsubscribes, so the change and its time are kept.
    """

    __tablename__ = "newsletter_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)  # lower-case
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    subscribed: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Complaint(Base):
    """A complaint taken in the chat, for the service team to follow up."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))
    order_number: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Handoff(Base):
    """A conversation waiting for (or taken by) a person; the agent console reads these.

    status: waiting, taken (by `agent_id`), handed_back (the bot resumes), closed, or
    timed_out (no agent took it in time). Only waiting and taken ones are open.
    """

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default=HandoffStatus.WAITING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Who took it (kept when it ends, for the history); an agent is disabled, never deleted.
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL", name="fk_handoffs_agent_id_agents")
    )
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agent: Mapped[Agent | None] = relationship()


AGENT_ROLES = ("agent", "admin")  # an admin also reads the audit log and manages accounts


class Agent(Base):
    """A person who signs in to the agent console.

    Only a scrypt hash of the password is kept (web/auth.py). An account is disabled rather
    than deleted, so the audit log and notes keep saying who did what.
    """

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # lower-case
    display_name: Mapped[str] = mapped_column(String(120))  # what shoppers see
    role: Mapped[str] = mapped_column(String(16), default="agent")
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentSession(Base):
    """An agent's sign-in. The id is the SHA-256 of the cookie's token, so a copy of the
    database cannot be used to sign in; it expires after a while idle (`last_seen_at`)."""

    __tablename__ = "agent_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the token
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agent: Mapped[Agent] = relationship()


class AgentPasswordLink(Base):
    """A one-time link an admin gives an agent to set their password (a new account, or a
    reset: web/password_links.py). Only the token's SHA-256 is kept; it works once, until
    `expires_at`. A new link for an agent replaces the old one, so there is one row at most."""

    __tablename__ = "agent_password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # web.password_links.LinkPurpose
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agent: Mapped[Agent] = relationship(foreign_keys=[agent_id])


class AuditEntry(Base):
    """Who did what in the console, for an admin to check: sign-ins, taking, replying...

    `detail` is a short fact (a username, a status); never message text or a password.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(500), default="")

    agent: Mapped[Agent | None] = relationship()


class AgentNote(Base):
    """An agent's private note on a conversation, for the colleague who takes it next."""

    __tablename__ = "agent_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    text: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agent: Mapped[Agent] = relationship()


class SupportMessage(Base):
    """A message a shopper leaves when no agent is free, for the support team to answer."""

    __tablename__ = "support_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str | None] = mapped_column(String(255))  # lower-case; none: answer in chat
    text: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default=SupportMessageStatus.NEW)


class NluCorrection(Base):
    """An agent's verdict that the bot misread a shopper's message, with the intent it should
    have read (an existing one, or `is_new_intent`). `python -m learning` turns these into
    training examples. `text` is stored redacted (privacy.redaction): no personal data is
    copied out of the transcript. One per message: marking it again replaces the verdict.
    """

    __tablename__ = "nlu_corrections"
    __table_args__ = (UniqueConstraint("conversation_id", "message_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    message_at: Mapped[float] = mapped_column(Float)  # the shopper event's tracker timestamp
    text: Mapped[str] = mapped_column(String(2000))
    predicted_intent: Mapped[str] = mapped_column(String(64))
    correct_intent: Mapped[str] = mapped_column(String(64))
    is_new_intent: Mapped[bool] = mapped_column(Boolean, default=False)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    agent: Mapped[Agent | None] = relationship()


class ErasureRequest(Base):
    """A shopper's request to delete their personal data, for a person to carry out."""

    __tablename__ = "erasure_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(255))
    conversation_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ErasureStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SearchWord(Base):
    """Every word of the search index with the number of products that have it.

    Typo correction looks here (trigram similarity on PostgreSQL, edit distance on SQLite).
    """

    __tablename__ = "search_words"

    word: Mapped[str] = mapped_column(String(64), primary_key=True)
    products: Mapped[int] = mapped_column(Integer)
    # Of those, how many have it in the name, categories or attributes: a typo is corrected
    # towards product words ("wach" → "watch"), not description words ("wash").
    title_products: Mapped[int] = mapped_column(Integer, default=0)


class VerificationFailure(Base):
    """One failed order check (number and e-mail did not match), counted per `scope`:
    `order` (the number tried), `email` (the address tried) and `address` (the client's
    network address). `key` is a SHA-256 of the value, so the table holds no e-mail address.
    Counted here, not in the conversation, so a restart or a new chat does not reset it."""

    __tablename__ = "verification_failures"
    __table_args__ = (
        Index("ix_verification_failures_scope_key_failed_at", "scope", "key", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxEmail(Base):
    """An e-mail for the shop's mailer to send (`sent_at` empty until it has): notices of
    changes made in the chat, and newsletter confirmations."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class InboxWatermark(Base):
    """The newest row of one kind (catalog/inbox.py `NoticeKind`) the web server has told the
    shop's support address about, so a restart mails nothing twice and misses nothing."""

    __tablename__ = "inbox_watermarks"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_id: Mapped[int] = mapped_column(Integer, default=0)


class ConversationSubject(Base):
    """Whose conversation it is: the e-mail (and order) a conversation verified, recorded when
    it happened, so export and erasure find the conversation after its text was masked."""

    __tablename__ = "conversation_subjects"
    __table_args__ = (UniqueConstraint("conversation_id", "email", "order_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(255), index=True)  # lower-case
    order_number: Mapped[str | None] = mapped_column(String(32))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NewsletterConfirmation(Base):
    """A newsletter change for an address the chat did not verify: it takes effect only when
    the link e-mailed to that address (the outbox) is followed. Only the token's hash is kept."""

    __tablename__ = "newsletter_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(255))
    subscribe: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailure(Base):
    """A failed console sign-in, kept apart from the audit log so a flood of them cannot
    push real events out of an admin's view; throttling counts these per account."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
