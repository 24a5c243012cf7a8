"""The back office in the console's page, in chromium, on the real app (Rasa's tracker is the
tracker store's rows, tests/web/test_analytics_api.py): a message a shopper leaves reaches a
signed-in agent as a notice (in the page, as a browser notification and with a tone) and in the
support address's outbox; the agent opens its conversation, marks it done, and approves a
review waiting for moderation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from catalog.db import session_scope
from catalog.models import OutboxEmail, Product, Review, SupportMessage
from catalog.outbox import AGENT_NOTICE
from catalog.statuses import InboxStatus, ReviewStatus
from catalog.support import leave_message, store_review
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

if TYPE_CHECKING:
    from playwright.sync_api import Page

LEFT = "c-left"
WORDS = "Please call me about my order, nobody answered"

# Records what the page asks of the browser: notifications shown (as granted) and tones played.
SPY = """
(() => {
  window.__notices = [];
  window.__tones = 0;
  class FakeNotification {
    static permission = "granted";
    static requestPermission() { return Promise.resolve("granted"); }
    constructor(title, options) { window.__notices.push({ title, body: options && options.body }); }
  }
  window.Notification = FakeNotification;
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    window.__tones += 1;
    return start.apply(this, args);
  };
})();
"""


@pytest.mark.live
def test_an_agent_is_told_of_a_left_message_and_works_the_back_office(
    console: Console,  # noqa: F811
    live_console: str,  # noqa: F811
    browser_page: Page,
    page_errors: list[str],
    screenshot: Callable[[Page, str], None],
) -> None:
    from playwright.sync_api import expect

    write_events(
        console.tracker_path,
        {
            LEFT: [
                *session_start(at(D2, 21)),
                user("I want a person", "human_handoff", 0.95, at(D2, 21, 0, 1)),
                bot("Nobody is free right now. Leave us a message?", at(D2, 21, 0, 2)),
                user(WORDS, "leave_message", 0.9, at(D2, 21, 0, 3)),
            ]
        },
    )
    with session_scope(console.db_url) as session:
        product = Product(sku="MUG-1", name="Blue mug", price_cents=1200, url_key="blue-mug")
        session.add(product)
        session.flush()
        store_review(session, product, 5, "Lovely", "Holds a whole pot of tea", "Roni", "c-rev")

    page = browser_page
    page.add_init_script(SPY)
    sign_in_on_page(page, live_console, "anna")
    expect(page.get_by_test_id("inbox-badge")).to_have_text("1")  # the review waiting
    expect(page.locator("#conn-state")).to_have_text("live")

    with session_scope(console.db_url) as session:  # the bot keeps the shopper's message
        leave_message(session, LEFT, "roni@example.com", WORDS)

    toast = page.get_by_test_id("inbox-toast").filter(has_text="left a message")
    expect(toast).to_be_visible()  # pushed by the server's sweep over the console's socket
    expect(page.get_by_test_id("inbox-badge")).to_have_text("2")
    # (the review written before may have had its own notice when the server first looked)
    assert "A shopper left a message for the team" in page.evaluate(
        "() => window.__notices.map(n => n.title)"
    )
    assert page.evaluate("() => window.__tones") >= 1
    screenshot(page, "notice")

    toast.get_by_role("button", name="Open inbox").click()
    expect(page.get_by_test_id("inbox")).to_be_visible()
    item = page.get_by_test_id("inbox-item").filter(has_text=WORDS)
    expect(item).to_have_attribute("data-status", "new")
    expect(item).to_contain_text("roni@example.com")

    item.get_by_test_id("inbox-open-conversation").click()  # the transcript, in the console
    expect(page.get_by_test_id("console-transcript")).to_contain_text("Leave us a message?")
    page.get_by_test_id("console-tab-inbox").click()

    item.get_by_test_id("inbox-set-done").click()
    expect(item).to_have_attribute("data-status", "done")
    expect(page.get_by_test_id("inbox-badge")).to_have_text("1")

    review = page.get_by_test_id("review-item").filter(has_text="Holds a whole pot of tea")
    expect(review).to_contain_text("Blue mug")
    screenshot(page, "inbox")
    review.get_by_test_id("review-approve").click()
    expect(review).to_have_count(0)
    expect(page.get_by_test_id("inbox-badge")).to_have_text("")

    with session_scope(console.db_url) as session:
        assert session.scalars(select(SupportMessage.status)).all() == [InboxStatus.DONE]
        assert session.scalars(select(Review.status)).all() == [ReviewStatus.APPROVED]
        mails = session.scalars(select(OutboxEmail)).all()
    assert {m.kind for m in mails} == {AGENT_NOTICE}
    assert any("left a message" in m.body for m in mails)
    assert not any(WORDS in m.body for m in mails)  # what shoppers write stays in the shop
    assert [e for e in page_errors if not e.endswith("/agent/api/me")] == []  # before sign-in
