"""The console's back office: the inbox (messages left, complaints, return requests), review
moderation, and the notices that tell agents something new arrived.

Every agent reads and works the inbox (admins too); every change of status and every
moderation is audited like the conversation routes (web/audit.py), with the item named in
`detail` and never its text. The queries are catalog/inbox.py's.

Notices ride on the console's socket (web/agent_feed.py): the app's sweep (web/app.py) calls
`InboxWatcher.check` each second; what arrived goes to every signed-in console as an `inbox`
event (the page shows a browser notification and plays a sound), and once, in a digest, to
the shop's support address (shop.yml `support.email`) through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy.orm import Session

from catalog import inbox
from catalog.inbox import Decision, InboxKind, Notice, NoticeKind
from catalog.policies import ShopSettingsError, policies
from catalog.statuses import InboxStatus
from web import audit
from web.console.deps import ChangingAgent, ConsoleError, HubDep, JsonBody, SignedInAgent, agent_row
from web.hub import Hub

log = logging.getLogger(__name__)

INBOX_EVENT: Final = "inbox"  # the socket event every signed-in console gets
MAX_ID_DIGITS: Final = 9


class AuditAction(StrEnum):
    """What this module's routes write to the audit log."""

    INBOX_STATUS = "inbox_status"  # detail: "<kind> <id>: <before> -> <after>"
    REVIEW_APPROVE = "review_approve"  # detail: "review <id>"
    REVIEW_REJECT = "review_reject"


MODERATION_AUDIT: Final = {
    Decision.APPROVE: AuditAction.REVIEW_APPROVE,
    Decision.REJECT: AuditAction.REVIEW_REJECT,
}


def _choice(value: Any, allowed: type[StrEnum], what: str) -> Any:
    """A value of `allowed`, or the sentence that lists the ones there are."""
    names = [str(member) for member in allowed]
    if not isinstance(value, str) or value not in names:
        raise ValueError(f"Choose a {what}: one of {', '.join(names)}.")
    return value


class StatusBody(BaseModel):
    """The status an agent moves an inbox item to; a missing one is refused like a wrong one."""

    model_config = ConfigDict(validate_default=True)

    status: InboxStatus = None  # type: ignore[assignment]  # refused by the validator

    @field_validator("status", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        return _choice(value, InboxStatus, "status")


class ModerationBody(BaseModel):
    """A moderator's verdict on a pending review; a missing one is refused."""

    model_config = ConfigDict(validate_default=True)

    decision: Decision = None  # type: ignore[assignment]  # refused by the validator

    @field_validator("decision", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        return _choice(value, Decision, "decision")


def number_of(raw: str) -> int:
    """A path's item number: only digits, at most MAX_ID_DIGITS of them (400)."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_ID_DIGITS:
        raise ConsoleError(400, "Say which item you mean: its number.")
    return int(raw)


def inbox_kind(raw: str) -> InboxKind:
    try:
        return InboxKind(raw)
    except ValueError:
        kinds = ", ".join(kind.value for kind in InboxKind)
        raise ConsoleError(400, f"The inbox has these kinds: {kinds}.") from None


router = APIRouter()


@router.get("/inbox")
async def list_inbox(
    who: SignedInAgent,
    hub: HubDep,
    kind: Annotated[str, Query(max_length=32)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    limit: Annotated[int, Query(ge=1, le=inbox.MAX_LIMIT)] = inbox.DEFAULT_LIMIT,
) -> dict[str, Any]:
    """The inbox newest first, filtered by `kind` and `status` (empty: all), with the counts
    of new items (the tab's badge)."""
    kinds = [inbox_kind(kind)] if kind else list(InboxKind)
    wanted: InboxStatus | None = None
    if status:
        try:
            wanted = InboxStatus(_choice(status, InboxStatus, "status"))
        except ValueError as error:
            raise ConsoleError(400, str(error)) from None

    def read(session: Session) -> dict[str, Any]:
        return {
            "items": [item.as_json() for item in inbox.items(session, kinds, wanted, limit)],
            "counts": inbox.new_counts(session),
        }

    return await hub.db(read)


@router.post("/inbox/{kind}/{item_id}/status")
async def change_status(
    kind: str,
    item_id: str,
    who: ChangingAgent,
    body: Annotated[StatusBody, Depends(JsonBody(StatusBody))],
    hub: HubDep,
) -> dict[str, Any]:
    which, number = inbox_kind(kind), number_of(item_id)
    status = body.status

    def change(session: Session) -> dict[str, Any]:
        agent = agent_row(session, who)
        try:
            item, before = inbox.set_status(session, which, number, status)
        except inbox.NotFound as missing:
            raise ConsoleError(404, str(missing)) from None
        audit.record(
            session, AuditAction.INBOX_STATUS, agent=agent, conversation_id=item.conversation_id,
            detail=f"{which.value} {number}: {before} -> {status.value}",
        )  # fmt: skip
        return {"item": item.as_json(), "counts": inbox.new_counts(session)}

    return await hub.db(change)


@router.get("/reviews/pending")
async def pending_reviews(who: SignedInAgent, hub: HubDep) -> dict[str, Any]:
    def read(session: Session) -> dict[str, Any]:
        return {"reviews": [review.as_json() for review in inbox.pending_reviews(session)]}

    return await hub.db(read)


@router.post("/reviews/{review_id}/moderate")
async def moderate(
    review_id: str,
    who: ChangingAgent,
    body: Annotated[ModerationBody, Depends(JsonBody(ModerationBody))],
    hub: HubDep,
) -> dict[str, Any]:
    number = number_of(review_id)
    decision = body.decision

    def decide(session: Session) -> dict[str, Any]:
        agent = agent_row(session, who)
        try:
            review = inbox.moderate(session, number, decision)
        except inbox.NotFound as missing:
            raise ConsoleError(404, str(missing)) from None
        except inbox.AlreadyModerated as late:
            raise ConsoleError(409, str(late)) from None
        audit.record(
            session, MODERATION_AUDIT[decision], agent=agent,
            conversation_id=review.conversation_id, detail=f"review {number}",
        )  # fmt: skip
        return {"review": {"id": review.id, "status": review.status}}

    return await hub.db(decide)


# ---------------------------------------------------------------- notices


def support_address() -> str:
    """The shop's support address (shop.yml), or "" when the settings cannot be read: the
    agents are still told; the mail waits for the settings to be fixed."""
    try:
        return policies().support.email
    except ShopSettingsError as error:
        log.warning("no support address for the agents' e-mail notices: %s", error)
        return ""


@dataclass(frozen=True)
class Look:
    """One look at what arrived: the notices for the consoles, the counts of new items (only
    when something arrived), and the row ids to look past next time."""

    notices: list[Notice]
    counts: dict[str, int]
    newest: dict[NoticeKind, int]


class InboxWatcher:
    """What arrived since this web process last looked, told to the agents' consoles; the
    digest e-mail goes out once, from whichever process claims the batch (catalog/inbox.py)."""

    def __init__(self, to_address: Callable[[], str] = support_address) -> None:
        self.to_address = to_address
        self.seen: dict[NoticeKind, int] | None = None  # what this process's consoles were told

    def look(self, session: Session) -> Look:
        """One look, in one transaction: what arrived since `seen` (from the start: since what
        the support address was told), and the e-mail of what it was not told yet."""
        told = inbox.watermarks(session)
        seen = self.seen if self.seen is not None else dict(told)
        found, newest = inbox.arrivals(session, seen)
        unmailed, upto = (found, newest) if seen == told else inbox.arrivals(session, told)
        claimed = {
            kind
            for kind in NoticeKind
            if upto[kind] > told[kind] and inbox.claim(session, kind, told[kind], upto[kind])
        }
        inbox.mail_notices(session, [n for n in unmailed if n.kind in claimed], self.to_address())
        return Look(found, inbox.new_counts(session) if found else {}, newest)

    async def check(self, hub: Hub) -> list[Notice]:
        """Look, then tell every signed-in console what arrived (nothing when nothing did)."""
        look = await hub.db(self.look)
        self.seen = look.newest
        if look.notices:
            await hub.feed.to_everyone(
                INBOX_EVENT,
                {"notices": [n.as_json() for n in look.notices], "counts": look.counts},
            )
        return look.notices
