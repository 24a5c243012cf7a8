"""Property-based: whatever a client sends to the web server's HTTP API, it answers without a
server error, and a wrong sign-in stores no session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from catalog.db import migrate, session_scope
from catalog.models import AgentSession
from web.app import create_app
from web.settings import WebSettings

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
BODIES = st.one_of(
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=300),
    st.fixed_dictionaries({"username": st.text(max_size=80), "password": st.text(max_size=80)}).map(
        lambda value: json.dumps(value).encode()
    ),
)
PATHS = st.sampled_from(
    ["/agent/api/login", "/agent/api/logout", "/agent/api/conversations/x/take",
     "/agent/api/conversations/x/reply", "/agent/api/conversations/%00/note"]
)  # fmt: skip


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'shop.sqlite3'}"
    migrate(url)
    # Rasa is not needed: no route reached here without a session calls it.
    app: Any = create_app(
        WebSettings(rasa_urls=("http://127.0.0.1:9",), rasa_token="unused"), url, b"k" * 40
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, url


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=PATHS, body=BODIES, content_type=st.sampled_from(["application/json", "text/plain", ""])
)
def test_no_body_makes_the_console_api_fail(
    client: tuple[TestClient, str], path: str, body: bytes, content_type: str
) -> None:
    test_client, url = client
    headers = {"Content-Type": content_type} if content_type else {}
    answer = test_client.post(path, content=body, headers=headers)
    assert answer.status_code < 500, answer.text
    # 413/415: a sign-in body too large or not JSON (web/console/sign_in.py)
    assert answer.status_code in {200, 400, 401, 403, 404, 405, 413, 415, 422, 429}
    with session_scope(url) as session:
        assert session.scalar(select(func.count()).select_from(AgentSession)) == 0
