"""The agent console's page (web/static/console.js and its modules) in chromium, on the real
app without Rasa: Rasa's tracker is an in-memory stand-in over the tracker store's rows, so an
agent can work a conversation end to end (queue, open, take, reply, note, hand back) and the
page's ES modules load under the server's CSP without a console error."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from catalog import handoffs
from catalog.db import session_scope
from tests.web.test_analytics_api import (  # noqa: F401 (fixtures)
    D2,
    Console,
    at,
    bot,
    console,
    live_console,
    session_start,
    sign_in_on_page,
    user,
    write_events,
)
from web.rasa_client import RasaClient

if TYPE_CHECKING:
    from playwright.sync_api import Page

CONVERSATION = "c-help"
REASON = "asked for a person"


@pytest.fixture
def rasa_double(console: Console, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:  # noqa: F811
    """Rasa's API as far as the console uses it: the tracker is the tracker store's rows
    (Console), and the events the app appends go there, as Rasa would write them; each
    conversation's appended events are also kept here."""
    appended: dict[str, list[Any]] = {}

    async def append_events(client: RasaClient, sender: str, events: list[dict[str, Any]]) -> None:
        stamped = [{"timestamp": time.time(), **event} for event in events]
        appended.setdefault(sender, []).extend(stamped)
        write_events(console.tracker_path, {sender: stamped})

    monkeypatch.setattr(RasaClient, "append_events", append_events)
    return appended


def test_an_agent_works_a_conversation_in_the_console(
    console: Console,  # noqa: F811
    rasa_double: dict[str, list[Any]],
    live_console: str,  # noqa: F811
    browser_page: Page,
    page_errors: list[str],
    screenshot: Callable[[Page, str], None],
) -> None:
    from playwright.sync_api import expect

    write_events(
        console.tracker_path,
        {
            CONVERSATION: [
                *session_start(at(D2, 10)),
                user(
                    "Where is my parcel? A person please", "human_handoff", 0.93, at(D2, 10, 0, 1)
                ),
                bot("Let me find someone from the team.", at(D2, 10, 0, 2)),
            ]
        },
    )
    with session_scope(console.db_url) as session:
        handoffs.request(session, CONVERSATION, REASON)

    page = browser_page
    sign_in_on_page(page, live_console, "anna")
    entry = page.locator(
        f'[data-testid="console-queue-entry"][data-conversation-id="{CONVERSATION}"]'
    )
    expect(entry).to_contain_text(REASON)
    expect(entry).to_contain_text("Waiting")
    entry.click()

    transcript = page.get_by_test_id("console-transcript")
    expect(transcript).to_contain_text("Where is my parcel?")
    expect(page.locator("#conv-status")).to_contain_text("Waiting for an agent")
    expect(page.get_by_test_id("console-reply-input")).to_be_disabled()

    page.get_by_test_id("console-take").click()
    expect(page.locator("#conv-status")).to_contain_text("Taken by you")
    expect(transcript).to_contain_text("I'm reading our chat now")  # the greeting, told Rasa

    reply = page.get_by_test_id("console-reply-input")
    expect(reply).to_be_enabled()
    reply.fill("Your parcel left our warehouse today.")
    reply.press("Enter")
    expect(transcript).to_contain_text("Your parcel left our warehouse today.")
    expect(reply).to_have_value("")

    note = page.get_by_test_id("console-note-input")
    note.fill("Asked twice; prefers e-mail.")
    page.get_by_test_id("console-note-add").click()
    expect(page.locator("#notes")).to_contain_text("Asked twice; prefers e-mail.")
    screenshot(page, "taken")

    page.get_by_test_id("console-hand-back").click()
    expect(page.locator("#conv-status")).to_contain_text("Handed back to the bot")
    expect(entry).to_have_count(0)  # out of the queue
    told = [e.get("text") for e in rasa_double[CONVERSATION] if e.get("event") == "bot"]
    assert told[1] == "Your parcel left our warehouse today."
    assert "handed you back" in str(told[-1])

    # before sign-in, GET me answers 401: the page's only failed request
    assert [e for e in page_errors if not e.endswith("/agent/api/me")] == []

    page.get_by_test_id("console-signout").click()
    expect(page.get_by_test_id("console-signin")).to_be_visible()
    expect(page.get_by_test_id("console-error")).to_have_text("")  # a late answer says nothing
    expect(page.get_by_test_id("console-queue")).to_be_hidden()
