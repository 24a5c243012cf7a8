"""Agent accounts as admins manage them in the console: the list, a new account, disabling and
enabling, and the one-time links with which an agent sets a password.

Why links instead of passwords typed by the admin: a password the admin chose is known to two
people and travels through chat or e-mail in clear. A link is a random token that works once
and for a day (LINK_VALID_S); only its SHA-256 is stored, so a copy of the database cannot be
used to take over an account. A new link for an agent replaces any older one, so a link the
admin lost or sent to the wrong person is revoked by making another.

Like web/auth.py, every function works in the caller's transaction; unlike it, each writes
its own audit entry, because every caller (the console's routes) must record the same facts.
Sentences in ValueError and LinkRefused are for the person reading the console.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from catalog.models import Agent, AgentPasswordLink, AgentSession, AuditEntry
from core.clock import utc_now
from web import audit, auth

LINK_VALID_S: Final = 24 * 3600.0  # long enough to reach someone on another shift
TOKEN_BYTES: Final = 32
SET_PASSWORD_PATH: Final = "/agent/set-password"
# The token travels in the fragment: browsers send it to no server (not even ours in the
# request line or a Referer), so it stays out of access logs and proxies.
FRAGMENT: Final = "#"


class LinkPurpose(StrEnum):
    """Why a link was made: it says so on the page the agent opens."""

    INVITE = "invite"  # a new account, which has no password anybody knows yet
    RESET = "reset"  # an admin reset the password of an existing account


class AuditAction(StrEnum):
    """What this module writes to the audit log (web/audit.py ACTIONS lists them)."""

    CREATE = "create_agent"
    DISABLE = "disable_agent"
    ENABLE = "enable_agent"
    LINK = "password_link"
    PASSWORD_SET = "password_set"
    LOGIN = "login"  # written by sign-in; read here for "last sign-in"


class LinkRefused(Exception):
    """The link cannot be used (unknown, used, expired, account disabled); the message says
    what to do. Kept apart from ValueError, which is a password that will not do."""


LINK_UNKNOWN = "This link is not valid. Please ask an admin for a new one."
LINK_USED = "This link was already used. Please sign in, or ask an admin for a new link."
LINK_EXPIRED = "This link has expired. Please ask an admin for a new one."
ACCOUNT_DISABLED = "This account is disabled. Please ask an admin to enable it first."


@dataclass(frozen=True)
class IssuedLink:
    """A link just made: the token is here once and is never stored or logged."""

    token: str
    purpose: LinkPurpose
    expires_at: datetime

    @property
    def path(self) -> str:
        """The link without the origin; the console adds the address the admin is using."""
        return f"{SET_PASSWORD_PATH}{FRAGMENT}{self.token}"

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "purpose": str(self.purpose),
            "expires_at": self.expires_at.isoformat(timespec="seconds"),
        }


def _agent(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise LookupError("There is no such agent account.")
    return agent


def issue_link(
    session: Session,
    agent: Agent,
    purpose: LinkPurpose,
    by: Agent | None,
    now: datetime | None = None,
) -> IssuedLink:
    """A new one-time link for `agent`; any older link of theirs stops working."""
    if not agent.active:
        raise ValueError(f"{agent.username!r} is disabled; please enable the account first.")
    now = now or utc_now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    expires_at = now + timedelta(seconds=LINK_VALID_S)
    session.execute(delete(AgentPasswordLink).where(AgentPasswordLink.agent_id == agent.id))
    session.add(
        AgentPasswordLink(
            token_hash=auth.token_id(token),
            agent_id=agent.id,
            purpose=purpose,
            created_by_id=by.id if by is not None else None,
            created_at=now,
            expires_at=expires_at,
        )
    )
    audit.record(
        session, AuditAction.LINK, agent=by, detail=f"{agent.username} ({purpose})", now=now
    )
    return IssuedLink(token, purpose, expires_at)


def add_agent(
    session: Session,
    username: str,
    display_name: str,
    role: str,
    by: Agent,
    now: datetime | None = None,
) -> tuple[Agent, IssuedLink]:
    """A new account with an invitation link; ValueError when a field will not do.

    The account's first password is random and shown to nobody, so it cannot sign in until
    the agent has followed the link and chosen their own (auth.create_agent's rules)."""
    now = now or utc_now()
    agent = auth.create_agent(
        session, username, display_name, secrets.token_urlsafe(TOKEN_BYTES), role, now=now
    )
    audit.record(
        session, AuditAction.CREATE, agent=by, detail=f"{agent.username} ({role}, console)", now=now
    )
    return agent, issue_link(session, agent, LinkPurpose.INVITE, by, now)


def reset_link(
    session: Session, agent_id: int, by: Agent, now: datetime | None = None
) -> tuple[Agent, IssuedLink]:
    """A reset link for an account. Its current password keeps working until the link is
    used: to lock someone out at once, disable the account (then enable it and reset)."""
    agent = _agent(session, agent_id)
    return agent, issue_link(session, agent, LinkPurpose.RESET, by, now)


def set_active(
    session: Session, agent_id: int, active: bool, by: Agent, now: datetime | None = None
) -> Agent:
    """Enable or disable an account. Disabling ends its sessions at once (auth.disable_agent)
    and is refused for one's own account and for the last active admin, so the console
    always keeps someone who can manage it."""
    agent = _agent(session, agent_id)
    if agent.active == active:
        return agent
    if active:
        agent.active = True
        session.flush()
        action = AuditAction.ENABLE
    else:
        if agent.id == by.id:
            raise ValueError(
                "You cannot disable your own account; another admin can, if it must be."
            )
        auth.disable_agent(session, agent.username)
        # a link made before must not bring the account back when it is enabled again
        session.execute(delete(AgentPasswordLink).where(AgentPasswordLink.agent_id == agent.id))
        action = AuditAction.DISABLE
    audit.record(session, action, agent=by, detail=f"{agent.username} (console)", now=now)
    return agent


def usable_link(session: Session, token: str, now: datetime | None = None) -> AgentPasswordLink:
    """The link of `token`, if it can still be used; LinkRefused says why not."""
    if not token or len(token) > auth.MAX_TOKEN_CHARS:
        raise LinkRefused(LINK_UNKNOWN)
    link = session.scalar(
        select(AgentPasswordLink).where(AgentPasswordLink.token_hash == auth.token_id(token))
    )
    if link is None:
        raise LinkRefused(LINK_UNKNOWN)
    if link.used_at is not None:
        raise LinkRefused(LINK_USED)
    if (now or utc_now()) >= link.expires_at:
        raise LinkRefused(LINK_EXPIRED)
    if not link.agent.active:
        raise LinkRefused(ACCOUNT_DISABLED)
    return link


def describe_link(session: Session, token: str, now: datetime | None = None) -> dict[str, Any]:
    """What the link page shows before the agent types: whose account and why."""
    link = usable_link(session, token, now)
    return {
        "username": link.agent.username,
        "display_name": link.agent.display_name,
        "purpose": link.purpose,
        "expires_at": link.expires_at.isoformat(timespec="seconds"),
    }


def redeem(session: Session, token: str, password: str, now: datetime | None = None) -> Agent:
    """Set the password of the link's agent and use the link up; the agent's other sessions
    end (whoever knew the old password is signed out). LinkRefused for a link that cannot be
    used, ValueError for a password that will not do (the link stays usable then)."""
    now = now or utc_now()
    link = usable_link(session, token, now)
    agent = link.agent
    agent.password_hash = auth.hash_password(password)  # checks the rules, like the CLI
    link.used_at = now
    session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
    session.flush()
    audit.record(
        session,
        AuditAction.PASSWORD_SET,
        agent=agent,
        detail=f"{agent.username} ({link.purpose})",
        now=now,
    )
    return agent


def agent_list(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every account for the admins' table, by username: last sign-in from the audit log,
    and a pending link's purpose and expiry (never its token, which is not kept)."""
    now = now or utc_now()
    last_sign_in = dict(
        session.execute(
            select(AuditEntry.agent_id, func.max(AuditEntry.at))
            .where(AuditEntry.action == AuditAction.LOGIN)
            .group_by(AuditEntry.agent_id)
        ).all()
    )
    pending = {
        link.agent_id: link
        for link in session.scalars(
            select(AgentPasswordLink).where(
                AgentPasswordLink.used_at.is_(None), AgentPasswordLink.expires_at > now
            )
        )
    }
    return [
        as_json(agent, last_sign_in.get(agent.id), pending.get(agent.id))
        for agent in session.scalars(select(Agent).order_by(Agent.username))
    ]


def as_json(
    agent: Agent, last_sign_in: datetime | None = None, link: AgentPasswordLink | None = None
) -> dict[str, Any]:
    return {
        "id": agent.id,
        "username": agent.username,
        "display_name": agent.display_name,
        "role": agent.role,
        "active": agent.active,
        "created_at": agent.created_at.isoformat(timespec="seconds"),
        "last_sign_in": last_sign_in.isoformat(timespec="seconds") if last_sign_in else None,
        "pending_link": (
            {"purpose": link.purpose, "expires_at": link.expires_at.isoformat(timespec="seconds")}
            if link is not None
            else None
        ),
    }
