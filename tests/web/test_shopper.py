"""What the shopper channel accepts as a session id, and the console's sign-in throttle."""

from __future__ import annotations

from web.console_api import LOGIN_FAILURES_ALLOWED, LoginThrottle
from web.shopper import session_id_from


def test_session_ids_are_short_safe_tokens() -> None:
    assert session_id_from({"session_id": "3f2a9c1e5b7d4a10"}) == "3f2a9c1e5b7d4a10"
    assert session_id_from("3f2a9c1e5b7d4a10") == "3f2a9c1e5b7d4a10"  # rasa-webchat sends it bare
    for bad in (
        {"session_id": "short"},
        {"session_id": "../../etc"},
        {"session_id": 12345678},
        {"session_id": "x" * 65},
        None,
        {"session_id": "<script>alert(1)</script>"},
    ):
        assert session_id_from(bad) is None  # a new conversation instead


def test_sign_in_is_refused_after_repeated_failures_until_one_succeeds() -> None:
    throttle = LoginThrottle()
    for _ in range(LOGIN_FAILURES_ALLOWED):
        assert not throttle.blocked("anna|127.0.0.1")
        throttle.failed("anna|127.0.0.1")
    assert throttle.blocked("anna|127.0.0.1")
    assert not throttle.blocked("ben|127.0.0.1")
    throttle.succeeded("anna|127.0.0.1")
    assert not throttle.blocked("anna|127.0.0.1")
