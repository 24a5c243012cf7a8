"""Shoppers' session ids are signed by the server; the console's sign-in throttle."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from web.console_api import LOGIN_FAILURES_ALLOWED, LoginThrottle
from web.settings import SettingsError, load_session_secret
from web.shopper import new_session_id, session_id_from

SECRET = b"a test key that is long enough for hmac"


def test_session_ids_are_signed_by_the_server() -> None:
    issued = new_session_id(SECRET)
    assert session_id_from({"session_id": issued}, SECRET) == issued
    assert session_id_from(issued, SECRET) == issued  # rasa-webchat may send it bare
    assert new_session_id(SECRET) != issued
    nonce, _ = issued.split(".")
    forged = f"{nonce}.{'A' * 22}"
    other_key = new_session_id(b"another server's key, also long enough")
    for bad in (
        {"session_id": forged},
        {"session_id": other_key},
        {"session_id": "3f2a9c1e5b7d4a10"},
        {"session_id": "../../etc"},
        {"session_id": 12345678},
        None,
        {"session_id": "<script>alert(1)</script>"},
    ):
        assert session_id_from(bad, SECRET) is None  # a new conversation instead


def test_the_signing_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "var" / "web_secret.key"
    first = load_session_secret({}, path)
    assert load_session_secret({}, path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_session_secret({"SHOPDESK_WEB_SECRET": "x" * 40}, path) == b"x" * 40
    with pytest.raises(SettingsError, match="at least 32"):
        load_session_secret({"SHOPDESK_WEB_SECRET": "short"}, path)


def test_sign_in_is_refused_after_repeated_failures_until_one_succeeds() -> None:
    throttle = LoginThrottle()
    for _ in range(LOGIN_FAILURES_ALLOWED):
        assert not throttle.blocked("anna|127.0.0.1")
        throttle.failed("anna|127.0.0.1")
    assert throttle.blocked("anna|127.0.0.1")
    assert not throttle.blocked("ben|127.0.0.1")
    throttle.succeeded("anna|127.0.0.1")
    assert not throttle.blocked("anna|127.0.0.1")
