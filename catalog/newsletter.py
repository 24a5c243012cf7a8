"""Newsletter changes for an address the chat has not verified: confirmed by e-mail first.

Anyone can type anyone's address into a chat. Subscribing a stranger to mail they never asked
for, or unsubscribing them from mail they want, must not take one sentence: the change waits
in `newsletter_confirmations` and a link goes to that address (the outbox). Only the link's
holder, who reads that mailbox, makes it happen. Only a hash of the link's token is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import outbox
from catalog.models import NewsletterConfirmation
from catalog.settings import CatalogSettings
from catalog.support import set_newsletter
from core.clock import utc_now

CONFIRM_PATH = "/newsletter/confirm"
VALID_FOR = timedelta(days=3)


def public_url() -> str:
    """Where shoppers reach ShopDesk's web server (SHOPDESK_PUBLIC_URL), for e-mailed links."""
    return CatalogSettings.from_env().public_url


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_change(
    session: Session,
    email: str,
    subscribe: bool,
    shop_name: str,
    now: datetime | None = None,
) -> NewsletterConfirmation:
    """Hold the change and e-mail a confirmation link to the address."""
    at = now or utc_now()
    address = email.strip().lower()
    token = secrets.token_urlsafe(24)
    pending = NewsletterConfirmation(
        token_hash=_hash(token), email=address, subscribe=subscribe, created_at=at
    )
    session.add(pending)
    change = "subscribe to" if subscribe else "unsubscribe from"
    outbox.enqueue(
        session,
        address,
        outbox.NEWSLETTER_CONFIRM,
        f"Please confirm: {change} the {shop_name} newsletter",
        f"Someone asked in the {shop_name} chat to {change} our newsletter with this address.\n"
        f"To confirm, open {public_url()}{CONFIRM_PATH}?token={token} within "
        f"{VALID_FOR.days} days.\nIf it wasn't you, ignore this e-mail: nothing changes.",
        now=at,
    )
    session.flush()
    return pending


@dataclass(frozen=True)
class Confirmed:
    email: str
    subscribed: bool


def confirm(session: Session, token: str, now: datetime | None = None) -> Confirmed | None:
    """Carry out the held change for this token; None for an unknown, used or old token."""
    at = now or utc_now()
    if not token or len(token) > 128:
        return None
    pending = session.scalar(
        select(NewsletterConfirmation).where(NewsletterConfirmation.token_hash == _hash(token))
    )
    if pending is None or pending.confirmed_at is not None or at - pending.created_at > VALID_FOR:
        return None
    set_newsletter(session, pending.email, subscribed=pending.subscribe, now=at)
    pending.confirmed_at = at
    session.flush()
    return Confirmed(pending.email, pending.subscribe)
