"""Shoppers' data: export, erasure and transcript retention, over the demo order book and a
real Rasa tracker store (the `events` table as Rasa 3.6 makes it) built here."""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import (
    MetaData,
    String,
    Table,
    create_engine,
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from catalog import handoffs, subjects
from catalog.db import migrate, session_scope
from catalog.demo.order_book import generate_order_book
from catalog.luma import import_luma
from catalog.models import (
    Agent,
    AgentNote,
    AuditEntry,
    Complaint,
    ConversationSubject,
    Customer,
    ErasureRequest,
    Handoff,
    NewsletterConfirmation,
    NewsletterSubscriber,
    NluCorrection,
    Order,
    OutboxEmail,
    Product,
    Review,
    SupportMessage,
)
from catalog.settings import LUMA_DATA_DIR
from catalog.support import (
    leave_message,
    record_complaint,
    request_erasure,
    store_review,
)
from launcher import privacy as cli
from learning.corrections import CORRECTIONS_HEADER, nlu_yaml
from learning.forget import LearningFiles, story_digest, training_data_forgetter
from nlu_models.data import Example, read_nlu_file
from privacy.conversations import tracker_conversations
from privacy.erasure import erase_shopper, pending_erasures, preview_erasure
from privacy.export import export_shopper
from privacy.forgetting import TrainingDataForgetter
from privacy.holdings import conversations_of
from privacy.masking import mask_transcripts
from privacy.personal import FORMER_CUSTOMER
from privacy.redaction import TranscriptPolicy, redact
from privacy.retention import apply_retention
from tests.catalog import test_postgres
from tests.catalog.test_demo_order_book import TODAY, order_book_db
from tracker.store import tracker_url_from_env
from tracker.writer import write_events

postgres_url = test_postgres.postgres_url  # the same fresh-schema fixture, for this module
# The learning loop's forgetter, as the callers above privacy pass it: LearningFiles.from_env()
# at each call, which the `learning_files` fixture points at a temporary folder.
FORGETTER: TrainingDataForgetter = training_data_forgetter()

NOW = datetime(2025, 6, 18, 11, 0, tzinfo=UTC)  # the one clock: aware UTC (core.clock)
EMILY, JAMES = "emily.carter@example.com", "james.nguyen@example.net"  # showcase customers
EMILY_ORDER, JAMES_ORDER = "000000100", "000000101"
PHONE = "(415) 867-5309"  # never one of the order book's 555 numbers
STREET = "742 Evergreen Terrace"
NEW_STREET = "12 Grimmauld Place"
CARD = "4111 1111 1111 1111"
PLANTED = {
    "e-mail": re.compile(re.escape(EMILY), re.IGNORECASE),
    "phone": re.compile(r"415\D{0,3}867\D{0,3}5309"),
    "card": re.compile(r"4111\D?1111\D?1111\D?1111"),
    "street": re.compile(re.escape(STREET), re.IGNORECASE),
    "new street": re.compile(re.escape(NEW_STREET), re.IGNORECASE),
    "name": re.compile("Emily Carter", re.IGNORECASE),
}
LOOKALIKE = "chat-lookalike"  # someone else's address that contains Emily's


# --- a Rasa tracker store -------------------------------------------------------------------


def make_tracker(url: str) -> str:
    """An empty `events` table of Rasa 3.6's SQLTrackerStore (tracker/writer.py)."""
    write_events(url, {})
    return url


def user(text: str, intent: str = "inform", **metadata: Any) -> dict[str, Any]:
    entities = [
        {"entity": "email", "start": m.start(), "end": m.end(), "value": m.group(0).lower(),
         "extractor": "RegexEntityExtractor"}
        for m in re.finditer(r"\S+@\S+\.\w+", text)
    ]  # fmt: skip
    return {
        "event": "user", "text": text, "metadata": metadata, "input_channel": "socketio",
        "message_id": f"m{abs(hash(text)) % 10_000}",
        "parse_data": {"intent": {"name": intent, "confidence": 0.97}, "entities": entities,
                       "text": text, "message_id": "m1", "metadata": {}, "intent_ranking": []},
    }  # fmt: skip


def bot(text: str, agent: str | None = None) -> dict[str, Any]:
    data = {"elements": None, "quick_replies": None, "buttons": None, "attachment": None,
            "image": None, "custom": None}  # fmt: skip
    metadata = {"agent_name": agent} if agent else {"utter_action": "utter_default"}
    return {"event": "bot", "text": text, "data": data, "metadata": metadata}


def slot(name: str, value: Any) -> dict[str, Any]:
    return {"event": "slot", "name": name, "value": value}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name, "policy": None, "confidence": None,
            "action_text": None, "hide_rule_turn": False}  # fmt: skip


def add_events(url: str, sender: str, events: list[dict[str, Any]], start: datetime = NOW) -> None:
    """Append events as Rasa does: one row each, a second apart, the event JSON in `data`."""
    engine = create_engine(url, poolclass=NullPool)
    table = Table("events", MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        for n, event in enumerate([{"event": "session_started"}, action("action_listen"), *events]):
            stamped = {**event, "timestamp": (start + timedelta(seconds=n)).timestamp()}
            connection.execute(
                table.insert().values(
                    sender_id=sender,
                    type_name=stamped["event"],
                    timestamp=stamped["timestamp"],
                    intent_name=(stamped.get("parse_data") or {}).get("intent", {}).get("name"),
                    action_name=stamped.get("name") if stamped["event"] == "action" else None,
                    data=json.dumps(stamped),
                )
            )
    engine.dispose()


def tracker_rows(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    table = Table("events", MetaData(), autoload_with=engine)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]
    engine.dispose()
    return rows


def senders(url: str) -> set[str]:
    return {row[1] for row in tracker_rows(url)}


# --- the learning loop's exports -----------------------------------------------------------


def correction(
    conversation: str, text: str, message_at: datetime, created_at: datetime = NOW
) -> NluCorrection:
    """An agent's correction of a message, as the console stores it."""
    return NluCorrection(
        conversation_id=conversation, message_at=message_at.timestamp(), text=text,
        predicted_intent="nlu_fallback", correct_intent="track_order", is_new_intent=False,
        agent_id=None, created_at=created_at,
    )  # fmt: skip


def write_exports(
    files: LearningFiles,
    examples: list[tuple[str, str]],
    stories: list[tuple[str, datetime]],
) -> None:
    """What `python -m learning export` and `stories` would have written."""
    files.corrections.parent.mkdir(parents=True, exist_ok=True)
    files.stories.parent.mkdir(parents=True, exist_ok=True)
    files.corrections.write_text(
        nlu_yaml([Example(text, intent) for text, intent in examples], CORRECTIONS_HEADER),
        encoding="utf-8",
    )
    document = {
        "version": "3.1",
        "stories": [
            {"story": f"went well {at:%Y-%m-%d %H:%M} ({story_digest(sender)}, 2 messages)",
             "steps": [{"intent": "greet"}, {"action": "utter_greet"}]}
            for sender, at in stories
        ],
    }  # fmt: skip
    files.stories.write_text("# made by a test\n" + yaml.safe_dump(document), encoding="utf-8")


def exported_texts(files: LearningFiles) -> list[str]:
    if not files.corrections.exists():
        return []
    return sorted(example.text for example in read_nlu_file(files.corrections))


def stories_of(files: LearningFiles, senders: tuple[str, ...] = ("old", "recent")) -> list[str]:
    """The conversations (of `senders`) whose test stories are in the file."""
    if not files.stories.exists():
        return []
    text = files.stories.read_text(encoding="utf-8")
    assert text.startswith("# made by a test")  # the header stays
    return [sender for sender in senders if story_digest(sender) in text]


# --- the whole shop database, as text ------------------------------------------------------


def all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the tracker's, for "nothing changed"."""
    engine = create_engine(url, poolclass=NullPool)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        rows = {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
            if table.name != "events"
        }
    engine.dispose()
    return rows


def planted_in_shop(url: str) -> set[tuple[str, str, str]]:
    """(table, column, what) for every text column of every table holding a planted string."""
    engine = create_engine(url, poolclass=NullPool)
    metadata = MetaData()
    metadata.reflect(engine)
    found: set[tuple[str, str, str]] = set()
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "events":
                continue
            columns = [c for c in table.columns if isinstance(c.type, String)]  # Text too
            if not columns:
                continue
            for row in connection.execute(select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    for what, pattern in PLANTED.items():
                        if value and pattern.search(str(value)):
                            found.add((table.name, column.name, what))
    engine.dispose()
    return found


def planted_in_tracker(url: str) -> set[tuple[str, str]]:
    return {
        (row[1], what)
        for row in tracker_rows(url)
        if row[1] != LOOKALIKE
        for what, pattern in PLANTED.items()
        if pattern.search(" ".join(str(value) for value in row))
    }


# --- the shop and its conversations ---------------------------------------------------------


def customer(session: Session, email: str) -> Customer:
    return session.scalars(select(Customer).where(Customer.email == email)).one()


def order(session: Session, number: str) -> Order:
    return session.scalars(select(Order).where(Order.number == number)).one()


def books(session: Session, customer_id: int) -> list[tuple[Any, ...]]:
    """What the shop must keep of a customer's orders."""
    orders = session.scalars(
        select(Order).where(Order.customer_id == customer_id).order_by(Order.number)
    )
    return [
        (o.number, o.status, o.created_at, o.subtotal_cents, o.shipping_cents, o.total_cents,
         o.currency, o.ship_region, o.ship_country,
         sorted((li.sku, li.qty, li.price_cents) for li in o.lines))
        for o in orders
    ]  # fmt: skip


def plant(shop_url: str, tracker_url: str) -> None:
    """Emily (the one to erase) and James (to be left alone) talk to the shop."""
    with session_scope(shop_url) as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Customer)
                .where(Customer.first_name == "Emily", Customer.last_name == "Carter")
            )
            == 1
        ), "another Emily Carter would make the name check meaningless"
        emily = customer(session, EMILY)
        emily.phone, emily.street = PHONE, STREET
        for theirs in session.scalars(select(Order).where(Order.customer_id == emily.id)):
            theirs.ship_street = STREET
        order(session, EMILY_ORDER).ship_street = NEW_STREET  # changed in the chat
        anna = Agent(username="anna", display_name="Anna", password_hash="x", created_at=NOW)
        session.add(anna)
        session.flush()
        record_complaint(
            session, "chat-emily-1",
            f"Charged twice on my card {CARD}! Call me on 415.867.5309 or write {EMILY}.",
            email=EMILY, order_number=EMILY_ORDER, now=NOW,
        )  # fmt: skip
        record_complaint(session, "chat-emily-1", f"And the courier never found {NEW_STREET}.")
        leave_message(session, "chat-emily-3", EMILY, f"Please ring {PHONE}.", now=NOW)
        session.add(
            AgentNote(
                conversation_id="chat-emily-1", agent_id=anna.id, created_at=NOW,
                text=f"Verified Emily Carter; card {CARD}; ships to {NEW_STREET}.",
            )
        )  # fmt: skip
        handoffs.request(session, "chat-emily-1", "wants a person", now=NOW)
        tee = session.scalars(select(Product).order_by(Product.id).limit(1)).one()
        store_review(
            session, tee, 2, f"Call {PHONE}",
            f"Paid with {CARD}, sent to {NEW_STREET}; write to {EMILY}. Emily Carter",
            "Emily C.", "chat-emily-3", now=NOW,
        )  # fmt: skip
        request_erasure(session, emily.email, "chat-emily-2", now=NOW)
        # She proved who she is where she left her message (the check links it, as
        # actions/verification.py does); its transcript never shows her address.
        subjects.link(session, "chat-emily-3", EMILY, now=NOW)
        # James: his own complaint, note, hand-off, review and conversation
        record_complaint(session, "chat-james", "The parcel is late.", email=JAMES, now=NOW)
        session.add(
            AgentNote(conversation_id="chat-james", agent_id=anna.id, text="UPS asked.",
                      created_at=NOW)
        )  # fmt: skip
        handoffs.request(session, "chat-james", "late parcel", now=NOW)
        store_review(session, tee, 5, "Great", "Fits well.", "James N.", "chat-james", now=NOW)
    make_tracker(tracker_url)
    add_events(tracker_url, "chat-emily-1", [
        user("hi", "greet"), bot("Hello! How can I help?"),
        user("I was charged twice", "payment_issue"),
        slot("order_number", EMILY_ORDER),
        user(f"It's Emily.Carter@Example.COM, card {CARD}"),
        slot("email", "emily.carter@example.com"),
        slot("verified_customer_email", "emily.carter@example.com"),
        user(f"Send it to {NEW_STREET} and call {PHONE}"),
        user("/affirm", "affirm", display_text="Yes, please"),
        bot("Hi, I'm Anna.", agent="Anna"),
        user(f"my friend {JAMES} had the same problem"),
    ])  # fmt: skip
    add_events(tracker_url, "chat-emily-2", [
        user("unsubscribe me", "newsletter_subscription"),
        slot("newsletter_email", "EMILY.CARTER@example.com"),
        bot("You're unsubscribed."),
        user("delete my account", "delete_account"),
    ])  # fmt: skip
    add_events(tracker_url, "chat-emily-3", [  # her address is only in the shop's records
        user("no one is free?", "contact_human_agent"), bot("Leave a message."),
        user(f"Please ring {PHONE}."),
    ])  # fmt: skip
    add_events(tracker_url, "chat-james", [
        user("where is my parcel", "track_order"), slot("email", JAMES),
        slot("verified_customer_email", JAMES), bot("It is on its way with UPS."),
    ])  # fmt: skip
    add_events(tracker_url, LOOKALIKE, [
        user("my e-mail is emily.carter@example.com.au, or xemily.carter@example.community"),
    ])  # fmt: skip


@pytest.fixture(autouse=True)
def learning_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LearningFiles:
    """The learning loop's exports of this test, never the checkout's own files."""
    files = LearningFiles(
        tmp_path / "data" / "nlu_corrections.yml",
        tmp_path / "learning" / "new_intents.yml",
        tmp_path / "learning" / "test_stories.yml",
    )
    monkeypatch.setattr(LearningFiles, "from_env", classmethod(lambda cls: files))
    return files


@pytest.fixture
def shop_url(luma_db_url: str, tmp_path: Path) -> str:
    return order_book_db(luma_db_url, tmp_path)


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rasa_tracker.sqlite3'}"


@pytest.fixture
def planted(shop_url: str, tracker_url: str) -> Iterator[tuple[str, str]]:
    plant(shop_url, tracker_url)
    yield shop_url, tracker_url


# --- finding the conversations --------------------------------------------------------------


def test_conversations_are_found_by_what_was_said_and_what_was_recorded(
    planted: tuple[str, str],
) -> None:
    shop_url, tracker_url = planted
    assert tracker_conversations(tracker_url, " Emily.Carter@example.com ") == [
        "chat-emily-1", "chat-emily-2",
    ]  # fmt: skip
    with session_scope(shop_url) as session:
        assert conversations_of(session, tracker_url, EMILY) == [
            "chat-emily-1", "chat-emily-2", "chat-emily-3",
        ]  # fmt: skip
        assert conversations_of(session, tracker_url, JAMES) == ["chat-emily-1", "chat-james"]
        assert conversations_of(session, tracker_url, "nobody@example.com") == []
        with pytest.raises(ValueError):
            conversations_of(session, tracker_url, "example.com")
    missing = "sqlite:////nonexistent/folder/rasa.sqlite3"
    assert tracker_conversations(missing, EMILY) == []  # Rasa never ran: no conversations
    assert not Path("/nonexistent/folder").exists()


# --- export ---------------------------------------------------------------------------------


def test_the_export_has_exactly_the_shoppers_data(planted: tuple[str, str]) -> None:
    shop_url, tracker_url = planted
    with session_scope(shop_url) as session:
        data = export_shopper(session, tracker_url, "Emily.Carter@Example.com")
        emily = customer(session, EMILY)
        their_orders = sorted(
            session.scalars(select(Order.number).where(Order.customer_id == emily.id))
        )
    text = json.dumps(data)  # JSON-ready as it is
    assert data["email"] == EMILY
    assert data["customer"]["email"] == EMILY and data["customer"]["phone"] == PHONE
    assert sorted(o["number"] for o in data["orders"]) == their_orders
    first = next(o for o in data["orders"] if o["number"] == EMILY_ORDER)
    assert first["lines"] and first["total_cents"] > 0
    assert first["ship_to"]["street"] == NEW_STREET
    assert {a["street"] for a in data["addresses"]} == {STREET, NEW_STREET}
    assert [r["nickname"] for r in data["reviews"]] == ["Emily C."]
    assert len(data["complaints"]) == 2  # hers, and the one without an e-mail in her chat
    assert [m["text"] for m in data["messages"]] == [f"Please ring {PHONE}."]
    assert data["newsletter"]["email"] == EMILY
    assert [r["status"] for r in data["erasure_requests"]] == ["pending"]
    conversations = {c["id"]: c["messages"] for c in data["conversations"]}
    assert sorted(conversations) == ["chat-emily-1", "chat-emily-2", "chat-emily-3"]
    chat = conversations["chat-emily-1"]
    assert [m["sender"] for m in chat][:2] == ["shopper", "bot"]
    assert {"sender": "agent", "text": "Hi, I'm Anna."}.items() <= chat[-2].items()
    # no bot turn offered that button: what was sent, not the claimed title (web/messages.py)
    assert any(m["text"] == "/affirm" for m in chat)
    assert all(m["at"] and m["at"].startswith("2025-06-18") for m in chat)
    # nothing of James: not his complaint, review, conversation, nor his address in her chat
    assert JAMES not in text and "parcel is late" not in text and "James N." not in text
    assert "chat-james" not in text and LOOKALIKE not in text
    assert "[another e-mail address] had the same problem" in text
    with session_scope(shop_url) as session:
        nobody = export_shopper(session, tracker_url, "nobody@example.com")
    assert nobody["customer"] is None and nobody["orders"] == nobody["conversations"] == []


# --- erasure --------------------------------------------------------------------------------


def check_erasure(shop_url: str, tracker_url: str) -> None:
    """Plant, erase Emily, and prove that nothing of her is left and nothing else changed."""
    plant(shop_url, tracker_url)
    assert {what for _, _, what in planted_in_shop(shop_url)} == set(PLANTED)
    assert {"e-mail", "card", "phone", "new street"} <= {
        what for _, what in planted_in_tracker(tracker_url)
    }
    before = all_rows(shop_url)
    with session_scope(shop_url) as session:
        emily_id, james_id = customer(session, EMILY).id, customer(session, JAMES).id
        kept_books, james_books = books(session, emily_id), books(session, james_id)
        customers = session.scalar(select(func.count()).select_from(Customer))
        preview = preview_erasure(session, tracker_url, EMILY)
    assert all_rows(shop_url) == before  # a preview changes nothing
    others = {"chat-james", LOOKALIKE}
    others_rows = [row for row in tracker_rows(tracker_url) if row[1] in others]

    with session_scope(shop_url) as session:
        result = erase_shopper(session, tracker_url, EMILY, now=NOW, forgetter=FORGETTER)
    assert result == preview
    assert (result.conversations, result.customer, result.orders, result.reviews) == (3, 1, 1, 1)
    assert (result.complaints, result.support_messages, result.agent_notes) == (2, 1, 1)
    assert (result.handoffs, result.newsletter, result.requests, result.links) == (1, 1, 1, 1)
    assert result.tracker_events == 13 + 6 + 5  # with session_started and action_listen

    assert planted_in_shop(shop_url) == set()
    assert planted_in_tracker(tracker_url) == set()
    assert senders(tracker_url) == {"chat-james", LOOKALIKE}
    assert tracker_rows(tracker_url) == others_rows
    with session_scope(shop_url) as session:
        erased = session.get(Customer, emily_id)
        assert erased is not None
        assert (erased.email, erased.first_name, erased.phone, erased.street) == (
            f"erased-{emily_id}@invalid", "erased", None, None,
        )  # fmt: skip
        assert books(session, emily_id) == kept_books  # the shop's books stand
        assert books(session, james_id) == james_books
        assert session.scalar(select(func.count()).select_from(Customer)) == customers
        assert order(session, EMILY_ORDER).ship_name == "erased"
        assert order(session, JAMES_ORDER).ship_name == "James Nguyen"
        reviews = {r.reviewer: r for r in session.scalars(select(Review).where(
            Review.created_at == NOW))}  # fmt: skip
        assert set(reviews) == {FORMER_CUSTOMER, "James N."}
        assert reviews[FORMER_CUSTOMER].conversation_id is None
        assert reviews["James N."].conversation_id == "chat-james"
        assert [c.email for c in session.scalars(select(Complaint))] == [JAMES]
        assert [n.text for n in session.scalars(select(AgentNote))] == ["UPS asked."]
        assert [h.conversation_id for h in session.scalars(select(Handoff))] == ["chat-james"]
        assert session.scalar(select(func.count()).select_from(SupportMessage)) == 0
        assert (
            session.scalar(
                select(NewsletterSubscriber).where(NewsletterSubscriber.customer_id == emily_id)
            )
            is None
        )
        request = session.scalars(select(ErasureRequest)).one()
        assert (request.status, request.customer_id) == ("done", emily_id)
        assert pending_erasures(session) == []
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "erase")).one()
        assert audit.at == NOW and f"customer {emily_id}" in audit.detail
        assert "orders 1" in audit.detail and f"requests {request.id} done" in audit.detail
    after = all_rows(shop_url)

    with session_scope(shop_url) as session:  # a second erasure finds nothing, changes nothing
        again = erase_shopper(
            session, tracker_url, EMILY, now=NOW + timedelta(hours=1), forgetter=FORGETTER
        )
        assert again.nothing and again.summary() == "nothing found for that e-mail address"
        assert erase_shopper(
            session, tracker_url, "nobody@example.org", forgetter=FORGETTER
        ).nothing
    assert all_rows(shop_url) == after
    assert senders(tracker_url) == {"chat-james", LOOKALIKE}


def test_erasure_leaves_nothing_of_the_shopper_and_everything_else(
    shop_url: str, tracker_url: str
) -> None:
    check_erasure(shop_url, tracker_url)


@pytest.mark.postgres
def test_erasure_on_postgresql(postgres_url: str) -> None:
    """The shop and the tracker store both on PostgreSQL (one schema, as a test may)."""
    migrate(postgres_url)
    with session_scope(postgres_url) as session:
        import_luma(session, LUMA_DATA_DIR)
        generate_order_book(session, today=TODAY)
    check_erasure(postgres_url, postgres_url)


def file_holds(url: str, *values: str) -> set[str]:
    """Which values the database file (and its write-ahead log) still holds, in any case:
    deleted rows included, as anyone with a copy of the file could read them."""
    path = Path(url.removeprefix("sqlite:///"))
    data = b"".join(
        part.read_bytes().lower()
        for part in (path, path.with_name(path.name + "-wal"))
        if part.exists()
    )
    return {value for value in values if value.lower().encode() in data}


def test_after_masking_erasure_still_finds_her_and_leaves_no_trace(
    planted: tuple[str, str], learning_files: LearningFiles
) -> None:
    """Masking hides her address from the transcripts; the links made when she proved who
    she is (or by the masking job, from the verified slot) still find every conversation,
    and the erasure takes her order number, name and city out of everyone else's records."""
    shop_url, tracker_url = planted
    with session_scope(shop_url) as session:
        city = order(session, EMILY_ORDER).ship_city
        anna = session.scalars(select(Agent)).one()
        session.add_all([
            AgentNote(conversation_id="chat-james", agent_id=anna.id, created_at=NOW,
                      text=f"Emily Carter of {city} rang about {EMILY_ORDER}; UPS asked."),
            AuditEntry(at=NOW, agent_id=anna.id, action="cancel", conversation_id="chat-other",
                       detail=f"order {EMILY_ORDER} cancelled"),
            OutboxEmail(to_address=EMILY, kind="notice", subject=f"Your order {EMILY_ORDER}",
                        body=f"Dear Emily Carter, it ships to {city}.", created_at=NOW,
                        sent_at=None),
            NewsletterConfirmation(token_hash="b" * 64, email=EMILY, subscribe=False,
                                   created_at=NOW, confirmed_at=None),
            correction("chat-emily-1", "I was charged twice", NOW),
            correction("chat-james", "where is my parcel", NOW),
        ])  # fmt: skip
        handoffs.request(session, "chat-other", f"about order {EMILY_ORDER}", now=NOW)
    add_events(tracker_url, "chat-other", [
        user(f"what about order {EMILY_ORDER}?"), bot("Which e-mail address is it under?"),
    ])  # fmt: skip
    write_exports(
        learning_files,
        [("I was charged twice", "track_order"), ("where is my parcel", "track_order")],
        [("chat-emily-1", NOW), ("chat-james", NOW)],
    )
    with session_scope(shop_url) as session:
        assert mask_transcripts(tracker_url, 0, TranscriptPolicy.MASK, now=NOW, session=session)
    assert tracker_conversations(tracker_url, EMILY) == []  # her address is masked away
    with session_scope(shop_url) as session:
        mine = ["chat-emily-1", "chat-emily-2", "chat-emily-3"]
        assert set(mine) <= set(conversations_of(session, tracker_url, EMILY))
        exported = export_shopper(session, tracker_url, EMILY)
        assert [c["id"] for c in exported["conversations"]] == mine
        result = erase_shopper(
            session, tracker_url, EMILY, now=NOW, forgetter=training_data_forgetter(learning_files)
        )
    assert (result.conversations, result.corrections, result.outbox, result.newsletter) == (
        3, 1, 1, 2,
    )  # fmt: skip
    assert result.links == 2  # chat-emily-3's, and chat-emily-1's made by the masking job
    assert (result.other_records, result.mentions) == (3, 1)  # note, audit, hand-off; chat-other
    assert senders(tracker_url) == {"chat-james", "chat-other", LOOKALIKE}
    assert planted_in_shop(shop_url) == set() and planted_in_tracker(tracker_url) == set()
    with session_scope(shop_url) as session:
        assert session.scalars(select(AgentNote.text)).all() == [
            "UPS asked.", "[removed] of [removed] rang about [removed]; UPS asked.",
        ]  # fmt: skip
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == "chat-other"))
        assert handoff.one().reason == "about order [removed]"
        for model in (OutboxEmail, NewsletterConfirmation):
            assert session.scalar(select(func.count()).select_from(model)) == 0
        assert session.scalars(select(ConversationSubject.email)).all() == [JAMES]  # his own
        assert session.scalars(select(NluCorrection.conversation_id)).all() == ["chat-james"]
        details = session.scalars(select(AuditEntry.detail)).all()
    assert not any(EMILY_ORDER in detail for detail in details)
    other = [json.loads(row[6]) for row in tracker_rows(tracker_url) if row[1] == "chat-other"]
    assert [e["text"] for e in other if e["event"] == "user"] == ["what about order [removed]?"]
    assert exported_texts(learning_files) == ["where is my parcel"]
    assert stories_of(learning_files, ("chat-emily-1", "chat-james")) == ["chat-james"]
    # nothing to read back from the files either: deleted rows are not left in free pages
    assert file_holds(shop_url, EMILY, "Emily Carter", STREET, NEW_STREET) == set()
    assert file_holds(tracker_url, EMILY, "Emily Carter", NEW_STREET, CARD) == set()


def test_an_address_typed_by_someone_else_is_not_that_shoppers_data(
    planted: tuple[str, str],
) -> None:
    """Mallory types James's address into a complaint and a message, proving nothing: James
    is not sent Mallory's words in an export, nor can he erase Mallory's records; his
    erasure takes only his address out of them. A complaint about Emily's order, made with
    her address (the bot files those from the verified order and address), is hers."""
    shop_url, tracker_url = planted
    with session_scope(shop_url) as session:
        record_complaint(session, "chat-mallory", "Refund me now or else, I mean it.",
                         email=JAMES, now=NOW)  # fmt: skip
        leave_message(session, "chat-mallory", JAMES, f"Write to {JAMES} about it.", now=NOW)
        record_complaint(session, "chat-mallory", "Late again, second time now.", email=EMILY,
                         order_number=EMILY_ORDER, now=NOW)  # fmt: skip
    add_events(tracker_url, "chat-mallory", [
        user(f"I am {JAMES}"), slot("contact_email", JAMES), user("Refund me now or else"),
    ])  # fmt: skip
    with session_scope(shop_url) as session:
        james = export_shopper(session, tracker_url, JAMES)
        emily = export_shopper(session, tracker_url, EMILY)
    assert [c["text"] for c in james["complaints"]] == ["The parcel is late."]
    assert james["messages"] == [] and [c["id"] for c in james["conversations"]] == ["chat-james"]
    assert "Refund me" not in json.dumps(james) and "chat-mallory" not in json.dumps(james)
    assert "Late again, second time now." in [c["text"] for c in emily["complaints"]]

    with session_scope(shop_url) as session:
        result = erase_shopper(session, tracker_url, JAMES, now=NOW, forgetter=FORGETTER)
        assert (result.complaints, result.support_messages, result.other_records) == (1, 0, 2)
        left = session.scalars(select(Complaint).where(Complaint.conversation_id == "chat-mallory"))
        assert {(c.email, c.text) for c in left} == {
            (None, "Refund me now or else, I mean it."),
            (EMILY, "Late again, second time now."),
        }  # fmt: skip
        message = session.scalars(select(SupportMessage)).all()
        assert [(m.email, m.text) for m in message if m.conversation_id == "chat-mallory"] == [
            (None, "Write to [removed] about it.")
        ]
    mallory = [row for row in tracker_rows(tracker_url) if row[1] == "chat-mallory"]
    assert len(mallory) == 5 and not any(JAMES in str(row) for row in mallory)


def test_masking_covers_every_ended_session_of_a_conversation_still_going(
    shop_url: str, tracker_url: str
) -> None:
    """A shopper who comes back starts a new session: the earlier one has ended and is
    masked at once, while the session going on is left as the bot needs it."""
    make_tracker(tracker_url)
    add_events(tracker_url, "back", [
        user(f"it's {JAMES}"), slot("verified_customer_email", JAMES),
        slot("verified_order_number", JAMES_ORDER), user(f"call {PHONE}"),
    ], start=NOW - timedelta(hours=5))  # fmt: skip
    add_events(tracker_url, "back", [user(f"call {PHONE} again")], start=NOW - timedelta(minutes=2))
    with session_scope(shop_url) as session:
        assert mask_transcripts(tracker_url, 90, TranscriptPolicy.MASK, now=NOW, session=session)
        links = session.scalars(select(ConversationSubject)).all()
        assert {(s.conversation_id, s.email, s.order_number) for s in links} == {
            ("back", JAMES, None), ("back", JAMES, JAMES_ORDER),
        }  # fmt: skip
    texts = [json.loads(row[6]).get("text") for row in tracker_rows(tracker_url)]
    assert PHONE not in " ".join(str(t) for t in texts[:6]) and JAMES not in str(texts[:6])
    assert texts[-1] == f"call {PHONE} again"  # the session going on is untouched
    with session_scope(shop_url) as session:
        assert conversations_of(session, tracker_url, JAMES) == ["back"]


def test_a_mention_in_someone_elses_conversation_loses_only_the_address(
    planted: tuple[str, str],
) -> None:
    """Emily named James in her conversation: his erasure keeps her conversation."""
    shop_url, tracker_url = planted
    emily_chat = [row for row in tracker_rows(tracker_url) if row[1] == "chat-emily-1"]
    with session_scope(shop_url) as session:
        exported = export_shopper(session, tracker_url, JAMES)
        assert [c["id"] for c in exported["conversations"]] == ["chat-james"]
        assert "Emily" not in json.dumps(exported) and CARD not in json.dumps(exported)
        result = erase_shopper(session, tracker_url, JAMES, now=NOW, forgetter=FORGETTER)
    assert (result.conversations, result.tracker_events, result.mentions) == (1, 6, 1)
    assert senders(tracker_url) == {"chat-emily-1", "chat-emily-2", "chat-emily-3", LOOKALIKE}
    rows = [row for row in tracker_rows(tracker_url) if row[1] == "chat-emily-1"]
    assert [row[:6] for row in rows] == [row[:6] for row in emily_chat]  # only `data` changed
    changed = [(old[6], new[6]) for old, new in zip(emily_chat, rows, strict=True) if old != new]
    assert len(changed) == 1 and JAMES in changed[0][0] and JAMES not in changed[0][1]
    assert json.loads(changed[0][1])["text"] == "my friend [removed] had the same problem"
    assert not any(JAMES in str(row) for row in tracker_rows(tracker_url))
    with session_scope(shop_url) as session:
        assert tracker_conversations(tracker_url, JAMES) == []
        assert conversations_of(session, tracker_url, EMILY) == [
            "chat-emily-1", "chat-emily-2", "chat-emily-3",
        ]  # fmt: skip
        assert session.scalars(select(Complaint.email).where(Complaint.email == EMILY)).all()


def test_kept_texts_lose_card_numbers_and_addresses() -> None:
    """The one `redact` (privacy.redaction) is what an erasure leaves in the texts it keeps."""
    assert redact("card 4111-1111-1111-1111, mail a.b@c.org, order 000000104") == (
        "card <CARD>, mail <EMAIL>, order 000000104"
    )


# --- retention ------------------------------------------------------------------------------


def test_retention_forgets_old_events_even_of_a_shopper_who_came_back(
    shop_url: str, tracker_url: str, learning_files: LearningFiles
) -> None:
    make_tracker(tracker_url)
    long_ago = NOW - timedelta(days=400)
    add_events(tracker_url, "old", [user("hi", "greet"), bot("Hello!")], start=long_ago)
    add_events(tracker_url, "back", [user("hi", "greet")], start=long_ago)
    add_events(tracker_url, "back", [user("still there?")], start=NOW - timedelta(days=1))
    add_events(tracker_url, "recent", [user("hi", "greet")], start=NOW - timedelta(days=3))
    recent_events = [row for row in tracker_rows(tracker_url) if row[0] > 7]  # 'back' again
    with session_scope(shop_url) as session:
        anna = Agent(username="anna", display_name="Anna", password_hash="x", created_at=NOW)
        session.add(anna)
        session.flush()
        session.add_all([
            AgentNote(conversation_id="back", agent_id=anna.id, text="old", created_at=long_ago),
            AgentNote(conversation_id="old", agent_id=anna.id, text="on an old chat",
                      created_at=NOW - timedelta(days=2)),
            AgentNote(conversation_id="recent", agent_id=anna.id, text="new", created_at=NOW),
            correction("back", "where is my parcel eh", long_ago, NOW - timedelta(days=2)),
            correction("recent", "hello there friend", NOW - timedelta(days=3), NOW),
            ConversationSubject(conversation_id="old", email=EMILY, linked_at=long_ago),
            ConversationSubject(conversation_id="back", email=JAMES, linked_at=long_ago),
            OutboxEmail(to_address=JAMES, kind="notice", subject="s", body="b",
                        created_at=long_ago, sent_at=long_ago),
            OutboxEmail(to_address=JAMES, kind="notice", subject="s", body="b", created_at=NOW,
                        sent_at=None),
            NewsletterConfirmation(token_hash="a" * 64, email=EMILY, subscribe=True,
                                   created_at=long_ago, confirmed_at=None),
        ])  # fmt: skip
    write_exports(
        learning_files,
        [("where is my parcel eh", "track_order"), ("hello there friend", "greet")],
        [("old", long_ago), ("recent", NOW - timedelta(days=3))],
    )
    with session_scope(shop_url) as session:
        result = apply_retention(
            session, tracker_url, 365, now=NOW, forgetter=training_data_forgetter(learning_files)
        )
        assert (result.conversations, result.tracker_events, result.agent_notes) == (1, 7, 2)
        assert (result.corrections, result.links, result.outbox, result.other) == (1, 1, 1, 1)
        assert [n.text for n in session.scalars(select(AgentNote))] == ["new"]
        assert [c.conversation_id for c in session.scalars(select(NluCorrection))] == ["recent"]
        assert [s.email for s in session.scalars(select(ConversationSubject))] == [JAMES]
        assert session.scalar(select(func.count()).select_from(OutboxEmail)) == 1
    assert senders(tracker_url) == {"back", "recent"}
    back = [row for row in tracker_rows(tracker_url) if row[1] == "back"]
    assert back == [row for row in recent_events if row[1] == "back"]  # only the old ones went
    assert exported_texts(learning_files) == ["hello there friend"]
    assert stories_of(learning_files) == ["recent"]
    with session_scope(shop_url) as session:
        assert apply_retention(
            session, tracker_url, 365, now=NOW, forgetter=FORGETTER
        ).summary() == ("0 conversations (0 events) and 0 agent notes removed")
        with pytest.raises(ValueError):
            apply_retention(session, tracker_url, 0, now=NOW, forgetter=FORGETTER)
        missing = "sqlite:////nonexistent/rasa.sqlite3"
        assert (
            apply_retention(session, missing, 30, now=NOW, forgetter=FORGETTER).conversations == 0
        )


def test_ended_transcripts_are_masked_unless_the_policy_keeps_them(tracker_url: str) -> None:
    make_tracker(tracker_url)
    said = [user(f"my card is {CARD}, call {PHONE}"), user(f"I moved to {STREET}"),
            user(EMILY, "inform"), slot("verified_customer_email", EMILY),
            bot(f"Thanks, I'll write to {EMILY}")]  # fmt: skip
    add_events(tracker_url, "ended", said, start=NOW - timedelta(hours=3))
    add_events(tracker_url, "going", said, start=NOW - timedelta(minutes=5))
    assert mask_transcripts(tracker_url, 90, TranscriptPolicy.KEEP, now=NOW) == 0
    assert planted_in_tracker(tracker_url) >= {("ended", "card"), ("ended", "e-mail")}
    assert mask_transcripts(tracker_url, 90, TranscriptPolicy.MASK, now=NOW) == len(said)
    assert {conversation for conversation, _ in planted_in_tracker(tracker_url)} == {"going"}
    kinds = [json.loads(row[-1])["event"] for row in tracker_rows(tracker_url) if row[1] == "ended"]
    assert kinds == ["session_started", "action", "user", "user", "user", "slot", "bot"]
    assert mask_transcripts(tracker_url, 90, TranscriptPolicy.MASK, now=NOW) == 0  # once only
    with pytest.raises(ValueError):
        mask_transcripts(tracker_url, -1, TranscriptPolicy.MASK, now=NOW)


# --- the command line ------------------------------------------------------------------------


@pytest.fixture
def cli_env(planted: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    shop_url, tracker_url = planted
    monkeypatch.setenv("SHOPDESK_DATABASE_URL", shop_url)
    monkeypatch.setenv("SHOPDESK_TRACKER_DB_URL", tracker_url)
    return planted


def test_the_tracker_store_is_where_the_launcher_puts_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SHOPDESK_TRACKER_DB_URL", raising=False)
    monkeypatch.setenv("SHOPDESK_TRACKER_DB", str(tmp_path / "t.sqlite3"))
    assert tracker_url_from_env() == f"sqlite:///{tmp_path / 't.sqlite3'}"
    monkeypatch.delenv("SHOPDESK_TRACKER_DB")
    assert tracker_url_from_env().endswith("/var/rasa_tracker.sqlite3")
    monkeypatch.setenv("SHOPDESK_TRACKER_DB_URL", "postgresql+psycopg://rasa@db/rasa")
    assert tracker_url_from_env() == "postgresql+psycopg://rasa@db/rasa"


def test_cli_erase_refuses_without_yes_and_erases_with_it(
    cli_env: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    shop_url, tracker_url = cli_env
    before = all_rows(shop_url)
    assert cli.main(["erase", "--email", EMILY]) == 2
    out, err = capsys.readouterr()
    assert "would erase" in out and "orders 1" in out and "--yes" in err
    assert all_rows(shop_url) == before and "chat-emily-1" in senders(tracker_url)

    assert cli.main(["erase", "--email", EMILY, "--yes"]) == 0
    out, _ = capsys.readouterr()
    assert "erased" in out and "conversations 3" in out
    assert planted_in_shop(shop_url) == set()
    assert cli.main(["erase", "--email", EMILY, "--yes"]) == 0
    assert "nothing to erase" in capsys.readouterr().out

    assert cli.main(["erase", "--email", "not an address", "--yes"]) == 2
    _, err = capsys.readouterr()
    assert "is not an e-mail address" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as refused:
        cli.main(["erase", "--yes"])  # whom?
    assert refused.value.code == 2


def test_cli_erases_the_requests_made_in_the_chat(
    cli_env: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    shop_url, tracker_url = cli_env
    with session_scope(shop_url) as session:
        request_erasure(session, customer(session, JAMES).email, "chat-james", now=NOW)
    assert cli.main(["erase", "--pending"]) == 2
    assert capsys.readouterr().out.count("would erase request") == 2
    assert cli.main(["erase", "--pending", "--yes"]) == 0
    assert capsys.readouterr().out.count("erased request") == 2
    with session_scope(shop_url) as session:
        assert pending_erasures(session) == []
        assert {r.status for r in session.scalars(select(ErasureRequest))} == {"done"}
    assert senders(tracker_url) == {LOOKALIKE}
    assert cli.main(["erase", "--pending", "--yes"]) == 0
    assert "no pending erasure requests" in capsys.readouterr().out


def test_cli_export_and_retention(
    cli_env: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, tracker_url = cli_env
    out = tmp_path / "emily.json"
    assert cli.main(["export", "--email", EMILY, "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["customer"]["email"] == EMILY and len(data["conversations"]) == 3
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # personal data
    capsys.readouterr()
    assert cli.main(["export", "--email", "nobody@example.com"]) == 0
    printed, err = capsys.readouterr()
    assert json.loads(printed)["customer"] is None and "keeps nothing" in err
    missing = tmp_path / "no" / "such.json"
    assert cli.main(["export", "--email", EMILY, "--out", str(missing)]) == 2

    monkeypatch.setenv("SHOPDESK_TRANSCRIPT_RETENTION_DAYS", "soon")
    assert cli.main(["retention"]) == 2
    assert "SHOPDESK_TRANSCRIPT_RETENTION_DAYS" in capsys.readouterr().err
    monkeypatch.setenv("SHOPDESK_TRANSCRIPT_RETENTION_DAYS", "36500")
    assert cli.main(["retention"]) == 0  # every conversation here is from NOW
    assert "older than 36500 days: 0 conversations" in capsys.readouterr().out
    assert len(senders(tracker_url)) == 5
    assert cli.main(["retention", "--days", "1"]) == 0  # NOW is in the past
    assert "5 conversations (33 events) and 2 agent notes" in capsys.readouterr().out
    assert senders(tracker_url) == set()
    with pytest.raises(SystemExit) as refused:
        cli.main(["retention", "--days", "0"])
    assert refused.value.code == 2


def test_cli_help_describes_the_privacy_tasks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    assert all(word in text for word in ("export", "erase", "retention", "SHOPDESK_TRACKER_DB"))


def test_cli_masks_conversations_still_going_and_compacts(
    cli_env: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    shop_url, tracker_url = cli_env
    assert cli.main(["mask", "--idle-minutes", "0"]) == 0
    assert "transcript events masked" in capsys.readouterr().out
    assert tracker_conversations(tracker_url, EMILY) == []
    with session_scope(shop_url) as session:  # linked before the address was masked
        assert "chat-emily-1" in subjects.conversations_of(session, EMILY)
    assert cli.main(["compact"]) == 0
    assert "compacted" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        cli.main(["mask", "--idle-minutes", "-1"])
    assert refused.value.code == 2
