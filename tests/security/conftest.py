"""The running stack the red-team tests attack: one per test session, started as `make run`
starts it (classifier, action server, Rasa, web server), on free ports and fresh databases.

Every test in this folder replays an attack against it over the same doors a stranger has:
Rasa's REST channel, the widget's socket.io channel and the web server's HTTP routes.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from launcher.stack import Stack
from tests.e2e.live import console_stack

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("secadmin", "Security Admin", "an admin's long passphrase for the red team")
AGENT = ("secagent", "Sam Agent", "an agent's long passphrase for the red team")
OTHER_AGENT = ("secother", "Olga Agent", "another agent's long passphrase here")
HOUSEKEEPING_INTERVAL_S = "5"  # web/housekeeping.py; the default is hourly


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole stack, with an admin and two agents in the console; masking and retention
    run every few seconds, so a test sees the schedule work."""
    with console_stack(
        tmp_path_factory.mktemp("security-stack"),
        ADMIN,
        (AGENT, OTHER_AGENT),
        SHOPDESK_HOUSEKEEPING_INTERVAL_S=HOUSEKEEPING_INTERVAL_S,
    ) as running:
        yield running


def shop_db_url(stack: Stack) -> str:
    return f"sqlite:///{Path(stack.config.extra_env['SHOPDESK_DB_PATH']).resolve()}"


def rest(stack: Stack, sender: str, text: str, **extra: Any) -> list[dict[str, Any]]:
    """One message over Rasa's public REST channel, exactly as any HTTP client can send it."""
    response = httpx.post(
        stack.config.chat_url, json={"sender": sender, "message": text, **extra}, timeout=60
    )
    response.raise_for_status()
    return list(response.json())


def texts(replies: list[dict[str, Any]]) -> list[str]:
    return [str(r["text"]) for r in replies if "text" in r]


def new_sender() -> str:
    return f"red-{uuid.uuid4().hex[:12]}"


def tracker(stack: Stack, conversation_id: str) -> dict[str, Any]:
    config = stack.config
    url = f"{config.rasa_url}/conversations/{conversation_id}/tracker?token={config.rasa_token}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(json.loads(response.read()))


def console_login(stack: Stack, who: tuple[str, str, str]) -> httpx.Client:
    """An httpx client signed in to the agent console (cookie and CSRF header set)."""
    client = httpx.Client(base_url=stack.config.web_url, timeout=30)
    response = client.post("/agent/api/login", json={"username": who[0], "password": who[2]})
    response.raise_for_status()
    csrf = response.json().get("csrf_token")
    if csrf:
        client.headers["X-CSRF-Token"] = csrf
    return client
