"""The real stack: both venvs, the classifier service, Rasa, the action server and SQLite.

Started with the same launcher `make run` uses, on free ports and a fresh SQLite catalog.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from catalog.db import session_scope
from catalog.models import Product
from launcher.chat import send
from launcher.fresh import fresh_config
from launcher.stack import Stack, StackError
from tests.actions.render import template
from tests.e2e.live import live_stack

pytestmark = pytest.mark.e2e
PRODUCT_LINE = re.compile(r"^\d+\. (.+?) — \$\d+\.\d\d(?: — [^—]+)* — https?://\S+\.html$")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("stack")
    config = fresh_config(work, work / "logs")
    with live_stack(config) as running:
        yield running


def chat(stack: Stack, text: str, sender: str | None = None) -> list[str]:
    replies = send(stack.config.chat_url, sender or f"test-{uuid.uuid4().hex[:8]}", text)
    return [r["text"] for r in replies if "text" in r]


def black_hoodies(db_path: str) -> set[str]:
    with session_scope(f"sqlite:///{Path(db_path).resolve()}") as session:
        products = session.scalars(select(Product).options(selectinload(Product.variants)))
        return {
            p.name
            for p in products
            if "Hoodie" in p.name and any(v.color == "Black" and v.qty > 0 for v in p.variants)
        }


def test_black_hoodie_lists_real_hoodies_from_the_catalog(stack: Stack) -> None:
    [reply] = chat(stack, "do you have a black hoodie?")
    names = [m[1] for m in map(PRODUCT_LINE.match, reply.splitlines()[1:]) if m]
    assert 1 <= len(names) <= 5, reply
    catalog_hoodies = black_hoodies(stack.config.extra_env["SHOPDESK_DB_PATH"])
    assert set(names) <= catalog_hoodies, reply


def test_a_shopping_conversation_refines_picks_and_asks(stack: Stack) -> None:
    """Search, "cheaper", "the second one", a question: slots carry the context over."""
    sender = f"test-{uuid.uuid4().hex[:8]}"
    url = stack.config.chat_url
    first = send(url, sender, "black hoodie for men under 60")
    [cards] = [r["custom"] for r in first if "custom" in r]
    assert cards["type"] == "product_cards" and cards["products"], first
    exact = [c for c in cards["products"] if c["exact"]]
    assert exact and all(c["price_cents"] <= 6000 and "Black" in c["colors"] for c in exact)
    cheapest = min(c["price_cents"] for c in cards["products"])
    cheaper = send(url, sender, "show me cheaper ones")
    [cheaper_cards] = [r["custom"] for r in cheaper if "custom" in r]
    exact = [c for c in cheaper_cards["products"] if c["exact"]]
    assert exact and all(c["price_cents"] < cheapest for c in exact), cheaper
    shown = cheaper_cards["products"]
    second = shown[1] if len(shown) > 1 else shown[0]
    picked = send(url, sender, f"tell me about the {'second' if len(shown) > 1 else 'first'} one")
    assert picked[0]["text"].startswith(f"The {second['name']} costs"), picked
    [answer] = chat(stack, "what is it made of?", sender)
    assert second["name"] in answer, answer


def test_where_is_my_order(stack: Stack) -> None:
    """The number, then the order's e-mail; a wrong e-mail learns nothing about the order."""
    sender = f"test-{uuid.uuid4().hex[:8]}"
    [ask] = chat(stack, "where is my order?", sender)
    assert "order number" in ask
    [ask_email] = chat(stack, "000000002", sender)
    assert "e-mail" in ask_email
    [status] = chat(stack, "roni_cost@example.com", sender)
    assert status.startswith("Your order 000000002 was returned and refunded."), status

    thief = f"test-{uuid.uuid4().hex[:8]}"
    chat(stack, "where is my order 000000002?", thief)
    replies = chat(stack, "someone@example.com", thief)
    assert replies[0] == template("utter_verification_no_match"), replies
    assert not any("refunded" in r or "V-Tee" in r for r in replies)


def test_greeting_and_out_of_scope(stack: Stack) -> None:
    assert chat(stack, "hello")[0].startswith("Hi! I'm the Luma shop assistant.")
    assert chat(stack, "what's the weather in Paris?")[0].startswith(
        "Sorry, I can't help with that."
    )


def test_unknown_topics_get_the_out_of_scope_answer_not_a_wrong_intent(stack: Stack) -> None:
    polite = ("Sorry, I can't help with that.", "Sorry, I didn't quite get that.")
    for text in (
        "how many calories are in a banana",  # CLINC150 out-of-scope test queries, never trained on
        "who is the president of france",
        "what is the square root of 144",
        "'; DROP TABLE orders; --",  # was cancel_order at 0.80 before out-of-scope detection
    ):
        [reply] = chat(stack, text)
        assert reply.startswith(polite), (text, reply)


def test_a_conversation_survives_a_rasa_restart(stack: Stack) -> None:
    sender = f"test-{uuid.uuid4().hex[:8]}"
    assert "e-mail" in chat(stack, "where is my order 000000001?", sender)[0]
    stack.stop_service("rasa")
    stack.start_service("rasa")
    stack.wait_healthy("rasa", time.monotonic() + 120)
    # The form and the order number were kept in the conversation's tracker (SQLite): the
    # e-mail answers the question asked before the restart.
    [reply] = chat(stack, "roni_cost@example.com", sender)
    assert reply.startswith("Your order 000000001"), reply


def test_a_second_stack_on_busy_ports_is_refused(stack: Stack) -> None:
    with pytest.raises(StackError, match="ports already in use"):
        Stack(stack.config).start()


def test_very_long_and_odd_messages_get_answers(stack: Stack) -> None:
    # bot/shopdesk_rasa/channels.py answers these itself (Rasa's side: not importable here)
    [too_long] = chat(stack, "hoodie " * 2000)
    assert too_long.startswith("That message is too long for me.")
    [empty] = chat(stack, "\x00\u200b  ")
    assert empty.startswith("I didn't get any words there.")
    # full-width letters read as plain ones (NFKC)
    assert "Hoodie" in chat(stack, "ｄｏ ｙｏｕ ｈａｖｅ ａ ｂｌａｃｋ ｈｏｏｄｉｅ？")[0]
    assert chat(stack, "<script>alert(1)</script>'; DROP TABLE products; --")
    assert chat(stack, "🙂")


def test_action_server_down_gets_a_polite_answer(stack: Stack) -> None:
    stack.stop_service("actions")
    try:
        replies = chat(stack, "do you have a black hoodie?")
        assert len(replies) == 1
        assert replies[0].startswith("Sorry, I can't answer that right now")
    finally:
        stack.start_service("actions")
        stack.wait_healthy("actions", time.monotonic() + 60)
    assert "Hoodie" in chat(stack, "do you have a black hoodie?")[0]


def test_a_part_that_stops_mid_task_loses_nothing_and_the_task_goes_on(stack: Stack) -> None:
    """The order check is half done when the action server, then the classifier, stop: the
    shopper gets polite answers, Rasa keeps every message, and once the part is back the
    same conversation finishes the task."""
    sender = f"fault-{uuid.uuid4().hex[:8]}"
    [ask_email] = chat(stack, "where is my order 000000002?", sender)
    assert "e-mail" in ask_email
    for part, timeout_s in (("actions", 60), ("classifier", 120)):
        stack.stop_service(part)
        try:
            replies = chat(stack, "roni_cost@example.com", sender)
            assert replies and replies[0].startswith("Sorry"), (part, replies)
        finally:
            stack.start_service(part)
            stack.wait_healthy(part, time.monotonic() + timeout_s)
    config = stack.config
    url = f"{config.rasa_url}/conversations/{sender}/tracker?token={config.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        said = [e["text"] for e in json.loads(response.read())["events"] if e["event"] == "user"]
    assert said == ["where is my order 000000002?"] + ["roni_cost@example.com"] * 2
    replies = chat(stack, "roni_cost@example.com", sender)
    assert any(r.startswith("Your order 000000002 was returned and refunded.") for r in replies)


def test_classifier_down_gets_a_polite_answer(stack: Stack) -> None:
    stack.stop_service("classifier")
    try:
        replies = chat(stack, "do you have a black hoodie?")
        assert replies == [
            "Sorry, I'm having trouble understanding messages right now. Please try again in a "
            "moment, or use our Contact Us page to reach our team."
        ]
    finally:
        stack.start_service("classifier")
        stack.wait_healthy("classifier", time.monotonic() + 120)
    assert "Hoodie" in chat(stack, "do you have a black hoodie?")[0]


HOSTILE = [
    "order 1'; DROP TABLE orders; --",
    "<script>alert(document.cookie)</script>",
    "\u202eredro ym si erehw",
    "%s%s%s%n",
    "{{7*7}} ${jndi:ldap://x}",
    "a" * 5000,
    "\ud7ff\ue000\U0001f600" * 100,
]


def status_of(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_internal_services_refuse_callers_without_the_secret(stack: Stack) -> None:
    config = stack.config
    call = json.dumps({"next_action": "action_search_products", "tracker": {}}).encode()
    assert status_of(f"{config.actions_url}/webhook", call) == 401
    assert status_of(f"{config.actions_url}/webhook?token=wrong", call) == 401
    assert status_of(f"{config.actions_url}/actions") == 401
    assert status_of(f"{config.actions_url}/health") == 200
    parse = json.dumps({"text": "hi"}).encode()
    assert status_of(f"{config.nlu_url}/model/parse", parse) == 401
    wrong = {"Authorization": "Bearer wrong"}
    assert status_of(f"{config.nlu_url}/model/parse", parse, wrong) == 401
    right = {"Authorization": f"Bearer {config.internal_token}"}
    assert status_of(f"{config.nlu_url}/model/parse", parse, right) == 200
    assert status_of(f"{config.rasa_url}/conversations/anyone/tracker") == 401
    assert status_of(f"{config.rasa_url}/conversations/anyone/tracker?token=wrong") == 401


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=1200) | st.sampled_from(HOSTILE))
def test_any_message_gets_a_reply_and_nothing_oversized_is_stored(stack: Stack, text: str) -> None:
    """Property-based, bounded: the shopper channel answers anything, never with a server
    error, and keeps no message over the limit in the conversation's record."""
    sender = f"fuzz-{uuid.uuid4().hex[:8]}"
    replies = send(stack.config.chat_url, sender, text)
    assert replies and all(r.get("text") or r.get("custom") or r.get("buttons") for r in replies)
    config = stack.config
    url = f"{config.rasa_url}/conversations/{sender}/tracker?token={config.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"]
    said = [e.get("text") or "" for e in events if e.get("event") == "user"]
    assert all(len(t) <= 1000 and "\x00" not in t for t in said)


PLANTED = ["planted.shopper@example.org", "+1 415 555 0132", "4111 1111 1111 1111",
           "4111111111111111", "1600 Amphitheatre Parkway"]  # fmt: skip


def test_planted_personal_data_appears_in_no_log(stack: Stack) -> None:
    sender = f"pii-{uuid.uuid4().hex[:8]}"
    for text in ("where is my order 000000101?", PLANTED[0], f"call me on {PLANTED[1]}",
                 f"my card {PLANTED[2]} was charged twice", f"I live at {PLANTED[4]}",
                 f"{PLANTED[3]} is my card"):  # fmt: skip
        send(stack.config.chat_url, sender, text)
    logs = {p.name: p.read_text(errors="replace") for p in stack.config.log_dir.glob("*.log")}
    assert {"actions.log", "rasa.log", "classifier.log"} <= set(logs)
    leaks = [(name, value) for name, text in logs.items() for value in PLANTED if value in text]
    assert leaks == []
