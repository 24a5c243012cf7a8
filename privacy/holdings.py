"""What the shop holds of one e-mail address, found once: their account, orders, erasure
requests, the conversations that are theirs (and those that only mention them), and every
record of the shop's database tied to those. Export, erasure and their previews all start
from `holdings`, so they agree on what is the shopper's.

Two databases are involved. The shop's (orders, reviews, complaints, the agents' notes...)
is reached through the caller's session; the transcripts are in Rasa's tracker store
(privacy/conversations.py). A shopper's conversations are found from what they said in them
(their e-mail address in a message or in a slot that holds one) and from what the shop
recorded for that address (a verification link, a complaint, a message, an erasure request).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from catalog import subjects
from catalog.models import (
    AgentNote,
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
    SupportMessage,
)
from catalog.orders import ORDER_WITH_DETAILS
from privacy.conversations import conversations_naming, tracker_conversations, verified_in
from privacy.personal import normalise_email
from tracker.events import chunks


def _customer(session: Session, address: str) -> Customer | None:
    return session.scalar(select(Customer).where(func.lower(Customer.email) == address))


def _orders_of(session: Session, customer: Customer | None) -> list[Order]:
    if customer is None:
        return []
    return list(
        session.scalars(
            select(Order)
            .where(Order.customer_id == customer.id)
            .options(*ORDER_WITH_DETAILS)
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


def their_conversations(
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
    verified = verified_in(tracker_url, sorted(mentioned - linked))
    by_slot = {conversation for conversation, who in verified.items() if address in who}
    asked = {request.conversation_id for request in requests if request.conversation_id}
    return linked | by_slot | asked, mentioned


def conversations_of(session: Session, tracker_url: str, email: str) -> list[str]:
    """Every conversation that involves the shopper: theirs (verified, see
    `their_conversations`: found after masking too), those of the tracker store that mention
    the address, and those of a complaint or message that names it. ValueError for a
    malformed address.

    Only theirs are exported, and deleted whole by an erasure; from the others, an erasure
    removes the address (and their order numbers, name, street and city), not the rest."""
    address = normalise_email(email)
    customer = _customer(session, address)
    numbers = [order.number for order in _orders_of(session, customer)]
    requests = _requests_of(session, address, customer)
    theirs, mentioned = their_conversations(session, tracker_url, address, numbers, requests)
    named: set[str] = set()
    for model in (Complaint, SupportMessage):
        query = select(model.conversation_id).where(func.lower(model.email) == address)
        named.update(session.scalars(query))
    return sorted(conversation for conversation in theirs | mentioned | named if conversation)


@dataclass
class Holdings:
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


def in_conversations(column: Any, conversations: Sequence[str]) -> Any:
    if not conversations:
        return false()
    return or_(*(column.in_(chunk) for chunk in chunks(conversations)))


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
    here = in_conversations(model.conversation_id, conversations)
    proved = here
    if model is Complaint:
        proved = or_(here, in_conversations(Complaint.order_number, numbers))
    return or_(
        and_(func.lower(model.email) == address, proved),
        and_(model.email.is_(None), here),
    )


def holdings(session: Session, tracker_url: str, email: str) -> Holdings:
    address = normalise_email(email)
    customer = _customer(session, address)
    orders = _orders_of(session, customer)
    numbers = [order.number for order in orders]
    requests = _requests_of(session, address, customer)
    theirs, mentioned = their_conversations(session, tracker_url, address, numbers, requests)
    conversations = sorted(theirs)
    elsewhere = (mentioned | conversations_naming(tracker_url, numbers)) - theirs

    newsletter_of = func.lower(NewsletterSubscriber.email) == address
    if customer is not None:
        newsletter_of = or_(newsletter_of, NewsletterSubscriber.customer_id == customer.id)
    links_of = or_(
        ConversationSubject.email == address,
        in_conversations(ConversationSubject.conversation_id, conversations),
        in_conversations(ConversationSubject.order_number, numbers),
    )

    def rows(model: Any, condition: Any) -> list[Any]:
        return list(session.scalars(select(model).where(condition).order_by(model.id)))

    def in_theirs(model: Any) -> list[Any]:
        return rows(model, in_conversations(model.conversation_id, conversations))

    complaints = rows(Complaint, _records_of(Complaint, address, conversations, numbers))
    messages = rows(SupportMessage, _records_of(SupportMessage, address, conversations, numbers))
    mine = {id(row) for row in [*complaints, *messages]}
    named = [
        row
        for model in (Complaint, SupportMessage)
        for row in rows(model, func.lower(model.email) == address)
        if id(row) not in mine
    ]
    return Holdings(
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
