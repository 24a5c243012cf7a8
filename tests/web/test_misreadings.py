"""Marking a misread shopper message in the console: POST/DELETE
/agent/api/conversations/{id}/corrections, GET /agent/api/intents, and the verdicts in the
conversation's answer; on the real app with SQLite, the text always from the tracker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog.db import session_scope
from catalog.models import AuditEntry, NluCorrection
from tests.web.test_analytics_api import (
    D1,
    Console,
    at,
    bot,
    session_start,
    sign_in,
    sign_in_on_page,
    user,
    write_events,
)
from web.console import misreadings
from web.messages import conversation_messages

if TYPE_CHECKING:
    from playwright.sync_api import Page

# live_console (the app in uvicorn, for the browser) comes with its module's fixtures
from tests.web.test_analytics_api import console, live_console  # noqa: F401

MAIL_TEXT = "my email is ann.shopper@example.com, where is my parcel?"


def misread_conversation() -> list[dict[str, Any]]:
    """seq 0: the shopper, misread as check_invoice; 1: the bot; 2: a rating button;
    3: the bot; 4: an agent."""
    return [
        *session_start(at(D1, 11)),
        user(MAIL_TEXT, "check_invoice", 0.41, at(D1, 11, 0, 1.25)),
        bot("Here is how to get your invoice.", at(D1, 11, 0, 1.5)),
        user("/rate_conversation", "rate_conversation", 1.0, at(D1, 11, 1), display_text="2"),
        bot("Thank you!", at(D1, 11, 1, 0.2)),
        bot("Hi, I'm Anna from the support team.", at(D1, 11, 2), agent_name="Anna"),
    ]


@pytest.fixture
def client(console: Console) -> Iterator[TestClient]:  # noqa: F811
    write_events(console.tracker_path, {"c-mail": misread_conversation()})
    with TestClient(console.app, raise_server_exceptions=False) as test_client:
        yield test_client


def stored(console: Console) -> list[NluCorrection]:  # noqa: F811
    with session_scope(console.db_url) as session:
        return list(session.scalars(select(NluCorrection)))


def audit_actions(console: Console) -> list[tuple[str, str | None, str]]:  # noqa: F811
    with session_scope(console.db_url) as session:
        return [
            (e.action, e.conversation_id, e.detail)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action.endswith("misread")
        ]


MARK = "/agent/api/conversations/c-mail/corrections"


def test_an_agent_marks_a_misread_message_and_the_text_is_stored_redacted(
    client: TestClient,
    console: Console,  # noqa: F811
) -> None:
    csrf = sign_in(client, "anna")  # any agent, not only admins
    answer = client.post(MARK, json={"seq": 0, "intent": "track_order"}, headers=csrf)
    assert answer.status_code == 200, answer.text
    correction = answer.json()["correction"]
    assert correction["seq"] == 0
    assert correction["intent"] == "track_order"
    assert correction["predicted_intent"] == "check_invoice"
    assert correction["is_new_intent"] is False
    assert correction["agent"] == "Anna"

    [row] = stored(console)
    assert row.conversation_id == "c-mail"
    assert row.message_at == at(D1, 11, 0, 1.25)  # the shopper event's tracker timestamp
    assert "ann.shopper@example.com" not in row.text
    assert row.text == "my email is <EMAIL>, where is my parcel?"
    assert (row.predicted_intent, row.correct_intent) == ("check_invoice", "track_order")
    assert audit_actions(console) == [
        ("mark_misread", "c-mail", "message 0: check_invoice -> track_order")
    ]


def test_the_text_comes_from_the_tracker_never_from_the_client(
    client: TestClient,
    console: Console,  # noqa: F811
) -> None:
    csrf = sign_in(client, "anna")
    body = {"seq": 0, "intent": "track_order", "text": "injected", "predicted_intent": "x"}
    assert client.post(MARK, json=body, headers=csrf).status_code == 200
    [row] = stored(console)
    assert "injected" not in row.text
    assert row.predicted_intent == "check_invoice"


def test_marking_again_replaces_the_earlier_verdict(
    client: TestClient,
    console: Console,  # noqa: F811
) -> None:
    csrf = sign_in(client, "anna")
    client.post(MARK, json={"seq": 0, "intent": "track_order"}, headers=csrf)
    csrf = sign_in(client, "root")
    answer = client.post(MARK, json={"seq": 0, "new_intent": " Parcel_Whereabouts "}, headers=csrf)
    assert answer.status_code == 200, answer.text
    [row] = stored(console)
    assert (row.correct_intent, row.is_new_intent) == ("parcel_whereabouts", True)
    assert answer.json()["correction"]["agent"] == "Admin"
    assert [detail for _, _, detail in audit_actions(console)] == [
        "message 0: check_invoice -> track_order",
        "message 0: check_invoice -> parcel_whereabouts (new intent)",
    ]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"seq": 1, "intent": "track_order"}, "Only a shopper's message can be marked"),
        ({"seq": 4, "intent": "track_order"}, "written by the agent"),
        ({"seq": 2, "intent": "track_order"}, "was a button press"),
        ({"seq": 99, "intent": "track_order"}, "has no message number 99"),
        ({"seq": "0", "intent": "track_order"}, "Say which message you mean"),
        ({"seq": True, "intent": "track_order"}, "Say which message you mean"),
        ({"intent": "track_order"}, "Say which message you mean"),
        ({"seq": 0, "intent": "teleport_me"}, "not one the bot knows"),
        ({"seq": 0, "intent": "rate_conversation"}, "not one the bot knows"),
        ({"seq": 0, "intent": ["track_order"]}, "not one the bot knows"),
        ({"seq": 0, "new_intent": "Gift wrapping!"}, "A new intent name has 3 to 64 characters"),
        ({"seq": 0, "new_intent": "gw"}, "A new intent name has 3 to 64 characters"),
        ({"seq": 0, "new_intent": "track_order"}, "already exists: please pick it from the list"),
        ({"seq": 0, "new_intent": "handoff_timeout"}, "the bot's own intent"),
        ({"seq": 0}, "Choose the right intent from the list, or type a new intent name"),
        ({"seq": 0, "intent": "track_order", "new_intent": "x_y_z"}, "one of the two"),
        ({"seq": 0, "intent": "check_invoice"}, "already read this message as check_invoice"),
    ],
)
def test_a_wrong_mark_is_refused_politely(
    client: TestClient,
    console: Console,  # noqa: F811
    body: dict[str, Any],
    says: str,
) -> None:
    csrf = sign_in(client, "anna")
    answer = client.post(MARK, json=body, headers=csrf)
    assert answer.status_code == 400
    assert says in answer.json()["error"]
    assert stored(console) == []
    assert audit_actions(console) == []


def test_a_mark_needs_a_session_the_csrf_header_and_a_json_object(
    client: TestClient,
    console: Console,  # noqa: F811
) -> None:
    body = {"seq": 0, "intent": "track_order"}
    client.cookies.clear()
    assert client.post(MARK, json=body).status_code == 401
    csrf = sign_in(client, "anna")
    refused = client.post(MARK, json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["error"]
    assert client.post(MARK, json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert client.post(MARK, content=b"{", headers=csrf).status_code == 400
    assert client.post(MARK, json=[0], headers=csrf).status_code == 400
    assert stored(console) == []


def test_the_conversation_answer_says_how_the_bot_read_and_what_was_marked(
    client: TestClient,
) -> None:
    csrf = sign_in(client, "anna")
    before = client.get("/agent/api/conversations/c-mail").json()
    assert before["corrections"] == []
    first = before["messages"][0]
    assert (first["sender"], first["intent"], first["confidence"]) == (
        "user",
        "check_invoice",
        0.41,
    )

    client.post(MARK, json={"seq": 0, "new_intent": "parcel_whereabouts"}, headers=csrf)
    after = client.get("/agent/api/conversations/c-mail").json()
    assert after["corrections"] == [
        {"seq": 0, "intent": "parcel_whereabouts", "is_new_intent": True, "agent": "Anna"}
    ]
    other = client.get("/agent/api/conversations/c-ok").json()
    assert other["corrections"] == []


def test_a_mark_can_be_undone(client: TestClient, console: Console) -> None:  # noqa: F811
    csrf = sign_in(client, "anna")
    client.post(MARK, json={"seq": 0, "intent": "track_order"}, headers=csrf)
    assert client.delete(f"{MARK}/0").status_code == 403  # no CSRF header
    assert client.delete(f"{MARK}/0", headers=csrf).status_code == 200
    assert stored(console) == []
    again = client.delete(f"{MARK}/0", headers=csrf)
    assert again.status_code == 404
    assert "not marked" in again.json()["error"]
    assert client.delete(f"{MARK}/zero", headers=csrf).status_code == 400
    assert client.delete(f"{MARK}/²", headers=csrf).status_code == 400
    assert client.delete(f"{MARK}/1", headers=csrf).status_code == 400  # the bot's message
    assert [action for action, _, _ in audit_actions(console)] == ["mark_misread", "unmark_misread"]


def test_the_intents_an_agent_may_choose(client: TestClient) -> None:
    client.cookies.clear()
    assert client.get("/agent/api/intents").status_code == 401
    sign_in(client, "anna")
    intents = client.get("/agent/api/intents").json()["intents"]
    assert intents == sorted(intents)
    assert {"track_order", "greet", "search_product", "contact_human_agent"} <= set(intents)
    assert not {"rate_conversation", "handoff_timeout", "classifier_unavailable"} & set(intents)


def test_messages_are_numbered_as_the_console_numbers_them() -> None:
    events = [
        *misread_conversation(),
        {"event": "bot", "timestamp": 1.0, "text": "", "data": {}},  # nothing shown: no seq
        {"event": "slot", "timestamp": 1.0, "name": "x", "value": 1},
        user("thanks", "thanks", 0.9, at(D1, 11, 3)),
    ]
    numbered = [message for message, _ in misreadings.numbered_events(events)]
    assert numbered == conversation_messages(events, with_intents=True)


def test_the_servers_own_messages_cannot_be_marked() -> None:
    timed_out = user("EXTERNAL: handoff_timeout", "handoff_timeout", 1.0, 5.0, is_external=True)
    events = [*misread_conversation(), timed_out, bot("Shall we go on?", 6.0)]
    assert misreadings.markable(events) == {0}
    with pytest.raises(misreadings.CorrectionError, match="sent by the shop's server"):
        misreadings.shopper_message(events, 5)


def test_a_domain_intent_may_carry_options(tmp_path: Any) -> None:
    domain = tmp_path / "domain.yml"
    domain.write_text(
        "intents:\n  - greet\n  - track_order:\n      use_entities: []\n  - handoff_timeout\n"
    )
    assert misreadings.choosable_intents(domain) == ["greet", "track_order"]
    with pytest.raises(misreadings.CorrectionError, match="cannot be read"):
        misreadings.choosable_intents(tmp_path / "missing.yml")


# ---------------------------------------------------------------- in chromium


def test_an_agent_marks_a_misread_message_in_the_transcript(
    console: Console,  # noqa: F811
    live_console: str,  # noqa: F811
    browser_page: Page,
    page_errors: list[str],
    screenshot: Callable[[Page, str], None],
) -> None:
    from playwright.sync_api import expect

    write_events(console.tracker_path, {"c-mail": misread_conversation()})
    page = browser_page
    sign_in_on_page(page, live_console, "anna", "#c=c-mail")
    transcript = page.get_by_test_id("console-transcript")
    shopper = transcript.locator('[data-seq="0"]')
    expect(shopper.get_by_test_id("console-intent")).to_have_text("read as check_invoice · 41 %")
    # the control sits on the bot's answer; only there (not on the agent's, the button's)
    expect(transcript.get_by_test_id("console-misread")).to_have_count(1)
    toggle = transcript.locator('[data-seq="1"]').get_by_test_id("console-misread")

    toggle.focus()
    page.keyboard.press("Enter")  # keyboard only
    expect(toggle).to_have_attribute("aria-expanded", "true")
    choose = page.get_by_test_id("console-misread-intent")
    expect(choose).to_be_enabled()
    expect(choose).to_be_focused()
    choose.select_option("track_order")
    screenshot(page, "choosing")
    page.get_by_test_id("console-misread-save").press("Enter")

    marked = shopper.get_by_test_id("console-marked")
    expect(marked).to_contain_text("marked: track_order")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    screenshot(page, "marked")
    [row] = stored(console)
    assert row.correct_intent == "track_order"

    marked.get_by_test_id("console-marked-undo").click()
    expect(marked).to_be_hidden()
    assert stored(console) == []
    assert [e for e in page_errors if not e.endswith("/agent/api/me")] == []  # before sign-in
