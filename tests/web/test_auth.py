"""Agent accounts: password hashes, sign-in, sessions and their expiry, CSRF, the first admin,
and the 0004 migration that holds them; the sign-in route's defences (body limits, JSON only,
throttling per address and per account, the password pool, the cookie)."""

import asyncio
import contextlib
import hashlib
import threading
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from catalog import handoffs
from catalog.db import engine_for, migrate, session_scope
from catalog.models import Agent, AgentSession, AuditEntry, Handoff, SignInFailure
from core.settings import SettingsError
from tests.async_run import run as run_async
from tests.catalog import test_postgres
from tests.catalog.test_demo_order_book import migrate_to
from web import audit, auth, notes
from web.app import create_app
from web.auth import (
    PasswordPool,
    SignInBusy,
    agent_for_token,
    authenticate,
    create_agent,
    csrf_ok,
    disable_agent,
    end_session,
    ensure_admin_from_env,
    hash_password,
    recent_sign_in_failures,
    record_sign_in_failure,
    sign_in_failure_summary,
    start_session,
    verify_password,
)
from web.console.deps import MAX_BODY_BYTES
from web.console.sign_in import (
    ACCOUNT_FAILURES_ALLOWED,
    ACCOUNT_WINDOW_S,
    LOGIN_FAILURES_ALLOWED,
    MAX_LOGIN_BODY_BYTES,
    LoginThrottle,
)
from web.proxies import parse_trusted_proxies
from web.settings import WebSettings

NOW = datetime(2025, 6, 18, 10, 30, tzinfo=UTC)
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
        handoff = handoffs.request(session, "chat-1", "asked for a person", now=NOW)
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


# ---------------------------------------------------------------- absolute session lifetime

HOUR_S = 3600


def test_a_busy_session_still_ends_at_its_absolute_age(session: Session) -> None:
    """Idle expiry alone lets a stolen cookie live for ever if something keeps polling."""
    agent = anna(session)
    token, row = start_session(session, agent, now=NOW)
    max_age_s = 12 * HOUR_S
    for half_hours in range(1, 24):  # busy all day: never idle for TTL_S
        at = NOW + timedelta(seconds=half_hours * HOUR_S / 2)
        assert agent_for_token(session, token, TTL_S, at, max_age_s) == (agent, row)
    at_age = NOW + timedelta(seconds=max_age_s)
    assert agent_for_token(session, token, TTL_S, at_age, max_age_s) is None
    assert session.get(AgentSession, row.id) is None


def test_the_absolute_age_is_twelve_hours_unless_set(session: Session) -> None:
    token, _ = start_session(session, anna(session), now=NOW)
    assert auth.SESSION_MAX_AGE_S == WebSettings().agent_session_max_age_s == 12 * HOUR_S
    for hour in range(1, 12):  # the default applies to callers that do not pass the setting
        assert agent_for_token(session, token, 8 * HOUR_S, NOW + timedelta(hours=hour))
    assert agent_for_token(session, token, 8 * HOUR_S, NOW + timedelta(hours=12)) is None
    assert (
        WebSettings.from_env({"SHOPDESK_AGENT_SESSION_MAX_AGE_S": "7200"}).agent_session_max_age_s
        == 7200
    )
    with pytest.raises(SettingsError, match="SHOPDESK_AGENT_SESSION_MAX_AGE_S must be at least"):
        WebSettings.from_env({"SHOPDESK_AGENT_SESSION_MAX_AGE_S": "5"})


# ---------------------------------------------------------------- failed sign-ins


def test_failed_sign_ins_count_per_account_from_any_address(session: Session) -> None:
    anna(session)
    for n in range(3):
        record_sign_in_failure(session, " Anna ", f"198.51.100.{n}", NOW + timedelta(seconds=n))
    record_sign_in_failure(session, "ben", "198.51.100.9", NOW)
    assert (
        recent_sign_in_failures(session, "ANNA", ACCOUNT_WINDOW_S, NOW + timedelta(seconds=9)) == 3
    )
    later = NOW + timedelta(seconds=ACCOUNT_WINDOW_S + 0.5)  # the first has left it
    assert recent_sign_in_failures(session, "anna", ACCOUNT_WINDOW_S, later) == 2  # window
    assert recent_sign_in_failures(session, "ben", ACCOUNT_WINDOW_S, NOW) == 1
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_name_that_is_no_account_is_kept_only_as_a_keyed_hash(session: Session) -> None:
    typed = "my secret password 42"  # typed into the username field by mistake
    record_sign_in_failure(session, typed, "198.51.100.1", NOW)
    stored = session.scalars(select(SignInFailure.username)).one()
    assert stored.startswith(auth.UNKNOWN_ACCOUNT_PREFIX) and len(stored) == 64
    assert typed not in stored and hashlib.sha256(typed.encode()).hexdigest()[:63] not in stored
    assert recent_sign_in_failures(session, typed, ACCOUNT_WINDOW_S, NOW) == 1  # still locks
    assert recent_sign_in_failures(session, "another name", ACCOUNT_WINDOW_S, NOW) == 0


def test_failed_sign_ins_are_kept_a_day(session: Session) -> None:
    record_sign_in_failure(session, "anna", "198.51.100.1", NOW)
    next_day = NOW + timedelta(seconds=auth.SIGN_IN_FAILURES_KEPT_S + 1)
    record_sign_in_failure(session, "anna", "198.51.100.1", next_day)
    assert session.scalars(select(SignInFailure.at)).all() == [next_day]


def test_the_admin_sees_a_summary_of_failed_sign_ins(session: Session) -> None:
    anna(session)
    create_agent(session, "ben", "Ben", PASSWORD, now=NOW)
    for n in range(4):
        record_sign_in_failure(session, "anna", f"198.51.100.{n % 2}", NOW)
    record_sign_in_failure(session, "ben", "198.51.100.5", NOW)
    record_sign_in_failure(session, "nobody", "198.51.100.5", NOW)
    summary = sign_in_failure_summary(session, NOW + timedelta(minutes=1))
    assert summary["total"] == 6 and summary["unknown_usernames"] == 1
    assert summary["accounts"] == [
        {"username": "anna", "failures": 4, "addresses": 2, "last": NOW.isoformat()},
        {"username": "ben", "failures": 1, "addresses": 1, "last": NOW.isoformat()},
    ]


def test_guesses_being_checked_count_against_both_rules() -> None:
    """A burst sent at once must not get more guesses than the same guesses one by one."""
    throttle = LoginThrottle()
    with contextlib.ExitStack() as stack:
        for _ in range(LOGIN_FAILURES_ALLOWED):
            assert not throttle.blocked("anna|198.51.100.1")
            stack.enter_context(throttle.checking("anna|198.51.100.1", "anna"))
        assert throttle.blocked("anna|198.51.100.1")
        assert not throttle.account_locked(
            "anna", ACCOUNT_FAILURES_ALLOWED - LOGIN_FAILURES_ALLOWED
        )
        assert throttle.account_locked(
            "anna", ACCOUNT_FAILURES_ALLOWED - LOGIN_FAILURES_ALLOWED + 1
        )
    assert not throttle.blocked("anna|198.51.100.1")  # settled, and none failed
    with throttle.checking("anna|198.51.100.2", "anna"):  # its own attempt is not held against it
        assert not throttle.account_locked("anna", ACCOUNT_FAILURES_ALLOWED - 1)
        assert throttle.account_locked("anna", ACCOUNT_FAILURES_ALLOWED)


# ---------------------------------------------------------------- the password pool


def test_password_checks_run_on_a_bounded_pool_of_their_own() -> None:
    pool = PasswordPool(workers=1, queue=1)
    release = threading.Event()

    def held() -> str:
        release.wait(10)
        return threading.current_thread().name

    async def flood() -> list[Any]:
        first = asyncio.ensure_future(pool.run(held))
        second = asyncio.ensure_future(pool.run(held))
        await asyncio.sleep(0)
        with pytest.raises(SignInBusy):  # one running, one waiting: the third is refused
            await pool.run(held)
        release.set()
        done = await asyncio.gather(first, second)
        return [*done, await pool.run(lambda: threading.current_thread().name)]  # room again

    try:
        names = run_async(flood())
    finally:
        pool.shutdown()
    assert all(name.startswith("sign-in") for name in names)  # not asyncio's default pool


def test_a_caller_that_stops_waiting_does_not_free_its_place() -> None:
    pool = PasswordPool(workers=1, queue=0)
    release = threading.Event()

    async def hang_up() -> None:
        waiting = asyncio.ensure_future(pool.run(lambda: release.wait(10)))
        await asyncio.sleep(0.05)
        waiting.cancel()  # the client went away; the hash still runs
        with pytest.raises(SignInBusy):
            await pool.run(lambda: True)
        release.set()

    try:
        run_async(hang_up())
    finally:
        pool.shutdown()


# ---------------------------------------------------------------- the sign-in route

PROXY = "127.0.0.1"  # the trusted proxy of these tests
BEN_PASSWORD = "ben's own long passphrase"


def make_app(db_url: str) -> Any:
    settings = WebSettings(
        rasa_urls=("http://127.0.0.1:9",),
        rasa_token="unused",
        trusted_proxies=parse_trusted_proxies(PROXY),
    )
    return create_app(settings, db_url, b"k" * 40)


@pytest.fixture
def console_db(db_url: str) -> str:
    with session_scope(db_url) as session:
        anna(session)
        create_agent(session, "ben", "Ben", BEN_PASSWORD, role="admin", now=NOW)
    return db_url


@pytest.fixture
def proxied(console_db: str) -> Iterator[TestClient]:
    """The console behind its trusted TLS proxy, which names each client in X-Forwarded-For."""
    with TestClient(make_app(console_db), client=(PROXY, 50000)) as client:
        yield client


@pytest.fixture
def direct(console_db: str) -> Iterator[TestClient]:
    """A client reaching the server directly, not through the proxy."""
    with TestClient(make_app(console_db), client=("203.0.113.66", 50000)) as client:
        yield client


def log_in(
    client: TestClient, username: str, password: str, address: str | None = None
) -> Any:  # the TestClient's response (httpx's, or httpx2's on newer Starlette)
    headers = {"X-Forwarded-For": address} if address else {}
    client.cookies.clear()
    return client.post(
        "/agent/api/login", json={"username": username, "password": password}, headers=headers
    )


def count(db_url: str, model: type[Any]) -> int:
    with session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (f"username=anna&password={PASSWORD}", "application/x-www-form-urlencoded"),
        # <form enctype="text/plain"> can be made to send a JSON-looking body
        (f'{{"username": "anna", "password": "{PASSWORD}", "x": "="}}', "text/plain"),
        (f'{{"username": "anna", "password": "{PASSWORD}"}}', "multipart/form-data; boundary=x"),
        (f'{{"username": "anna", "password": "{PASSWORD}"}}', ""),
    ],
)
def test_a_cross_site_form_cannot_sign_anyone_in(
    direct: TestClient, console_db: str, content: str, content_type: str
) -> None:
    headers = {"Content-Type": content_type, "Origin": "https://evil.example"}
    answer = direct.post("/agent/api/login", content=content, headers=headers)
    assert answer.status_code == 415 and "console page" in answer.json()["error"]
    assert "set-cookie" not in answer.headers and count(console_db, AgentSession) == 0
    charset = {"Content-Type": "application/json; charset=utf-8"}
    body = f'{{"username": "anna", "password": "{PASSWORD}"}}'
    assert direct.post("/agent/api/login", content=body, headers=charset).status_code == 200


def test_a_sign_in_body_over_the_limit_is_refused_unread(direct: TestClient) -> None:
    huge = b'{"username": "anna", "password": "' + b"x" * MAX_LOGIN_BODY_BYTES + b'"}'
    declared = direct.post(
        "/agent/api/login", content=huge, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413 and "too large" in declared.json()["error"]

    def streamed() -> Iterator[bytes]:  # chunked: no Content-Length to go by
        for start in range(0, len(huge), 1024):
            yield huge[start : start + 1024]

    chunked = direct.post(
        "/agent/api/login", content=streamed(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code == 413
    longest = "ü" * auth.MAX_PASSWORD_CHARS  # the longest password allowed still fits
    assert log_in(direct, "anna", longest).status_code == 401


def test_a_console_body_over_the_limit_or_nested_too_deep_is_refused(direct: TestClient) -> None:
    csrf = log_in(direct, "anna", PASSWORD).json()["csrf_token"]
    headers = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    note = "/agent/api/conversations/chat-1/note"
    big = b'{"text": "' + b"x" * MAX_BODY_BYTES + b'"}'
    assert direct.post(note, content=big, headers=headers).status_code == 413
    nested = direct.post(note, content=b"[" * (MAX_BODY_BYTES - 1), headers=headers)
    assert nested.status_code == 400 and nested.json() == {
        "error": "The request body must be JSON."
    }
    assert direct.post(note, json={"text": "Prefers e-mail."}, headers=headers).status_code == 200


def test_a_password_spray_from_many_addresses_locks_the_account(
    proxied: TestClient, console_db: str
) -> None:
    for n in range(ACCOUNT_FAILURES_ALLOWED):  # one guess from each address: no address limit
        assert log_in(proxied, "anna", f"guess number {n:04}", f"198.51.100.{n}").status_code == 401
    locked = log_in(proxied, "anna", PASSWORD, "192.0.2.200")  # even the right password
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.json()["error"]
    assert int(locked.headers["Retry-After"]) == ACCOUNT_WINDOW_S
    assert log_in(proxied, "ben", BEN_PASSWORD, "198.51.100.1").status_code == 200
    with TestClient(make_app(console_db), client=(PROXY, 50000)) as restarted:
        assert log_in(restarted, "anna", PASSWORD, "192.0.2.201").status_code == 429


def test_repeated_failures_from_one_address_lock_that_address_only(proxied: TestClient) -> None:
    for _ in range(LOGIN_FAILURES_ALLOWED):
        assert log_in(proxied, "anna", "a wrong guess here", "198.51.100.1").status_code == 401
    assert log_in(proxied, "anna", PASSWORD, "198.51.100.1").status_code == 429
    assert log_in(proxied, "anna", PASSWORD, "198.51.100.2").status_code == 200


def test_failed_sign_ins_stay_out_of_the_audit_log(proxied: TestClient, console_db: str) -> None:
    for n in range(3):
        log_in(proxied, "anna", "a wrong guess here", f"198.51.100.{n}")
    log_in(proxied, "my secret password 42", "whatever it was", "198.51.100.9")
    with session_scope(console_db) as session:
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login_failed")
        ).all()
        assert session.scalars(select(SignInFailure.address)).all() == [
            "198.51.100.0", "198.51.100.1", "198.51.100.2", "198.51.100.9"
        ]  # fmt: skip
    assert log_in(proxied, "ben", BEN_PASSWORD, "198.51.100.3").status_code == 200
    answer = proxied.get("/agent/api/audit").json()
    assert [(e["agent"], e["action"]) for e in answer["entries"]] == [("Ben", "login")]
    failures = answer["sign_in_failures"]
    assert (failures["total"], failures["unknown_usernames"]) == (4, 1)
    assert [(a["username"], a["failures"], a["addresses"]) for a in failures["accounts"]] == [
        ("anna", 3, 3)
    ]
    assert "my secret password" not in str(answer)


def test_the_cookie_is_secure_behind_the_trusted_tls_proxy(
    proxied: TestClient, direct: TestClient
) -> None:
    proto = {"X-Forwarded-Proto": "https"}
    behind = proxied.post(
        "/agent/api/login", json={"username": "anna", "password": PASSWORD}, headers=proto
    )
    cookie = behind.headers["set-cookie"].lower()
    assert "; secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert f"max-age={12 * HOUR_S}" in cookie  # the absolute lifetime: the server ends it then
    spoofed = direct.post(
        "/agent/api/login", json={"username": "anna", "password": PASSWORD}, headers=proto
    )
    assert spoofed.status_code == 200 and "; secure" not in spoofed.headers["set-cookie"].lower()


def test_a_full_password_pool_is_a_polite_503(
    direct: TestClient, console_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def busy(pool: PasswordPool, work: Any) -> Any:
        raise SignInBusy

    monkeypatch.setattr(PasswordPool, "run", busy)
    answer = log_in(direct, "anna", PASSWORD)
    assert answer.status_code == 503 and "busy" in answer.json()["error"]
    assert answer.headers["Retry-After"].isdigit()
    assert count(console_db, SignInFailure) == 0  # not held against anyone
