"""Agent accounts and sign-ins for the console.

Passwords are kept only as scrypt hashes, session tokens only as their SHA-256, so a copy of
the database gives neither. Every function works within the caller's transaction (like
catalog.support) and leaves the commit to it; the caller writes the audit log (web.audit),
except for accounts made here from the environment, which nobody else sees being made.
Failed sign-ins go to their own table, and password checks run on a pool of their own
(PasswordPool), so neither a flood of guesses nor its cost reaches the rest of the server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
import threading
import unicodedata
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol, TypeVar

from pydantic import SecretStr
from sqlalchemy import ColumnElement, and_, delete, func, not_, select
from sqlalchemy.orm import Session

from catalog.models import AGENT_ROLES, Agent, AgentSession, SignInFailure
from core.clock import utc_now
from core.settings import Section, Text, var
from web import audit
from web.settings import DEFAULT_AGENT_SESSION_MAX_AGE_S

T = TypeVar("T")

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
SESSION_MAX_AGE_S = DEFAULT_AGENT_SESSION_MAX_AGE_S  # SHOPDESK_AGENT_SESSION_MAX_AGE_S
# Password checks run on threads of their own: two hash at once (two cores' worth of scrypt at
# most), eight more may wait; beyond that a sign-in is refused at once, not queued.
SIGN_IN_WORKERS = 2
SIGN_IN_QUEUE = 8
# Failed sign-ins are kept a day: long enough for an admin to see an attack, and short enough
# that a flood of them stays a bounded table. The per-account lock looks at far less.
SIGN_IN_FAILURES_KEPT_S = 24 * 3600.0
UNKNOWN_ACCOUNT_PREFIX = "?"  # a typed name that is no account is kept only as a keyed hash
MAX_SUMMARY_ACCOUNTS = 20
# Keys the hash of typed names that are no account (often a password typed in the wrong field).
# It lives only in this process, so the table cannot be used to guess what was typed.
_UNKNOWN_NAME_KEY = secrets.token_bytes(32)


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
        created_at=now or utc_now(),
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
    now = now or utc_now()
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


def unexpired(ttl_s: float, max_age_s: float, now: datetime) -> ColumnElement[bool]:
    """The SQL condition of a session that has not expired: seen within `ttl_s` and begun
    within `max_age_s`. One rule for sign-in checks here and for the console's open sockets
    (web/agent_feed.py)."""
    return and_(
        AgentSession.last_seen_at > now - timedelta(seconds=ttl_s),
        AgentSession.created_at > now - timedelta(seconds=max_age_s),
    )


def agent_for_token(
    session: Session,
    token: str | None,
    ttl_s: float,
    now: datetime | None = None,
    max_age_s: float = SESSION_MAX_AGE_S,
) -> tuple[Agent, AgentSession] | None:
    """The signed-in agent and session for a cookie's token, or None.

    A session idle for `ttl_s` seconds or more has expired, and so has one that began
    `max_age_s` seconds ago or more however busy it was (a stolen cookie kept alive by
    polling dies with it): it and every other expired one are deleted. A live one counts as
    seen `now`. A disabled agent's sessions end here too.
    """
    now = now or utc_now()
    session.execute(delete(AgentSession).where(not_(unexpired(ttl_s, max_age_s, now))))
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


def failure_key(session: Session, username: str) -> str:
    """What a failed sign-in is counted under: the account's username, or for a name that is
    no account a keyed hash of it. People type their password into the username field by
    mistake; that text must not be kept, yet each such name needs a lock of its own, or
    locking would tell which names exist."""
    name = normalise_username(username)[:64]
    if session.scalar(select(Agent.id).where(Agent.username == name)) is not None:
        return name
    digest = hmac.new(_UNKNOWN_NAME_KEY, name.encode("utf-8"), hashlib.sha256).hexdigest()
    return UNKNOWN_ACCOUNT_PREFIX + digest[: 64 - len(UNKNOWN_ACCOUNT_PREFIX)]


def record_sign_in_failure(
    session: Session, username: str, address: str, now: datetime | None = None
) -> SignInFailure:
    """Keep one failed sign-in (in `sign_in_failures`, not the audit log, so a flood of them
    cannot push real events out of an admin's view); rows older than a day go."""
    now = now or utc_now()
    cutoff = now - timedelta(seconds=SIGN_IN_FAILURES_KEPT_S)
    session.execute(delete(SignInFailure).where(SignInFailure.at < cutoff))
    row = SignInFailure(username=failure_key(session, username), address=address[:64], at=now)
    session.add(row)
    session.flush()
    return row


def recent_sign_in_failures(
    session: Session, username: str, window_s: float, now: datetime | None = None
) -> int:
    """Failed sign-ins for this account, from any address, in the last `window_s` seconds."""
    since = (now or utc_now()) - timedelta(seconds=window_s)
    query = (
        select(func.count())
        .select_from(SignInFailure)
        .where(SignInFailure.username == failure_key(session, username), SignInFailure.at > since)
    )
    return session.scalar(query) or 0


def sign_in_failure_summary(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """For the admin's audit view: how many sign-ins failed in the kept day, per account (the
    most attacked first) and for names that are no account, with how many addresses tried."""
    since = (now or utc_now()) - timedelta(seconds=SIGN_IN_FAILURES_KEPT_S)
    rows = session.execute(
        select(
            SignInFailure.username,
            func.count(),
            func.count(SignInFailure.address.distinct()),
            func.max(SignInFailure.at),
        )
        .where(SignInFailure.at > since)
        .group_by(SignInFailure.username)
    ).all()
    unknown = sum(row[1] for row in rows if row[0].startswith(UNKNOWN_ACCOUNT_PREFIX))
    known = sorted(
        (row for row in rows if not row[0].startswith(UNKNOWN_ACCOUNT_PREFIX)),
        key=lambda row: (-row[1], row[0]),
    )
    return {
        "since": since.isoformat(timespec="seconds"),
        "total": sum(row[1] for row in rows),
        "unknown_usernames": unknown,
        "accounts": [
            {
                "username": username,
                "failures": failures,
                "addresses": addresses,
                "last": last.isoformat(timespec="seconds"),
            }
            for username, failures, addresses, last in known[:MAX_SUMMARY_ACCOUNTS]
        ],
    }


class SignInBusy(Exception):
    """Every password-checking thread is busy and the queue is full: try again shortly."""


class PasswordPool:
    """Threads of their own for password checks (scrypt: tens of ms of CPU and 16 MiB each).

    `asyncio.to_thread` shares one pool with the shoppers' database work, so a flood of
    sign-in attempts would queue shoppers' messages behind scrypt. Here at most `workers`
    checks run at once and `queue` more wait; any further one is refused at once (SignInBusy)
    rather than piling up memory and waiting time.
    """

    def __init__(self, workers: int = SIGN_IN_WORKERS, queue: int = SIGN_IN_QUEUE) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sign-in")
        self._capacity = workers + queue
        self._held = 0
        self._lock = threading.Lock()  # released from the worker thread, taken on the loop

    def _release(self, *_: Any) -> None:
        with self._lock:
            self._held -= 1

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` on one of the pool's threads; SignInBusy when the pool is full.

        A place is freed when the work ends, not when the caller stops waiting, so clients
        that hang up cannot make room for more work than the pool allows."""
        with self._lock:
            if self._held >= self._capacity:
                raise SignInBusy
            self._held += 1
        try:
            future = self._executor.submit(work)
        except RuntimeError:  # shut down
            self._release()
            raise
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


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


class AdminSettings(Section):
    """The first admin's account, from the environment (`ensure_admin_from_env`)."""

    admin_username: Text = var(ADMIN_USERNAME_ENV, "")
    admin_password: SecretStr = var(ADMIN_PASSWORD_ENV, SecretStr(""))  # taken as typed


def ensure_admin_from_env(
    session: Session, environ: Mapping[str, str] | None = None, now: datetime | None = None
) -> str:
    """Make the first admin from SHOPDESK_ADMIN_USERNAME and SHOPDESK_ADMIN_PASSWORD.

    Only when both are set and there is no active admin; there is never a default password.
    Returns a line for the server's log (never the password); a value that cannot be used
    is reported there rather than stopping the server, which serves shoppers without admins.
    """
    given = AdminSettings.from_env(environ)
    username, password = given.admin_username, given.admin_password.get_secret_value()
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
