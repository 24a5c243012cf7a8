"""Failed order checks, counted in the shop database so nothing a shopper controls resets them.

A conversation's slots, its session id and Rasa's `/restart` are all in the shopper's hands;
a limit kept there can be reset at will, which lets a stranger walk sequential order numbers
for a known e-mail address. So each failed check (order number and e-mail did not match) is
recorded here three times: under the order number tried, the e-mail address tried and the
client's network address. While any of them has reached its limit within the lockout window,
no check is made for it at all, even a right one, so guessing cannot go on.

Values are stored as SHA-256 digests: the table tells how often, not who.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session

from catalog.models import VerificationFailure
from core.clock import utc_now

ORDER, EMAIL, CLIENT = "order", "email", "address"


@dataclass(frozen=True)
class AttemptLimits:
    """How many failed checks lock a key, and for how long (`window`, counted back from now).

    An order number and an e-mail address allow `per_order` and `per_email` failures, the
    promise "three failures stop the checks"; one network address (a household, an office)
    a few more before it is locked out of checking any order.
    """

    per_order: int = 3
    per_email: int = 3
    per_client: int = 10
    window: timedelta = field(default=timedelta(minutes=60))

    def __post_init__(self) -> None:
        if min(self.per_order, self.per_email, self.per_client) < 1:
            raise ValueError("every attempt limit must be at least 1")
        if self.window <= timedelta(0):
            raise ValueError("the lockout window must be positive")

    def limit(self, scope: str) -> int:
        return {ORDER: self.per_order, EMAIL: self.per_email, CLIENT: self.per_client}[scope]


DEFAULT_LIMITS = AttemptLimits()


def digest(scope: str, value: str) -> str:
    """The stored key of a value: order numbers and e-mails compare case-insensitively."""
    return hashlib.sha256(f"{scope}:{value.strip().lower()}".encode()).hexdigest()


def _keys(order_number: str | None, email: str | None, client: str | None) -> list[tuple[str, str]]:
    pairs = ((ORDER, order_number), (EMAIL, email), (CLIENT, client))
    return [(scope, digest(scope, value)) for scope, value in pairs if value]


def locked_scopes(
    session: Session,
    order_number: str | None,
    email: str | None,
    client: str | None,
    now: datetime | None = None,
    limits: AttemptLimits = DEFAULT_LIMITS,
) -> list[str]:
    """The scopes (order, email, address) that are locked now; empty when checking may go on."""
    since = (now or utc_now()) - limits.window
    locked = []
    for scope, key in _keys(order_number, email, client):
        count = session.scalar(
            select(func.count(VerificationFailure.id)).where(
                VerificationFailure.scope == scope,
                VerificationFailure.key == key,
                VerificationFailure.failed_at > since,
            )
        )
        if int(count or 0) >= limits.limit(scope):
            locked.append(scope)
    return locked


def record_failure(
    session: Session,
    order_number: str | None,
    email: str | None,
    client: str | None,
    now: datetime | None = None,
) -> None:
    """Count one failed check under each value that was tried."""
    at = now or utc_now()
    for scope, key in _keys(order_number, email, client):
        session.add(VerificationFailure(scope=scope, key=key, failed_at=at))
    session.flush()


def forget_older_than(session: Session, cutoff: datetime) -> int:
    """Drop failures older than any window still in use (retention); how many went."""
    statement = delete(VerificationFailure).where(VerificationFailure.failed_at < cutoff)
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return int(result.rowcount or 0)
