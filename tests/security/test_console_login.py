"""Red team: the agent console's sign-in, attacked over the running web server.

Each test replays an attack a stranger can make with an HTTP client: a cross-site form that
signs a victim's browser in (login CSRF), a huge body, made-up X-Forwarded-For addresses to
dodge the throttles, a password spray from many addresses, and a flood of failed sign-ins to
push real events out of the admin's audit view. Each uses accounts of its own, so the throttles
it trips never lock the shared ones (ADMIN, AGENT, OTHER_AGENT) other tests sign in with.

Several addresses: Linux routes all of 127.0.0.0/8 to the loopback device, so a client bound
to 127.0.0.N really is another address to the server, with no proxy to trust.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pytest

from catalog.db import session_scope
from launcher.stack import Stack
from tests.security.conftest import ADMIN, console_login, shop_db_url
from web.app import HTTP_REQUESTS_PER_MINUTE
from web.auth import create_agent
from web.console.sign_in import ACCOUNT_FAILURES_ALLOWED, LOGIN_FAILURES_ALLOWED

PASSWORD = "a red team agent's long passphrase"
ACCOUNTS = ("redcsrf", "redbody", "redxff", "redproto", "redspray", "redaudit")
LOGIN = "/agent/api/login"
RATE_WINDOW_S = 60.0  # web/app.py counts HTTP requests per address per minute
AUDIT_VIEW = 200  # the audit view shows this many newest entries (web/console/admin.py)


@pytest.fixture(scope="module")
def accounts(live: Stack) -> Stack:
    """This module's own agents, made in the shop database as `web agents add` makes them."""
    with session_scope(shop_db_url(live)) as session:
        for username in ACCOUNTS:
            create_agent(session, username, username.title(), PASSWORD)
    return live


def client(stack: Stack, source: str | None = None) -> httpx.Client:
    """An HTTP client of the web server; `source`: the loopback address it connects from."""
    transport = httpx.HTTPTransport(local_address=source) if source else None
    return httpx.Client(base_url=stack.config.web_url, timeout=60, transport=transport)


def random_address() -> str:
    return f"198.51.100.{secrets.randbelow(250) + 1}, 203.0.113.{secrets.randbelow(250) + 1}"


def login_json(username: str, password: str) -> dict[str, str]:
    return {"username": username, "password": password}


@pytest.fixture
def web(accounts: Stack) -> Iterator[httpx.Client]:
    with client(accounts) as http:
        yield http


def test_login_csrf_from_a_cross_site_form_is_refused(web: httpx.Client) -> None:
    """<form enctype="text/plain"> on another site posts a body that parses as JSON: with the
    attacker's own credentials it would sign the victim's browser into the attacker's account."""
    forged = f'{{"username": "redcsrf", "password": "{PASSWORD}", "pad": "="}}'
    headers = {"Content-Type": "text/plain", "Origin": "https://evil.example"}
    answer = web.post(LOGIN, content=forged, headers=headers)
    assert answer.status_code == 415, answer.text
    assert "set-cookie" not in answer.headers
    form = web.post(
        LOGIN, data=login_json("redcsrf", PASSWORD), headers={"Origin": headers["Origin"]}
    )
    assert form.status_code == 415 and "set-cookie" not in form.headers
    assert web.post(LOGIN, json=login_json("redcsrf", PASSWORD)).status_code == 200


def test_an_oversized_body_is_refused_before_it_is_read(web: httpx.Client) -> None:
    megabyte = b'{"username": "redbody", "password": "' + b"x" * 2**20 + b'"}'
    json_type = {"Content-Type": "application/json"}
    declared = web.post(LOGIN, content=megabyte, headers=json_type)
    assert declared.status_code == 413 and "too large" in declared.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: refused as it passes the limit
        for start in range(0, len(megabyte), 64 * 1024):
            yield megabyte[start : start + 64 * 1024]

    assert web.post(LOGIN, content=chunks(), headers=json_type).status_code == 413
    signed_in = web.post(LOGIN, json=login_json("redbody", PASSWORD))
    assert signed_in.status_code == 200
    csrf = {"X-CSRF-Token": signed_in.json()["csrf_token"], **json_type}
    note = "/agent/api/conversations/red-body/note"
    huge_note = b'{"text": "' + b"y" * 2**20 + b'"}'
    assert web.post(note, content=huge_note, headers=csrf).status_code == 413


def test_spoofed_x_forwarded_for_does_not_dodge_the_login_throttle(web: httpx.Client) -> None:
    """No proxy is trusted (SHOPDESK_TRUSTED_PROXIES is empty): each guess naming a new
    address in X-Forwarded-For is still a guess from this client's own address."""
    answers = [
        web.post(
            LOGIN,
            json=login_json("redxff", f"guess {n} of the red team"),
            headers={"X-Forwarded-For": random_address()},
        ).status_code
        for n in range(LOGIN_FAILURES_ALLOWED + 1)
    ]
    assert answers == [401] * LOGIN_FAILURES_ALLOWED + [429]
    right = web.post(
        LOGIN, json=login_json("redxff", PASSWORD), headers={"X-Forwarded-For": random_address()}
    )
    assert right.status_code == 429


def test_a_spoofed_forwarded_proto_is_not_believed(web: httpx.Client) -> None:
    """The cookie is Secure only when a trusted proxy says the client used TLS."""
    answer = web.post(
        LOGIN, json=login_json("redproto", PASSWORD), headers={"X-Forwarded-Proto": "https"}
    )
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "; secure" not in cookie


def test_a_password_spray_from_many_addresses_locks_the_account(accounts: Stack) -> None:
    """One guess from each of many addresses never trips the per-address throttle; the
    per-account one stops the spray, and the account stays shut for its window."""
    for n in range(ACCOUNT_FAILURES_ALLOWED):
        with client(accounts, f"127.0.1.{n + 1}") as sprayer:
            guess = sprayer.post(LOGIN, json=login_json("redspray", f"spray guess {n:03}"))
            assert guess.status_code == 401, (n, guess.text)
    with client(accounts, "127.0.2.1") as fresh:
        locked = fresh.post(LOGIN, json=login_json("redspray", PASSWORD))
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.json()["error"]
    assert locked.headers["Retry-After"].isdigit()


def test_a_flood_of_failed_sign_ins_does_not_bury_the_audit_log(accounts: Stack) -> None:
    """Before, every failed sign-in was an audit row: a flood of them pushed the real events
    out of the admin's view. Now they have their own table, and the view counts them."""
    with client(accounts) as agent:
        assert agent.post(LOGIN, json=login_json("redaudit", PASSWORD)).status_code == 200
    flood = AUDIT_VIEW + 5
    with client(accounts, "127.0.3.1") as attacker:  # its own address: under the HTTP limit
        for n in range(flood):
            name = f"flood-{n}-{secrets.token_hex(4)}"
            assert attacker.post(LOGIN, json=login_json(name, "not it")).status_code == 401
    admin = console_login(accounts, ADMIN)
    try:
        view = admin.get("/agent/api/audit").json()
    finally:
        admin.close()
    assert ("Redaudit", "login") in [(e["agent"], e["action"]) for e in view["entries"]]
    assert all(e["action"] != "login_failed" for e in view["entries"])
    assert view["sign_in_failures"]["unknown_usernames"] >= flood
    assert "flood-" not in str(view)  # names that are no account are not kept


def test_spoofed_x_forwarded_for_does_not_dodge_the_http_rate_limit(accounts: Stack) -> None:
    """A direct client naming a new address in every request is still limited as itself.

    It has to come from 127.0.0.1, the address uvicorn used to trust, so it spends that
    address's budget for everyone: it waits out the window before the next test runs."""
    try:
        with client(accounts) as flooder:
            answers = [
                flooder.get(
                    "/agent/api/me", headers={"X-Forwarded-For": random_address()}
                ).status_code
                for _ in range(HTTP_REQUESTS_PER_MINUTE + 10)
            ]
    finally:
        time.sleep(RATE_WINDOW_S + 1)
    assert 429 in answers
    assert set(answers[answers.index(429) :]) == {429}
