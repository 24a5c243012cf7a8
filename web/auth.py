"""Agent accounts and sign-ins for the console.

Passwords are kept only as scrypt hashes, session tokens only as their SHA-256, so a copy of
the database gives neither. Every function works within the caller's transaction (like
catalog.support) and leaves the commit to it; the caller writes the audit log (web.audit),
except for accounts made here from the environment, which nobody else sees being made.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import cache
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from catalog.models import AGENT_ROLES, Agent, AgentSession
from catalog.support import local_now
from web import audit

# 16 MiB and tens of milliseconds per hash: costly for someone guessing offline, unnoticed at
# sign-in. The parameters are stored in each hash, so raising them later keeps old ones valid.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN = 2**14, 8, 1, 32
SCRYPT_MAXMEM = 64 * 1024 * 1024
SCRYPT_MAX_N = 2**20  # a stored hash asking for more memory than this is refused, not run
SALT_BYTES = 16
HASH_SCHEME = "scrypt"
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # long passphrases are welcome; a megabyte would only cost us time
MAX_TOKEN_CHARS = 256  # a cookie longer than this is not one of ours: no need to hash it
USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
MAX_DISPLAY_NAME_CHARS = 120
ADMIN_USERNAME_ENV, ADMIN_PASSWORD_ENV = "SHOPDESK_ADMIN_USERNAME", "SHOPDESK_ADMIN_PASSWORD"


def check_password(password: str) -> None:
    """Refuse a password too short to withstand guessing; ValueError says what to change."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(
            f"Please choose a longer password: it needs at least {MIN_PASSWORD_CHARS} characters."
        )
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(
            f"Please choose a shorter password: at most {MAX_PASSWORD_CHARS} characters."
        )
    if not password.strip():
        raise ValueError("Please choose a password that is not only spaces.")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # NFC: the same password typed on another keyboard or system gives the same bytes.
    secret = unicodedata.normalize("NFC", password).encode("utf-8")
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=SCRYPT_MAXMEM)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """`scrypt$N$r$p$salt$hash` (base64): one string that carries what checking it needs."""
    check_password(password)
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_DKLEN)
    return f"{HASH_SCHEME}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether `password` is the one hashed; False for a malformed or unknown hash."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        cost, block, parallel = int(n), int(r), int(p)
        salt_bytes = base64.b64decode(salt, validate=True)
        expected = base64.b64decode(digest, validate=True)
    except ValueError:  # also binascii.Error
        return False
    if scheme != HASH_SCHEME or not expected or not 1 < cost <= SCRYPT_MAX_N:
        return False
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        actual = _scrypt(password, salt_bytes, cost, block, parallel, len(expected))
    except ValueError:  # parameters scrypt refuses (N not a power of two, too much memory)
        return False
    return hmac.compare_digest(actual, expected)


@cache
def _dummy_hash() -> str:
    """A hash of a password nobody knows, so an unknown username costs as long as a known one."""
    return hash_password(secrets.token_urlsafe(24))


def normalise_username(username: str) -> str:
    return username.strip().lower()


def create_agent(
    session: Session,
    username: str,
    display_name: str,
    password: str,
    role: str = "agent",
    now: datetime | None = None,
) -> Agent:
    """A new, active account; ValueError (a sentence for the person) when a field won't do."""
    name = normalise_username(username)
    if not USERNAME.fullmatch(name):
        raise ValueError(
            "Please choose a username of 1 to 64 characters: letters, digits and . _ @ -, "
            "starting with a letter or digit."
        )
    shown = " ".join(display_name.split())
    if not shown or len(shown) > MAX_DISPLAY_NAME_CHARS:
        raise ValueError(
            f"Please give a display name of 1 to {MAX_DISPLAY_NAME_CHARS} characters "
            "(shoppers see it)."
        )
    if role not in AGENT_ROLES:
        raise ValueError(f"The role must be 'agent' or 'admin', not {role!r}.")
    check_password(password)
    if session.scalar(select(Agent.id).where(Agent.username == name)) is not None:
        raise ValueError(
            f"Sorry, the username {name!r} is already taken; please choose another one."
        )
    agent = Agent(
        username=name,
        display_name=shown,
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=now or local_now(),
    )
    session.add(agent)
    session.flush()
    return agent


def authenticate(session: Session, username: str, password: str) -> Agent | None:
    """The active agent with this username and password, else None.

    Every attempt runs one scrypt, so the time taken does not tell whether the username
    exists or the account is disabled.
    """
    dummy = _dummy_hash()  # made before the look-up: the first attempt is slow for everyone
    agent = session.scalar(select(Agent).where(Agent.username == normalise_username(username)))
    matches = verify_password(password, agent.password_hash if agent is not None else dummy)
    if agent is None or not agent.active or not matches:
        return None
    return agent


def token_id(token: str) -> str:
    """What is stored for a session token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(
    session: Session, agent: Agent, now: datetime | None = None
) -> tuple[str, AgentSession]:
    """Sign `agent` in: the token for the cookie (returned once, never stored) and the row."""
    if not agent.active:
        raise ValueError(f"The account {agent.username!r} is disabled.")
    now = now or local_now()
    token = secrets.token_urlsafe(32)
    row = AgentSession(
        id=token_id(token),
        agent_id=agent.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    return token, row


def agent_for_token(
    session: Session, token: str | None, ttl_s: float, now: datetime | None = None
) -> tuple[Agent, AgentSession] | None:
    """The signed-in agent and session for a cookie's token, or None.

    A session idle for `ttl_s` seconds or more has expired: it and every other expired one
    are deleted. A live one counts as seen `now`. A disabled agent's sessions end here too.
    """
    now = now or local_now()
    cutoff = now - timedelta(seconds=ttl_s)
    session.execute(delete(AgentSession).where(AgentSession.last_seen_at <= cutoff))
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    found = session.get(AgentSession, token_id(token))
    if found is None:
        return None
    agent = found.agent
    if not agent.active:
        session.delete(found)
        session.flush()
        return None
    if now > found.last_seen_at:  # a clock set back must not make a session older
        found.last_seen_at = now
    session.flush()
    return agent, found


def end_session(session: Session, token: str | None) -> bool:
    """Sign out; whether there was such a session."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return False
    found = session.get(AgentSession, token_id(token))
    if found is None:
        return False
    session.delete(found)
    session.flush()
    return True


class HasCsrfToken(Protocol):
    """An AgentSession, or a copy of what the server keeps of it once the session is closed."""

    @property
    def csrf_token(self) -> str: ...


def csrf_ok(agent_session: HasCsrfToken, header_value: str | None) -> bool:
    """Whether the X-CSRF-Token header is this session's; compared in constant time."""
    if not header_value:
        return False
    return hmac.compare_digest(
        header_value.encode("utf-8"), agent_session.csrf_token.encode("utf-8")
    )


def active_admins(session: Session) -> int:
    query = select(func.count()).select_from(Agent).where(Agent.role == "admin", Agent.active)
    return session.scalar(query) or 0


def disable_agent(session: Session, username: str) -> Agent:
    """Disable an account and end its sessions; it stays for the audit log and notes.

    ValueError when there is no such account, or it is the last active admin (nobody could
    read the audit log or manage accounts from the console any more).
    """
    name = normalise_username(username)
    agent = session.scalar(select(Agent).where(Agent.username == name))
    if agent is None:
        raise ValueError(f"There is no account with the username {name!r}.")
    if agent.active and agent.role == "admin" and active_admins(session) <= 1:
        raise ValueError(
            f"{name!r} is the last active admin; please add another admin before disabling it."
        )
    agent.active = False
    session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
    session.flush()
    return agent


def ensure_admin_from_env(
    session: Session, environ: Mapping[str, str] | None = None, now: datetime | None = None
) -> str:
    """Make the first admin from SHOPDESK_ADMIN_USERNAME and SHOPDESK_ADMIN_PASSWORD.

    Only when both are set and there is no active admin; there is never a default password.
    Returns a line for the server's log (never the password); a value that cannot be used
    is reported there rather than stopping the server, which serves shoppers without admins.
    """
    env = os.environ if environ is None else environ
    username = env.get(ADMIN_USERNAME_ENV, "").strip()
    password = env.get(ADMIN_PASSWORD_ENV, "")
    if active_admins(session):
        return "admin account: present"
    if not username or not password:
        if username or password:
            return (
                f"no admin account: set both {ADMIN_USERNAME_ENV} and {ADMIN_PASSWORD_ENV} "
                "to create one"
            )
        return (
            f"no admin account yet: set {ADMIN_USERNAME_ENV} and {ADMIN_PASSWORD_ENV}, "
            "or run `python -m web agents add --role admin`"
        )
    try:
        agent = create_agent(session, username, "Administrator", password, "admin", now=now)
    except ValueError as error:
        return f"no admin account created from {ADMIN_USERNAME_ENV}: {error}"
    audit.record(
        session, "create_agent", detail=f"{agent.username} (admin, from environment)", now=now
    )
    return f"admin account {agent.username!r} created from {ADMIN_USERNAME_ENV}"
