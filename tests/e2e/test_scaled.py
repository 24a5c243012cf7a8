"""The scaled setup, live (docs/deployment.md): two Rasa instances and two action servers on one
PostgreSQL database (catalog and conversations) and Redis's lock store.

Any instance serves any message of a conversation; messages of one conversation sent at the
same time to both instances are handled one after the other, in the order they came; a
restarted instance carries on a conversation; the web server's client moves to the other
instance while one is down.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from launcher.chat import send
from launcher.fresh import scaled_config
from launcher.scaled import (
    DEFAULT_REDIS_URL,
    ScaledSettings,
    ScaledSetupError,
    check_redis,
)
from launcher.stack import Stack
from tests.catalog.test_postgres import SERVER_URL, postgres_admin
from tests.conftest import skip_or_fail
from tests.e2e.live import live_stack
from web.rasa_client import RasaClient, instance_order

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

ASK_ORDER_NUMBER = "What is the order number?"
ASK_EMAIL = "what is the e-mail address the order was placed with?"


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A database of its own on the test server, dropped afterwards."""
    name = f"shopdesk_scaled_{uuid.uuid4().hex[:8]}"
    admin = postgres_admin()
    url = make_url(SERVER_URL).set(drivername="postgresql", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def stack(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    try:
        check_redis(DEFAULT_REDIS_URL)
    except ScaledSetupError as error:
        skip_or_fail(str(error))
    settings = ScaledSettings(
        postgres_url=database,
        redis_url=DEFAULT_REDIS_URL,
        redis_key_prefix=f"test{uuid.uuid4().hex[:8]}",
    )
    config = scaled_config(tmp_path_factory.mktemp("scaled-stack"), settings)
    with live_stack(config) as running:
        yield running


def chat(url: str, sender: str, message: str) -> list[str]:
    replies = send(f"{url}/webhooks/rest/webhook", sender, message, timeout=60)
    return [r["text"] for r in replies if "text" in r]


def events(stack: Stack, rasa_url: str, sender: str) -> list[dict[str, Any]]:
    url = f"{rasa_url}/conversations/{sender}/tracker?token={stack.config.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return list(json.loads(response.read())["events"])


def test_the_processes_of_the_scaled_setup_run(stack: Stack, database: str) -> None:
    assert set(stack.services) == {"classifier", "actions", "actions-2", "rasa", "rasa-2", "web"}
    assert stack.config.endpoints == "bot/endpoints.scaled.yml"
    # each Rasa instance calls its own action server
    assert (
        stack.services["rasa-2"]
        .env["SHOPDESK_ACTIONS_URL"]
        .startswith(stack.config.actions_urls[1])
    )
    # the catalog was migrated and loaded into PostgreSQL
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM products")).scalar_one() > 100
    engine.dispose()


def test_two_instances_serve_one_conversation(stack: Stack, database: str) -> None:
    first, second = stack.config.rasa_urls
    sender = f"scaled-{uuid.uuid4().hex[:8]}"
    assert any(ASK_ORDER_NUMBER in r for r in chat(first, sender, "where is my order?"))
    assert any(ASK_EMAIL in r for r in chat(second, sender, "it's 000000101"))
    replies = chat(first, sender, "james.nguyen@example.net")
    assert any(r.startswith("Your order 000000101 has shipped") for r in replies), replies
    # both instances see the whole conversation, which lives in PostgreSQL
    for url in (first, second):
        said = [e["text"] for e in events(stack, url, sender) if e["event"] == "user"]
        assert said == ["where is my order?", "it's 000000101", "james.nguyen@example.net"]
    engine = create_engine(database.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
            {"s": sender},
        ).scalar_one()
    engine.dispose()
    assert stored == 3


def test_concurrent_messages_of_one_conversation_are_handled_in_order(stack: Stack) -> None:
    urls = stack.config.rasa_urls
    sender = f"scaled-order-{uuid.uuid4().hex[:8]}"
    messages = [
        "how much is shipping?",
        "what payment methods do you accept?",
        "do you have a black hoodie?",
        "how do I return an item?",
    ]
    answers: dict[int, list[str]] = {}

    def post(index: int) -> None:
        answers[index] = chat(urls[index % len(urls)], sender, messages[index])

    # As if another instance were busy with this conversation for 2 s: a ticket in Rasa's lock
    # in Redis (its TicketLock format). The messages sent meanwhile must queue behind it, on
    # both instances, so they surely overlap however fast each one is handled; Rasa drops the
    # ticket when it expires.
    lock_key = f"{stack.config.extra_env['SHOPDESK_REDIS_KEY_PREFIX']}:lock:{sender}"
    redis = Redis.from_url(DEFAULT_REDIS_URL)
    held = json.dumps({"number": 0, "expires": time.time() + 2.0})
    redis.set(lock_key, json.dumps({"conversation_id": sender, "tickets": [held]}))
    most_waiting = 0
    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(messages))]
    for thread in threads:
        thread.start()
        time.sleep(0.15)  # so the order they were sent in is known
    while any(thread.is_alive() for thread in threads):
        if lock := redis.get(lock_key):
            most_waiting = max(most_waiting, len(json.loads(lock).get("tickets", [])))
        time.sleep(0.01)
    redis.close()
    # all four waited together on the lock in Redis (behind the held ticket)
    assert most_waiting >= len(messages)
    history = events(stack, urls[0], sender)
    said = [e["text"] for e in history if e["event"] == "user"]
    assert said == messages
    # one message at a time: each is answered and the bot listens again before the next one
    turns: list[list[str]] = []
    listening = True
    for event in history:
        if event["event"] == "user":
            assert listening, "a message was handled while another was still being handled"
            turns.append([])
            listening = False
        elif event["event"] == "bot" and turns:
            turns[-1].append(event.get("text") or "")
        elif event["event"] == "action" and event.get("name") == "action_listen":
            listening = True
    # and each shopper got the replies to their own message
    for index in range(len(messages)):
        assert answers[index] and answers[index] == [t for t in turns[index] if t], index


def test_a_restarted_instance_carries_on_and_the_web_client_moves_over(stack: Stack) -> None:
    first, second = stack.config.rasa_urls
    sender = f"scaled-restart-{uuid.uuid4().hex[:8]}"
    assert any(ASK_ORDER_NUMBER in r for r in chat(first, sender, "where is my order?"))
    stack.stop_service("rasa")
    # while the first instance is down, the web server's client reaches the conversation
    # through the second: a conversation whose own instance is the first one
    away = next(s for s in (f"{sender}-{n}" for n in range(100)) if instance_order(s, 2)[0] == 0)
    client = RasaClient([first, second], stack.config.rasa_token)

    async def through_web_client() -> list[dict[str, Any]]:
        try:
            return await client.send(away, "how much is shipping?", {})
        finally:
            await client.close()

    assert asyncio.run(through_web_client())
    stack.start_service("rasa")
    stack.wait_healthy("rasa", time.monotonic() + 180)
    assert any(ASK_EMAIL in r for r in chat(first, sender, "000000101"))
    replies = chat(first, sender, "james.nguyen@example.net")
    assert any(r.startswith("Your order 000000101 has shipped") for r in replies), replies
