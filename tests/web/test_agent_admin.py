"""Agent accounts managed by admins in the console (web/console/agents_admin.py,
web/password_links.py), on the real app over SQLite: the list, adding an agent with an
invitation link, disabling and enabling, password resets with one-time links (used once,
expiring, stored hashed), and the refusals: non-admins 403, changes without the CSRF token
403, an admin disabling themselves 400."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog.db import migrate, session_scope
from catalog.models import Agent, AgentPasswordLink, AuditEntry
from core.clock import utc_now
from web import password_links
from web.app import create_app
from web.auth import MIN_PASSWORD_CHARS, create_agent, token_id
from web.password_links import LINK_VALID_S, SET_PASSWORD_PATH, LinkPurpose
from web.settings import WebSettings

PASSWORD = "a long enough password"
NEW_PASSWORD = "a brand new passphrase"
API = "/agent/api"
GONE = 410


class Shop:
    """The app with an agent (anna) and an admin (root); each `sign_in` on its own client."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
        migrate(self.url)
        with session_scope(self.url) as session:
            self.anna = create_agent(session, "anna", "Anna", PASSWORD).id
            self.root = create_agent(session, "root", "Admin", PASSWORD, role="admin").id
        self.app: Any = create_app(
            WebSettings(rasa_urls=("http://127.0.0.1:9",), rasa_token="unused"), self.url, b"k" * 40
        )

    @contextlib.contextmanager
    def client(self) -> Iterator[TestClient]:
        """A client with cookies of its own. Only the admin's client runs the app's lifespan:
        a second run would start a second sweep on another event loop."""
        yield TestClient(self.app, raise_server_exceptions=False)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(tmp_path)


@pytest.fixture
def admin(shop: Shop) -> Iterator[TestClient]:
    with TestClient(shop.app, raise_server_exceptions=False) as client:
        client.headers.update(sign_in(client, "root"))
        yield client


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    answer = client.post(f"{API}/login", json={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def can_sign_in(shop: Shop, username: str, password: str) -> bool:
    with shop.client() as client:
        return client.post(
            f"{API}/login", json={"username": username, "password": password}
        ).is_success


def token_of(link: dict[str, Any]) -> str:
    path, token = str(link["path"]).split("#", 1)
    assert path == SET_PASSWORD_PATH and token
    return token


def use_link(client: TestClient, token: str, password: str = NEW_PASSWORD) -> Any:
    return client.post(f"{API}/password-link", json={"token": token, "password": password})


def rows(admin: TestClient) -> dict[str, dict[str, Any]]:
    answer = admin.get(f"{API}/agents")
    assert answer.status_code == 200, answer.text
    return {row["username"]: row for row in answer.json()["agents"]}


def audit_actions(shop: Shop) -> list[tuple[str, str]]:
    with session_scope(shop.url) as session:
        return [(e.action, e.detail) for e in session.scalars(select(AuditEntry))]


def test_an_admin_lists_the_accounts_with_their_last_sign_in(shop: Shop, admin: TestClient) -> None:
    listed = rows(admin)
    assert set(listed) == {"anna", "root"}
    assert listed["root"]["role"] == "admin" and listed["root"]["active"] is True
    assert listed["root"]["last_sign_in"] is not None  # signed in just now
    assert listed["anna"]["last_sign_in"] is None
    assert listed["anna"]["display_name"] == "Anna" and listed["anna"]["pending_link"] is None


def test_an_added_agent_sets_a_password_with_the_link_then_signs_in(
    shop: Shop, admin: TestClient
) -> None:
    added = admin.post(
        f"{API}/agents", json={"username": "Ben", "display_name": "Ben", "role": "agent"}
    )
    assert added.status_code == 201, added.text
    assert added.json()["agent"]["username"] == "ben"
    token = token_of(added.json()["link"])
    assert rows(admin)["ben"]["pending_link"]["purpose"] == LinkPurpose.INVITE
    assert not can_sign_in(shop, "ben", PASSWORD)  # no password anybody knows yet

    with shop.client() as agent:
        about = agent.post(f"{API}/password-link/check", json={"token": token})
        assert about.status_code == 200
        assert about.json()["username"] == "ben" and about.json()["purpose"] == "invite"
        short = use_link(agent, token, "short")
        assert short.status_code == 400
        assert f"at least {MIN_PASSWORD_CHARS} characters" in short.json()["error"]
        assert use_link(agent, token).json() == {"username": "ben"}  # still usable after that
        again = use_link(agent, token, "yet another passphrase")
        assert again.status_code == GONE and "already used" in again.json()["error"]
    assert can_sign_in(shop, "ben", NEW_PASSWORD)
    assert not can_sign_in(shop, "ben", "yet another passphrase")
    assert ("create_agent", "ben (agent, console)") in audit_actions(shop)


def test_a_new_account_that_will_not_do_gets_a_sentence(admin: TestClient) -> None:
    taken = admin.post(f"{API}/agents", json={"username": "anna", "display_name": "Anna 2"})
    assert taken.status_code == 400 and "already taken" in taken.json()["error"]
    role = admin.post(
        f"{API}/agents", json={"username": "cy", "display_name": "Cy", "role": "boss"}
    )
    assert role.status_code == 400 and "agent or admin" in role.json()["error"]
    assert set(rows(admin)) == {"anna", "root"}


def test_a_reset_link_sets_a_new_password_once_and_ends_the_old_sessions(
    shop: Shop, admin: TestClient
) -> None:
    with shop.client() as anna:
        sign_in(anna, "anna")
        reset = admin.post(f"{API}/agents/{shop.anna}/password-link")
        assert reset.status_code == 200, reset.text
        token = token_of(reset.json()["link"])
        assert anna.get(f"{API}/me").status_code == 200  # the old password works until then
        assert can_sign_in(shop, "anna", PASSWORD)

        with shop.client() as stranger:
            assert use_link(stranger, token).status_code == 200
        assert anna.get(f"{API}/me").status_code == 401  # signed out everywhere
    assert not can_sign_in(shop, "anna", PASSWORD)
    assert can_sign_in(shop, "anna", NEW_PASSWORD)
    with shop.client() as again:
        used = use_link(again, token, "someone else's password")
        assert used.status_code == GONE and "already used" in used.json()["error"]
    assert can_sign_in(shop, "anna", NEW_PASSWORD)

    actions = audit_actions(shop)
    assert ("password_link", "anna (reset)") in actions
    assert ("password_set", "anna (reset)") in actions
    assert not any(token in detail for _, detail in actions)


def test_only_the_token_s_hash_is_stored_and_a_new_link_replaces_the_old(
    shop: Shop, admin: TestClient
) -> None:
    first = token_of(admin.post(f"{API}/agents/{shop.anna}/password-link").json()["link"])
    second = token_of(admin.post(f"{API}/agents/{shop.anna}/password-link").json()["link"])
    with session_scope(shop.url) as session:
        stored = session.scalars(select(AgentPasswordLink.token_hash)).all()
    assert stored == [token_id(second)]
    with shop.client() as client:
        old = use_link(client, first)
        assert old.status_code == GONE and "not valid" in old.json()["error"]
        assert use_link(client, second).status_code == 200


def test_an_expired_link_is_refused(shop: Shop) -> None:
    long_ago = utc_now() - timedelta(seconds=LINK_VALID_S + 60)
    with session_scope(shop.url) as session:
        anna = session.get(Agent, shop.anna)
        assert anna is not None
        token = password_links.issue_link(session, anna, LinkPurpose.RESET, None, long_ago).token
    with shop.client() as client:
        check = client.post(f"{API}/password-link/check", json={"token": token})
        assert check.status_code == GONE and "expired" in check.json()["error"]
        assert use_link(client, token).status_code == GONE
    assert can_sign_in(shop, "anna", PASSWORD)


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 5000])
def test_an_unknown_link_is_refused_politely(shop: Shop, token: str) -> None:
    with shop.client() as client:
        answer = use_link(client, token)
        assert answer.status_code in {GONE, 413}
        assert set(answer.json()) == {"error"}


def test_a_link_is_taken_only_as_json(shop: Shop, admin: TestClient) -> None:
    token = token_of(admin.post(f"{API}/agents/{shop.anna}/password-link").json()["link"])
    with shop.client() as client:
        form = client.post(f"{API}/password-link", data={"token": token, "password": NEW_PASSWORD})
        assert form.status_code == 415
    assert can_sign_in(shop, "anna", PASSWORD)


def test_a_disabled_agent_is_signed_out_and_refused_until_enabled(
    shop: Shop, admin: TestClient
) -> None:
    with shop.client() as anna:
        sign_in(anna, "anna")
        disabled = admin.post(f"{API}/agents/{shop.anna}/disable")
        assert disabled.status_code == 200 and disabled.json()["agent"]["active"] is False
        assert anna.get(f"{API}/me").status_code == 401
    assert not can_sign_in(shop, "anna", PASSWORD)
    refused = admin.post(f"{API}/agents/{shop.anna}/password-link")
    assert refused.status_code == 400 and "enable the account first" in refused.json()["error"]

    assert admin.post(f"{API}/agents/{shop.anna}/enable").json()["agent"]["active"] is True
    assert can_sign_in(shop, "anna", PASSWORD)
    actions = audit_actions(shop)
    assert ("disable_agent", "anna (console)") in actions
    assert ("enable_agent", "anna (console)") in actions


def test_a_link_made_before_disabling_does_not_work_after(shop: Shop, admin: TestClient) -> None:
    token = token_of(admin.post(f"{API}/agents/{shop.anna}/password-link").json()["link"])
    admin.post(f"{API}/agents/{shop.anna}/disable")
    with shop.client() as client:
        assert use_link(client, token).status_code == GONE
    admin.post(f"{API}/agents/{shop.anna}/enable")
    with shop.client() as client:
        assert use_link(client, token).status_code == GONE
    assert can_sign_in(shop, "anna", PASSWORD)


def test_an_admin_cannot_disable_themselves(shop: Shop, admin: TestClient) -> None:
    answer = admin.post(f"{API}/agents/{shop.root}/disable")
    assert answer.status_code == 400 and "your own account" in answer.json()["error"]
    assert rows(admin)["root"]["active"] is True


def test_the_last_active_admin_cannot_be_disabled(shop: Shop) -> None:
    """Another path to it than the console's own account (two admins, one disabled from the
    command line meanwhile): auth.disable_agent's rule still holds."""
    with session_scope(shop.url) as session:
        other = create_agent(session, "root2", "Admin 2", PASSWORD, role="admin")
        root = session.get(Agent, shop.root)
        assert root is not None
        root.active = False
        session.flush()
        with pytest.raises(ValueError, match="last active admin"):
            password_links.set_active(session, other.id, False, root)


def test_an_unknown_account_is_a_404(admin: TestClient) -> None:
    answer = admin.post(f"{API}/agents/999/disable")
    assert answer.status_code == 404 and set(answer.json()) == {"error"}


@pytest.mark.parametrize("agent", ["999999999999999999999", "0", "-1"])
@pytest.mark.parametrize("change", ["disable", "enable", "password-link"])
def test_a_number_no_account_can_have_is_refused_without_reaching_the_database(
    admin: TestClient, agent: str, change: str
) -> None:
    answer = admin.post(f"{API}/agents/{agent}/{change}")
    assert 400 <= answer.status_code < 500, answer.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/agents", None),
        ("POST", "/agents", {"username": "cy", "display_name": "Cy"}),
        ("POST", "/agents/{root}/disable", None),
        ("POST", "/agents/{root}/enable", None),
        ("POST", "/agents/{root}/password-link", None),
    ],
)
def test_an_agent_who_is_no_admin_gets_403(
    shop: Shop, method: str, path: str, body: dict[str, str] | None
) -> None:
    with shop.client() as anna:
        headers = sign_in(anna, "anna")
        url = API + path.format(root=shop.root)
        answer = anna.request(method, url, json=body, headers=headers)
        assert answer.status_code == 403 and "Only an admin" in answer.json()["error"]
    assert can_sign_in(shop, "root", PASSWORD)


@pytest.mark.parametrize(
    "path", ["/agents", "/agents/{anna}/disable", "/agents/{anna}/password-link"]
)
def test_a_change_without_the_csrf_token_is_refused(shop: Shop, path: str) -> None:
    with shop.client() as client:
        sign_in(client, "root")  # the cookie, but no X-CSRF-Token header
        answer = client.post(
            API + path.format(anna=shop.anna), json={"username": "cy", "display_name": "Cy"}
        )
        assert answer.status_code == 403 and "CSRF" in answer.json()["error"]
    assert can_sign_in(shop, "anna", PASSWORD)
    with session_scope(shop.url) as session:
        assert session.scalar(select(Agent).where(Agent.username == "cy")) is None
        assert session.scalar(select(AgentPasswordLink)) is None


def test_the_link_page_is_served_under_the_page_headers(shop: Shop) -> None:
    with shop.client() as client:
        page = client.get(SET_PASSWORD_PATH)
    assert page.status_code == 200 and "Set your password" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
