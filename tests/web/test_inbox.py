"""The console's back office API (web/console/inbox.py): the inbox and review moderation behind
the console's sign-in and CSRF check, every change audited, and the watcher that tells agents
and the support address what arrived."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from catalog import handoffs
from catalog.db import session_scope
from catalog.models import AuditEntry, OutboxEmail, Product
from catalog.outbox import AGENT_NOTICE
from catalog.statuses import InboxStatus, ReviewStatus
from catalog.support import leave_message, record_complaint, store_review
from tests.web.test_analytics_api import Console, console, sign_in  # noqa: F401 (fixture)
from web.console.inbox import AuditAction, InboxWatcher

INBOX = "/agent/api/inbox"
PENDING = "/agent/api/reviews/pending"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SUPPORT = "support@shop.example"


@pytest.fixture
def client(console: Console) -> Iterator[TestClient]:  # noqa: F811
    with session_scope(console.db_url) as session:
        leave_message(session, "chat-msg", "roni@example.com", "Please call me", now=NOW)
        record_complaint(session, "chat-cmp", "The parcel was wet", now=NOW + timedelta(minutes=1))
        product = Product(sku="MUG-1", name="Blue mug", price_cents=1200, url_key="blue-mug")
        session.add(product)
        session.flush()
        store_review(session, product, 5, "Lovely", "Holds a lot", "Roni", "chat-rev", NOW)
    with TestClient(console.app, raise_server_exceptions=False) as test_client:
        yield test_client


def status_path(kind: str, number: int | str) -> str:
    return f"{INBOX}/{kind}/{number}/status"


def audit_rows(console: Console) -> list[tuple[str, str | None, str]]:  # noqa: F811
    with session_scope(console.db_url) as session:
        return [
            (e.action, e.conversation_id, e.detail)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action not in ("login", "read_transcript")
        ]


def test_the_inbox_needs_a_signed_in_agent(client: TestClient) -> None:
    for path in (INBOX, PENDING):
        refused = client.get(path)
        assert refused.status_code == 401 and refused.json() == {"error": "Please sign in."}
    assert client.post(status_path("message", 1), json={"status": "done"}).status_code == 401
    assert (
        client.post("/agent/api/reviews/1/moderate", json={"decision": "approve"}).status_code
        == 401
    )


def test_an_agent_lists_the_inbox_newest_first_with_the_counts(client: TestClient) -> None:
    sign_in(client, "anna")
    answer = client.get(INBOX).json()
    assert [(i["kind"], i["status"], i["conversation_id"]) for i in answer["items"]] == [
        ("complaint", "new", "chat-cmp"),
        ("message", "new", "chat-msg"),
    ]
    assert answer["items"][1]["text"] == "Please call me"
    assert answer["counts"] == {"message": 1, "complaint": 1, "return": 0, "review": 1}


def test_the_inbox_filters_by_kind_and_status(client: TestClient) -> None:
    sign_in(client, "root")  # admins see the inbox too
    only = client.get(INBOX, params={"kind": "message"}).json()["items"]
    assert [i["kind"] for i in only] == ["message"]
    assert client.get(INBOX, params={"status": "done"}).json()["items"] == []
    wrong = client.get(INBOX, params={"kind": "parcel"})
    assert wrong.status_code == 400 and "message, complaint, return" in wrong.json()["error"]
    odd = client.get(INBOX, params={"status": "closed"})
    assert odd.status_code == 400 and "new, in_progress, done" in odd.json()["error"]


def test_changing_a_status_is_audited(client: TestClient, console: Console) -> None:  # noqa: F811
    headers = sign_in(client, "anna")
    number = client.get(INBOX, params={"kind": "message"}).json()["items"][0]["id"]
    answer = client.post(
        status_path("message", number), json={"status": "in_progress"}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["item"]["status"] == InboxStatus.IN_PROGRESS
    done = client.post(status_path("message", number), json={"status": "done"}, headers=headers)
    assert done.json()["counts"]["message"] == 0
    assert [i["kind"] for i in client.get(INBOX, params={"status": "done"}).json()["items"]] == [
        "message"
    ]
    assert audit_rows(console) == [
        (AuditAction.INBOX_STATUS, "chat-msg", f"message {number}: new -> in_progress"),
        (AuditAction.INBOX_STATUS, "chat-msg", f"message {number}: in_progress -> done"),
    ]


def test_a_change_without_the_csrf_token_is_refused(
    client: TestClient,
    console: Console,  # noqa: F811
) -> None:
    sign_in(client, "anna")
    refused = client.post(status_path("message", 1), json={"status": "done"})
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]
    wrong = client.post(
        "/agent/api/reviews/1/moderate", json={"decision": "approve"}, headers={"X-CSRF-Token": "x"}
    )
    assert wrong.status_code == 403
    assert audit_rows(console) == []


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        (status_path("message", 999), {"status": "done"}, 404, "no message 999"),
        (status_path("message", "1x"), {"status": "done"}, 400, "its number"),
        (status_path("parcel", 1), {"status": "done"}, 400, "these kinds"),
        (status_path("message", 1), {"status": "closed"}, 400, "Choose a status"),
        (status_path("message", 1), {}, 400, "Choose a status"),
        ("/agent/api/reviews/1/moderate", {"decision": "maybe"}, 400, "approve, reject"),
        ("/agent/api/reviews/999/moderate", {"decision": "approve"}, 404, "no review 999"),
    ],
)
def test_a_wrong_request_gets_a_sentence(
    client: TestClient, path: str, body: dict[str, str], status: int, says: str
) -> None:
    answer = client.post(path, json=body, headers=sign_in(client, "anna"))
    assert answer.status_code == status
    assert set(answer.json()) == {"error"} and says in answer.json()["error"]


def test_an_agent_approves_a_pending_review(client: TestClient, console: Console) -> None:  # noqa: F811
    headers = sign_in(client, "anna")
    [review] = client.get(PENDING).json()["reviews"]
    assert (review["product_name"], review["text"], review["rating"]) == (
        "Blue mug",
        "Holds a lot",
        5,
    )
    path = f"/agent/api/reviews/{review['id']}/moderate"
    answer = client.post(path, json={"decision": "approve"}, headers=headers)
    assert answer.json() == {"review": {"id": review["id"], "status": ReviewStatus.APPROVED}}
    assert client.get(PENDING).json()["reviews"] == []
    late = client.post(path, json={"decision": "reject"}, headers=headers)
    assert late.status_code == 409 and "already been approved" in late.json()["error"]
    assert audit_rows(console) == [
        (AuditAction.REVIEW_APPROVE, "chat-rev", f"review {review['id']}")
    ]


def test_the_watcher_tells_each_arrival_once_and_mails_it_once(console: Console) -> None:  # noqa: F811
    first, second = InboxWatcher(lambda: SUPPORT), InboxWatcher(lambda: SUPPORT)
    with session_scope(console.db_url) as session:
        start = first.look(session)
    assert start.notices == []  # nothing arrived since the migration
    first.seen = second.seen = start.newest  # two processes that both looked
    with session_scope(console.db_url) as session:
        leave_message(session, "chat-new", None, "Anyone there?", now=NOW)
        handoffs.request(session, "chat-wait", "asked for a person", now=NOW)
    with session_scope(console.db_url) as session:
        look = first.look(session)
    first.seen = look.newest
    assert sorted(n.kind for n in look.notices) == ["handoff", "message"]
    assert look.counts["message"] == 1
    with session_scope(console.db_url) as session:
        assert first.look(session).notices == []  # told already
        other = second.look(session)  # the other process tells its consoles, mails nothing
    assert sorted(n.kind for n in other.notices) == ["handoff", "message"]
    with session_scope(console.db_url) as session:
        mails = session.scalars(select(OutboxEmail)).all()
    assert [(m.kind, m.to_address) for m in mails] == [(AGENT_NOTICE, SUPPORT)]
    assert "waiting for a person" in mails[0].body and "Anyone there?" not in mails[0].body
