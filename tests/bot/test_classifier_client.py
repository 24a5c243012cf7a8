"""The Rasa-side client of the classifier service (runs in the Python 3.10 Rasa venv).

A small HTTP server in the test stands in for the service here; the real service is
exercised end to end in tests/e2e.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from rasa.shared.nlu.training_data.message import Message
from shopdesk_rasa.classifier_client import (
    UNAVAILABLE_INTENT,
    PrefetchedParses,
    ShopDeskClassifierClient,
    prefetch,
)

PARSE = {
    "text": "where is 000000001",
    "intent": {"name": "track_order", "confidence": 0.97},
    "intent_ranking": [
        {"name": "track_order", "confidence": 0.97},
        {"name": "greet", "confidence": 0.03},
    ],
    "entities": [{"entity": "order_number", "value": "000000001", "start": 9, "end": 18}],
    "product_category": [{"name": "Gear/Bags", "confidence": 0.6}],
}


SEEN_AUTHORIZATION: list[str | None] = []


def serve(status: int, body: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            SEEN_AUTHORIZATION.append(self.headers.get("Authorization"))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def healthy_url() -> Iterator[str]:
    yield from serve(200, json.dumps(PARSE).encode())


@pytest.fixture
def failing_url() -> Iterator[str]:
    yield from serve(500, b'{"detail": "boom"}')


@pytest.fixture
def garbage_url() -> Iterator[str]:
    yield from serve(200, b'{"intent": null}')


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def classify(url: str, text: str = "where is 000000001") -> Message:
    client = ShopDeskClassifierClient({"url": url, "timeout_s": 2.0})
    [message] = client.process([Message.build(text=text)])
    return message


def test_sets_intent_ranking_and_entities(healthy_url: str, monkeypatch) -> None:
    monkeypatch.delenv("SHOPDESK_NLU_URL", raising=False)
    message = classify(healthy_url)
    assert message.get("intent") == {"name": "track_order", "confidence": 0.97}
    assert message.get("intent_ranking") == PARSE["intent_ranking"]
    assert message.get("entities") == PARSE["entities"]
    assert message.get("product_category") == PARSE["product_category"]


@pytest.mark.parametrize("kind", ["failing", "garbage", "down"])
def test_any_failure_becomes_the_unavailable_intent(
    kind: str, request: pytest.FixtureRequest, monkeypatch, caplog
) -> None:
    monkeypatch.delenv("SHOPDESK_NLU_URL", raising=False)
    url = closed_port_url() if kind == "down" else request.getfixturevalue(f"{kind}_url")
    message = classify(url, text="my e-mail is jo@example.com")
    assert message.get("intent") == {"name": UNAVAILABLE_INTENT, "confidence": 1.0}
    assert message.get("entities") == []
    assert "classifier" in caplog.text and "jo@example.com" not in caplog.text


def test_environment_overrides_the_configured_url(healthy_url: str, monkeypatch) -> None:
    monkeypatch.setenv("SHOPDESK_NLU_URL", healthy_url)
    message = classify(closed_port_url())
    assert message.get("intent")["name"] == "track_order"


def test_slash_commands_are_left_to_rasa() -> None:
    """A button's "/affirm" is not sent to the classifier; it gets an empty intent that
    Rasa's RegexMessageHandler replaces (the live story tests press such buttons)."""
    client = ShopDeskClassifierClient({"url": closed_port_url(), "timeout_s": 1.0})
    [message] = client.process([Message.build(text="/greet")])
    assert message.get("intent") == {"name": None, "confidence": 0.0}


def test_the_shared_secret_goes_with_every_call(healthy_url: str, monkeypatch) -> None:
    monkeypatch.delenv("SHOPDESK_NLU_URL", raising=False)
    monkeypatch.setenv("SHOPDESK_INTERNAL_TOKEN", "s3cret-token")
    SEEN_AUTHORIZATION.clear()
    classify(healthy_url)
    assert SEEN_AUTHORIZATION == ["Bearer s3cret-token"]


def test_a_prefetched_parse_is_taken_once_by_its_own_message() -> None:
    waiting = PrefetchedParses()
    first, second = {"intent": {"name": "greet"}}, {"intent": {"name": "greet", "n": 2}}
    waiting.put("hi", first)
    waiting.put("hi", second)  # the same text in another conversation waits for its own
    assert waiting.take("hi") is first
    assert waiting.take("hi") is second
    assert waiting.take("hi") is None


def test_an_unclaimed_prefetch_expires() -> None:
    waiting = PrefetchedParses(ttl_s=0.0)
    waiting.put("hi", {"intent": {"name": "greet"}})
    assert waiting.take("hi") is None


def test_the_channel_fetches_without_blocking_and_the_component_takes_it(
    healthy_url: str, monkeypatch
) -> None:
    """prefetch() is awaited by the channel; the component then makes no call of its own."""
    monkeypatch.delenv("SHOPDESK_NLU_URL", raising=False)
    client = ShopDeskClassifierClient({"url": healthy_url, "timeout_s": 2.0})
    SEEN_AUTHORIZATION.clear()
    asyncio.run(prefetch("where is 000000001"))
    assert len(SEEN_AUTHORIZATION) == 1
    [message] = client.process([Message.build(text="where is 000000001")])
    assert len(SEEN_AUTHORIZATION) == 1  # taken, not fetched again
    assert message.get("intent") == {"name": "track_order", "confidence": 0.97}
    assert message.get("product_category") == PARSE["product_category"]


def test_a_failed_prefetch_answers_its_message_politely_without_a_second_wait(
    monkeypatch, caplog
) -> None:
    monkeypatch.delenv("SHOPDESK_NLU_URL", raising=False)
    client = ShopDeskClassifierClient({"url": closed_port_url(), "timeout_s": 1.0})
    asyncio.run(prefetch("my e-mail is jo@example.com"))
    assert "classifier" in caplog.text and "jo@example.com" not in caplog.text
    client.session.post = None  # a second call would fail the test  # type: ignore[assignment]
    [message] = client.process([Message.build(text="my e-mail is jo@example.com")])
    assert message.get("intent") == {"name": UNAVAILABLE_INTENT, "confidence": 1.0}
