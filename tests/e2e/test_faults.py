"""The shop's database goes away in the middle of a conversation (the scaled setup, on
PostgreSQL): the shopper gets a polite answer, nothing is lost, and the conversation goes on
when the database is back.

The stack signs in to PostgreSQL as a role of its own; "the database is down" is that role
refused and its connections cut, so the other tests sharing the server are not touched.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from launcher.chat import send
from launcher.fresh import fresh_config
from launcher.stack import Stack
from tests.actions.render import template
from tests.catalog.test_postgres import SERVER_URL
from tests.conftest import skip_or_fail
from tests.e2e.live import live_stack

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def role() -> Iterator[str]:
    name = f"shopdesk_fault_{uuid.uuid4().hex[:8]}"
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE ROLE "{name}" LOGIN'))
            connection.execute(text(f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"'))
    except OperationalError as error:
        skip_or_fail(f"PostgreSQL is not reachable at {SERVER_URL}: {error.orig}")
    try:
        yield name
    finally:
        database_up(name, True)
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
            connection.execute(text(f'DROP ROLE "{name}"'))
        admin.dispose()


def database_up(role: str, up: bool) -> None:
    """Let the role in again, or refuse it and cut every connection it has."""
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'ALTER ROLE "{role}" {"LOGIN" if up else "NOLOGIN"}'))
        if not up:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :r"),
                {"r": role},
            )
    admin.dispose()


@pytest.fixture(scope="module")
def stack(role: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("fault-stack")
    config = fresh_config(work, work / "logs")
    server = SERVER_URL.replace("://root@", f"://{role}@")
    url = f"{server}?options=-csearch_path%3D{role},public"
    config = replace(config, extra_env={**config.extra_env, "SHOPDESK_DATABASE_URL": url})
    with live_stack(config) as running:
        yield running


def chat(stack: Stack, sender: str, message: str) -> list[str]:
    return [r["text"] for r in send(stack.config.chat_url, sender, message) if "text" in r]


def test_the_database_going_away_mid_task_loses_nothing(stack: Stack, role: str) -> None:
    sender = f"db-fault-{uuid.uuid4().hex[:8]}"
    [ask_email] = chat(stack, sender, "where is my order 000000101?")
    assert "e-mail" in ask_email
    database_up(role, False)
    try:
        for message in ("james.nguyen@example.net", "do you have a black hoodie?"):
            replies = chat(stack, sender, message)
            assert replies[0] == template("utter_catalog_unavailable"), replies
            # the order number is kept: only the e-mail is asked again
            assert "e-mail" in replies[-1] and "order number" not in replies[-1], replies
    finally:
        database_up(role, True)
    replies = chat(stack, sender, "james.nguyen@example.net")
    assert any(r.startswith("Your order 000000101 has shipped") for r in replies), replies
    config = stack.config
    url = f"{config.rasa_url}/conversations/{sender}/tracker?token={config.rasa_token}"
    with urllib.request.urlopen(url, timeout=30) as response:
        events = json.loads(response.read())["events"]
    said = [e["text"] for e in events if e["event"] == "user"]
    assert said == [
        "where is my order 000000101?", "james.nguyen@example.net",
        "do you have a black hoodie?", "james.nguyen@example.net",
    ]  # fmt: skip
