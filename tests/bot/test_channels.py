"""The shopper channel's input cleaning (runs in the Python 3.10 Rasa venv); the channel
itself is exercised end to end in tests/e2e."""

from __future__ import annotations

from shopdesk_rasa.channels import clean_text


def test_one_spelling_of_what_was_typed() -> None:
    assert clean_text("ｗｈｅｒｅ is my order？") == "where is my order?"  # full-width
    assert clean_text("  \x00hi\x07 there\u200b\ufeff ") == "hi  there"
    assert clean_text("line one\nline two\tend") == "line one\nline two\tend"
    assert clean_text("\u202eredro ym si erehw") == "redro ym si erehw"  # no direction tricks
    assert clean_text("\x00\x01  ") == ""


def test_injection_strings_are_kept_as_text() -> None:
    """Cleaning is not escaping: such text is data everywhere (SQL parameters, textContent)."""
    text = "order 1'; DROP TABLE orders; -- <script>alert(1)</script>"
    assert clean_text(text) == text


def test_the_channel_stamps_when_it_received_a_message() -> None:
    import time

    from shopdesk_rasa.channels import stamped

    before = time.time()
    metadata = stamped({"message_id": "m1", "received_at": 0})  # a client's own value is replaced
    assert metadata["message_id"] == "m1"
    assert before <= metadata["received_at"] <= time.time()
    assert set(stamped(None)) == {"received_at"}
