"""Agent accounts: password hashes, sign-in, sessions and their expiry, CSRF, the first admin,
and the 0004 migration that holds them."""

import hashlib
import unicodedata
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from catalog.db import engine_for, migrate, session_scope
from catalog.models import Agent, AgentSession, AuditEntry, Handoff
from catalog.support import request_handoff
from tests.catalog import test_postgres
from tests.catalog.test_order_book import migrate_to
from web import audit, auth, notes
from web.auth import (
    agent_for_token,
    authenticate,
    create_agent,
    csrf_ok,
    disable_agent,
    end_session,
    ensure_admin_from_env,
    hash_password,
    start_session,
    verify_password,
)

NOW = datetime(2025, 6, 18, 10, 30)
TTL_S = 3600
PASSWORD = "correct horse battery"
postgres_url = test_postgres.postgres_url  # the same fresh-schema fixture, for this module
CONSOLE_TABLES = {"agents", "agent_sessions", "audit_log", "agent_notes", "support_messages"}


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """A fresh, migrated SQLite shop database."""
    url = f"sqlite:///{tmp_path / 'web.sqlite3'}"
    migrate(url)
    return url


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with session_scope(db_url) as session:
        yield session


def anna(session: Session, role: str = "agent") -> Agent:
    return create_agent(session, "anna", "Anna", PASSWORD, role, now=NOW)


def agents(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Agent)) or 0


def test_a_password_hash_checks_the_password_and_nothing_else() -> None:
    encoded = hash_password(PASSWORD)
    assert encoded.startswith("scrypt$16384$8$1$") and PASSWORD not in encoded
    assert verify_password(PASSWORD, encoded)
    assert not verify_password("correct horse battery!", encoded)
    assert not verify_password("", encoded)
    assert hash_password(PASSWORD) != encoded  # a new salt each time


def test_the_same_password_typed_elsewhere_matches() -> None:
    composed = "Pässwort für den Laden"
    encoded = hash_password(composed)
    assert verify_password(unicodedata.normalize("NFD", composed), encoded)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "not a hash",
        "bcrypt$16384$8$1$AAAA$AAAA",
        "scrypt$x$8$1$AAAA$AAAA",
        "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # N not a power of two
        "scrypt$1073741824$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",  # asks for far too much memory
        "scrypt$16384$8$1$not base64!$AAAA",
    ],
)
def test_a_malformed_hash_matches_no_password(encoded: str) -> None:
    assert not verify_password(PASSWORD, encoded)


def test_a_tampered_hash_matches_no_password() -> None:
    kept = hash_password(PASSWORD).split("$")[:-1]  # this salt and cost, another digest
    other = hash_password("another long password").split("$")[-1]
    assert not verify_password(PASSWORD, "$".join([*kept, other]))


@pytest.mark.parametrize("short", ["", "a", "elevenchars"])
def test_a_short_password_is_refused_politely(short: str) -> None:
    with pytest.raises(ValueError, match="at least 12 characters"):
        hash_password(short)


def test_twelve_characters_will_do_but_not_twelve_spaces() -> None:
    assert verify_password("twelve chars", hash_password("twelve chars"))
    with pytest.raises(ValueError, match="not only spaces"):
        hash_password(" " * 12)


def test_an_agent_signs_in_with_the_right_password_only(session: Session) -> None:
    agent = anna(session)
    assert (agent.username, agent.display_name, agent.role, agent.active) == (
        "anna", "Anna", "agent", True
    )  # fmt: skip
    assert agent.password_hash != PASSWORD and verify_password(PASSWORD, agent.password_hash)
    assert authenticate(session, "anna", PASSWORD) is agent
    assert authenticate(session, " Anna ", PASSWORD) is agent  # usernames are lower-case
    assert authenticate(session, "anna", "wrong password here") is None
    assert authenticate(session, "nobody", PASSWORD) is None
    agent.active = False
    assert authenticate(session, "anna", PASSWORD) is None


def test_an_unknown_username_costs_one_scrypt_like_a_known_one(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    anna(session)
    auth._dummy_hash()
    calls: list[int] = []
    real = auth._scrypt

    def counted(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
        calls.append(n)
        return real(password, salt, n, r, p, dklen)

    monkeypatch.setattr(auth, "_scrypt", counted)
    for username, password in (("nobody", PASSWORD), ("anna", "wrong pass"), ("anna", PASSWORD)):
        authenticate(session, username, password)
    assert calls == [auth.SCRYPT_N] * 3


def test_a_username_is_taken_once(session: Session) -> None:
    anna(session)
    with pytest.raises(ValueError, match="'anna' is already taken; please choose another"):
        create_agent(session, " ANNA ", "Another Anna", "another long password")
    assert agents(session) == 1


@pytest.mark.parametrize(
    ("username", "name", "role", "complaint"),
    [
        ("", "Anna", "agent", "username of 1 to 64"),
        ("anna smith", "Anna", "agent", "username of 1 to 64"),
        ("a" * 65, "Anna", "agent", "username of 1 to 64"),
        ("anna", "   ", "agent", "display name"),
        ("anna", "Anna", "boss", "role must be 'agent' or 'admin'"),
    ],
)
def test_bad_account_fields_are_refused(
    session: Session, username: str, name: str, role: str, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        create_agent(session, username, name, PASSWORD, role)
    assert agents(session) == 0


def test_a_session_token_is_stored_only_as_its_hash(session: Session) -> None:
    agent = anna(session)
    token, row = start_session(session, agent, now=NOW)
    assert row.id == hashlib.sha256(token.encode()).hexdigest() and len(token) >= 43
    assert token not in (row.id, row.csrf_token) and len(row.csrf_token) >= 43
    other_token, other = start_session(session, agent, now=NOW)
    assert (other_token, other.csrf_token) != (token, row.csrf_token)
    assert agent_for_token(session, token, TTL_S, NOW) == (agent, row)
    assert agent_for_token(session, row.id, TTL_S, NOW) is None  # the stored id is no token


def test_a_session_expires_after_the_idle_time_and_is_deleted(session: Session) -> None:
    agent = anna(session)
    token, row = start_session(session, agent, now=NOW)
    later = NOW + timedelta(seconds=TTL_S - 1)
    assert agent_for_token(session, token, TTL_S, later) == (agent, row)
    assert row.last_seen_at == later  # use keeps it alive
    still = later + timedelta(seconds=TTL_S - 1)
    assert agent_for_token(session, token, TTL_S, still) is not None
    assert agent_for_token(session, token, TTL_S, still + timedelta(seconds=TTL_S)) is None
    assert session.get(AgentSession, row.id) is None


def test_looking_up_any_token_deletes_every_expired_session(session: Session) -> None:
    agent = anna(session)
    start_session(session, agent, now=NOW)
    fresh_token, fresh = start_session(session, agent, now=NOW + timedelta(seconds=TTL_S))
    assert agent_for_token(session, fresh_token, TTL_S, NOW + timedelta(seconds=TTL_S + 1))
    assert session.scalars(select(AgentSession.id)).all() == [fresh.id]
    assert agent_for_token(session, "", TTL_S, NOW) is None
    assert agent_for_token(session, "x" * 10_000, TTL_S, NOW) is None


def test_a_disabled_agents_sessions_end(session: Session) -> None:
    agent = anna(session)
    token, row = start_session(session, agent, now=NOW)
    agent.active = False
    assert agent_for_token(session, token, TTL_S, NOW) is None
    assert session.get(AgentSession, row.id) is None
    with pytest.raises(ValueError, match="disabled"):
        start_session(session, agent, now=NOW)


def test_disabling_an_account_ends_its_sessions_but_keeps_the_last_admin(
    session: Session,
) -> None:
    admin = anna(session, role="admin")
    ben = create_agent(session, "ben", "Ben", PASSWORD)
    token, _ = start_session(session, ben, now=NOW)
    assert disable_agent(session, "BEN") is ben and not ben.active
    assert agent_for_token(session, token, TTL_S, NOW) is None
    assert session.scalar(select(func.count()).select_from(AgentSession)) == 0
    with pytest.raises(ValueError, match="last active admin"):
        disable_agent(session, "anna")
    assert admin.active
    with pytest.raises(ValueError, match="no account with the username 'carl'"):
        disable_agent(session, "carl")


def test_signing_out_ends_the_session(session: Session) -> None:
    token, _ = start_session(session, anna(session), now=NOW)
    assert end_session(session, token)
    assert agent_for_token(session, token, TTL_S, NOW) is None
    assert not end_session(session, token) and not end_session(session, None)


def test_csrf_token_must_match_exactly(session: Session) -> None:
    _, row = start_session(session, anna(session), now=NOW)
    assert csrf_ok(row, row.csrf_token)
    for wrong in (None, "", row.csrf_token[:-1], row.csrf_token + "x", "ü" * 43, row.id):
        assert not csrf_ok(row, wrong)


ADMIN_ENV = {"SHOPDESK_ADMIN_USERNAME": "root", "SHOPDESK_ADMIN_PASSWORD": "a long admin secret"}


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"SHOPDESK_ADMIN_USERNAME": "root"},
        {"SHOPDESK_ADMIN_PASSWORD": "a long admin secret"},
        {"SHOPDESK_ADMIN_USERNAME": " ", "SHOPDESK_ADMIN_PASSWORD": "a long admin secret"},
    ],
)
def test_no_admin_without_both_variables(session: Session, environ: dict[str, str]) -> None:
    message = ensure_admin_from_env(session, environ)
    assert "SHOPDESK_ADMIN_USERNAME" in message and "SHOPDESK_ADMIN_PASSWORD" in message
    assert "a long admin secret" not in message
    assert agents(session) == 0


def test_the_admin_from_the_environment_is_made_once(session: Session) -> None:
    message = ensure_admin_from_env(session, ADMIN_ENV, now=NOW)
    assert "'root' created" in message and ADMIN_ENV["SHOPDESK_ADMIN_PASSWORD"] not in message
    admin = session.scalars(select(Agent)).one()
    assert (admin.username, admin.role, admin.active) == ("root", "admin", True)
    assert authenticate(session, "root", "a long admin secret") is admin
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.detail) == ("create_agent", "root (admin, from environment)")
    other = {**ADMIN_ENV, "SHOPDESK_ADMIN_USERNAME": "root2"}
    assert ensure_admin_from_env(session, other) == "admin account: present"
    assert agents(session) == 1


def test_an_unusable_admin_password_is_reported_not_used(session: Session) -> None:
    environ = {**ADMIN_ENV, "SHOPDESK_ADMIN_PASSWORD": "tiny-pw"}
    message = ensure_admin_from_env(session, environ)
    assert "at least 12 characters" in message and "tiny-pw" not in message
    assert agents(session) == 0


def test_an_agent_is_not_an_admin(session: Session) -> None:
    anna(session)  # an agent, not an admin: the environment's admin is still made
    assert "created" in ensure_admin_from_env(session, ADMIN_ENV)
    assert agents(session) == 2


def console_round_trip(url: str) -> None:
    """Accounts, sessions, audit and notes on a migrated database."""
    migrate(url)
    with session_scope(url) as session:
        agent = anna(session, role="admin")
        token, _ = start_session(session, agent, now=NOW)
    with session_scope(url) as session:
        found = agent_for_token(session, token, TTL_S, NOW + timedelta(seconds=60))
        assert found is not None and found[0].username == "anna"
        assert authenticate(session, "anna", PASSWORD) is found[0]
        audit.record(session, "login", agent=found[0], now=NOW)
        notes.add_note(session, "chat-1", found[0], "Prefers e-mail.", now=NOW)
        handoff = request_handoff(session, "chat-1", "asked for a person", now=NOW)
        handoff.status, handoff.agent_id, handoff.taken_at = "taken", found[0].id, NOW
    with session_scope(url) as session:
        assert audit.recent(session)[0]["agent"] == "Anna"
        assert [n["text"] for n in notes.notes_for(session, "chat-1")] == ["Prefers e-mail."]
        handoff = session.scalars(select(Handoff)).one()
        assert handoff.agent is not None and handoff.agent.display_name == "Anna"


def migration_round_trip(url: str) -> None:
    """0004 down to 0003 keeps the handoffs (without their owner), then up again."""
    console_round_trip(url)
    migrate_to(url, "0003", down=True)
    inspector = inspect(engine_for(url))
    assert not CONSOLE_TABLES & set(inspector.get_table_names())
    assert {column["name"] for column in inspector.get_columns("handoffs")} == {
        "id", "conversation_id", "reason", "status", "created_at", "updated_at"
    }  # fmt: skip
    migrate(url)
    with session_scope(url) as session:
        handoff = session.scalars(select(Handoff)).one()
        assert (handoff.status, handoff.agent_id, handoff.taken_at) == ("taken", None, None)
        assert agents(session) == 0
        assert anna(session).id


def test_migration_round_trip_on_sqlite(db_url: str) -> None:
    migration_round_trip(db_url)


@pytest.mark.postgres
def test_migration_round_trip_on_postgresql(postgres_url: str) -> None:
    migration_round_trip(postgres_url)
