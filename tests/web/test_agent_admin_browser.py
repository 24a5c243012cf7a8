"""Agent accounts in chromium (web/static/console/agents.js, web/static/set-password.js): an
admin resets an agent's password in the console, the agent follows the one-time link, sets a
new password and signs in with it; the admin disables the agent, who then cannot sign in.
The real app is served by uvicorn (tests/web/test_analytics_api.py's fixtures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tests.web.test_analytics_api import (  # noqa: F401 (fixtures)
    Console,
    console,
    live_console,
    sign_in_on_page,
)
from web.password_links import SET_PASSWORD_PATH

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

NEW_PASSWORD = "correct horse battery staple"
WRONG_PASSWORD = "That username and password do not match an active agent account."


def sign_in_as(page: Page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/agent/")
    page.get_by_test_id("console-username").fill(username)
    page.get_by_test_id("console-password").fill(password)
    page.get_by_test_id("console-signin").click()


@pytest.mark.live
def test_an_admin_resets_a_password_and_disables_an_agent(
    console: Console,  # noqa: F811
    live_console: str,  # noqa: F811
    browser: Browser,
    browser_page: Page,
    page_errors: list[str],
    screenshot: Callable[[Page, str], None],
) -> None:
    from playwright.sync_api import expect

    admin = browser_page
    sign_in_on_page(admin, live_console, "root")
    admin.get_by_test_id("console-tab-agents").click()
    anna = admin.locator('[data-testid="agents-row"][data-username="anna"]')
    expect(anna).to_contain_text("Anna")
    expect(anna.get_by_test_id("agents-status")).to_have_text("active")
    own = admin.locator('[data-testid="agents-row"][data-username="root"]')
    expect(own.get_by_test_id("agents-disable")).to_be_disabled()

    anna.get_by_test_id("agents-reset").click()
    expect(admin.get_by_test_id("agents-link-box")).to_contain_text("password reset link for Anna")
    link = admin.get_by_test_id("agents-link").input_value()
    assert link.startswith(f"{live_console}{SET_PASSWORD_PATH}#")
    screenshot(admin, "link")

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        agent = context.new_page()
        agent.goto(link)
        expect(agent.get_by_test_id("link-who")).to_contain_text("Anna (anna)")
        assert "#" not in agent.url  # the token leaves the address bar and the history
        agent.get_by_test_id("link-password").fill(NEW_PASSWORD)
        agent.get_by_test_id("link-password-again").fill(NEW_PASSWORD)
        agent.get_by_test_id("link-submit").click()
        expect(agent.get_by_test_id("link-done")).to_contain_text("anna")
        screenshot(agent, "password-set")
        agent.get_by_test_id("link-sign-in").click()
        sign_in_as(agent, live_console, "anna", NEW_PASSWORD)
        expect(agent.get_by_test_id("console-agent-name")).to_have_text("Anna")
        expect(agent.get_by_test_id("console-tab-agents")).to_be_hidden()  # not an admin

        # the link was used: opening it again says so, and sets nothing
        agent.goto(link)
        expect(agent.get_by_test_id("link-error")).to_contain_text("already used")
        expect(agent.get_by_test_id("link-form")).to_be_hidden()
    finally:
        context.close()

    anna.get_by_test_id("agents-disable").click()
    expect(anna.get_by_test_id("agents-status")).to_have_text("disabled")
    expect(anna.get_by_test_id("agents-enable")).to_be_visible()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        refused = context.new_page()
        sign_in_as(refused, live_console, "anna", NEW_PASSWORD)
        expect(refused.get_by_test_id("console-error")).to_have_text(WRONG_PASSWORD)
        expect(refused.get_by_test_id("console-agent-name")).to_be_hidden()
    finally:
        context.close()

    # before sign-in, GET me answers 401: the admin page's only failed request
    assert [e for e in page_errors if not e.endswith("/agent/api/me")] == []


@pytest.mark.live
def test_an_admin_adds_an_agent_who_sets_a_password_with_the_link(
    console: Console,  # noqa: F811
    live_console: str,  # noqa: F811
    browser: Browser,
    browser_page: Page,
    page_errors: list[str],
) -> None:
    from playwright.sync_api import expect

    admin = browser_page
    sign_in_on_page(admin, live_console, "root", "#agents")
    admin.get_by_test_id("agents-add-username").fill("ben")
    admin.get_by_test_id("agents-add-name").fill("Ben")
    admin.get_by_test_id("agents-add").click()
    expect(admin.get_by_test_id("agents-link-box")).to_contain_text("invitation link for Ben")
    ben = admin.locator('[data-testid="agents-row"][data-username="ben"]')
    expect(ben.get_by_test_id("agents-status")).to_have_text("invited")
    link = admin.get_by_test_id("agents-link").input_value()

    context = browser.new_context()
    try:
        agent = context.new_page()
        agent.goto(link)
        expect(agent.get_by_test_id("link-who")).to_contain_text("Welcome")
        agent.get_by_test_id("link-password").fill(NEW_PASSWORD)
        agent.get_by_test_id("link-password-again").fill("not the same one")
        agent.get_by_test_id("link-submit").click()
        expect(agent.get_by_test_id("link-error")).to_contain_text("not the same")
        agent.get_by_test_id("link-password-again").fill(NEW_PASSWORD)
        agent.get_by_test_id("link-submit").click()
        expect(agent.get_by_test_id("link-done")).to_contain_text("ben")
        sign_in_as(agent, live_console, "ben", NEW_PASSWORD)
        expect(agent.get_by_test_id("console-agent-name")).to_have_text("Ben")
    finally:
        context.close()
    assert [e for e in page_errors if not e.endswith("/agent/api/me")] == []
