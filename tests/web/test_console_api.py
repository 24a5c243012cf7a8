"""The console API's FastAPI plumbing (web/console): sign-in and CSRF as dependencies checked
before a body is read, Pydantic bodies with the console's own sentences, and every refusal as
`{"error": sentence}`, never FastAPI's 422 shape or a trace."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from starlette.requests import Request

from catalog.db import migrate, session_scope
from tests.async_run import run
from web.app import create_app
from web.auth import create_agent
from web.console.bodies import MAX_REPLY_CHARS
from web.console.deps import COOKIE
from web.console.errors import invalid_request
from web.settings import WebSettings

PASSWORD = "a long enough password"
NOTE = "/agent/api/conversations/chat-1/note"
REPLY = "/agent/api/conversations/chat-1/reply"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(url)
    with session_scope(url) as session:
        create_agent(session, "anna", "Anna", PASSWORD)
    app: Any = create_app(
        WebSettings(rasa_urls=("http://127.0.0.1:9",), rasa_token="unused"), url, b"k" * 40
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def csrf(client: TestClient) -> dict[str, str]:
    answer = client.post("/agent/api/login", json={"username": "anna", "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    assert answer.json()["agent"]["display_name"] == "Anna"
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def test_sign_in_and_csrf_are_checked_before_the_body_is_read(client: TestClient) -> None:
    garbage = {"Content-Type": "application/json"}
    assert client.post(NOTE, content=b"{not json", headers=garbage).json() == {
        "error": "Please sign in."
    }
    csrf(client)
    refused = client.post(NOTE, content=b"{not json", headers=garbage)
    assert refused.status_code == 403 and "CSRF" in refused.json()["error"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"text": "   "}, 400, "Type a message first."),
        ({}, 400, "Type a message first."),
        ({"text": "x" * (MAX_REPLY_CHARS + 1)}, 400, f"at most {MAX_REPLY_CHARS} characters"),
        ({"text": ["a", "list"]}, 400, "text"),
        (["not", "an", "object"], 400, "must be a JSON object"),
    ],
)
def test_a_reply_body_that_does_not_fit_gets_a_sentence(
    client: TestClient, body: Any, status: int, says: str
) -> None:
    headers = {**csrf(client), "Content-Type": "application/json"}
    answer = client.post(REPLY, content=json.dumps(body), headers=headers)
    assert answer.status_code == status
    assert set(answer.json()) == {"error"} and says in answer.json()["error"]


def test_a_wrongly_typed_sign_in_is_a_polite_400(client: TestClient) -> None:
    answer = client.post("/agent/api/login", json={"username": {"a": 1}, "password": "x"})
    assert answer.status_code == 400 and "username" in answer.json()["error"]
    numbers = client.post("/agent/api/login", json={"username": 12345, "password": 123456789})
    assert numbers.status_code == 401  # taken as text, as the console always did


def test_a_message_number_must_be_digits(client: TestClient) -> None:
    answer = client.delete("/agent/api/conversations/chat-1/corrections/1e3", headers=csrf(client))
    assert answer.status_code == 400
    assert answer.json() == {"error": "Say which message you mean: its number in the transcript."}


def test_signing_out_drops_the_cookie_even_when_refused(client: TestClient) -> None:
    csrf(client)
    refused = client.post("/agent/api/logout")  # no CSRF header
    assert refused.status_code == 403
    assert f'{COOKIE}=""' in refused.headers["set-cookie"]


def request_to(path: str) -> Request:
    return Request({"type": "http", "method": "GET", "path": path, "headers": [], "app": FastAPI()})


def test_a_validation_error_has_the_console_shape_only_under_the_console() -> None:
    problem = RequestValidationError(
        [{"type": "int_parsing", "loc": ("query", "n"), "msg": "not a number", "input": "x"}]
    )
    console = run(invalid_request(request_to("/agent/api/queue"), problem))
    assert console.status_code == 400
    assert json.loads(bytes(console.body)) == {
        "error": "The request's query.n is not right: not a number."
    }
    elsewhere = run(invalid_request(request_to("/newsletter/confirm"), problem))
    assert elsewhere.status_code == 422 and "detail" in json.loads(bytes(elsewhere.body))
