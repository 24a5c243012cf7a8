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


def test_only_the_bots_own_buttons_are_payloads() -> None:
    """The buttons of the bot's turns since the shopper's last message are the only texts
    that may reach Rasa in its "/intent{...}" syntax; older offers do not count."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from shopdesk_rasa.channels import issued_payloads

    rating = '/rate_conversation{"conversation_rating": 5}'
    events = [
        BotUttered("Shall I?", data={"buttons": [{"title": "Yes", "payload": "/affirm"}]}),
        UserUttered("yes"),
        ActionExecuted("action_listen"),
        BotUttered("Bye", data={"buttons": [{"title": "5 ★", "payload": rating}]}),
        BotUttered("no buttons"),
    ]
    assert issued_payloads(events) == {rating}
    assert issued_payloads([*events, UserUttered("hi")]) == set()
    assert issued_payloads([]) == set()


def test_a_clients_slash_syntax_becomes_words() -> None:
    from shopdesk_rasa.channels import BUILTIN_COMMAND, as_words

    assert as_words('/track_order{"order_number": "000000101"}') == (
        'track_order{"order_number": "000000101"}'
    )
    assert as_words("//restart") == "restart"
    assert BUILTIN_COMMAND.match("/restart") and BUILTIN_COMMAND.match("/session_start")
    assert not BUILTIN_COMMAND.match("/restarting") and not BUILTIN_COMMAND.match("restart")


def test_server_decided_metadata_comes_only_from_the_token_holder(monkeypatch) -> None:
    """A public client's `client`, `agent_present` and `raw_intents` are dropped and its own
    address digested; the web server, presenting Rasa's token, relays the shopper's."""
    from types import SimpleNamespace

    from shopdesk_rasa.channels import ShopperRestInput, client_digest

    monkeypatch.setenv("SHOPDESK_RASA_TOKEN", "t" * 40)

    def request(headers: dict[str, str], metadata: object) -> object:
        return SimpleNamespace(
            headers=headers, ip="10.1.2.3", json={"sender": "s", "metadata": metadata}
        )

    channel = ShopperRestInput()
    forged = {"client": "1.1.1.1", "agent_present": True, "raw_intents": True, "message_id": "m"}
    public = channel.get_metadata(request({}, forged))
    assert public == {"message_id": "m", "client": client_digest("10.1.2.3")}
    wrong = channel.get_metadata(request({"authorization": "Bearer nope"}, forged))
    assert wrong == public
    relayed = channel.get_metadata(request({"authorization": f"Bearer {'t' * 40}"}, forged))
    assert relayed["client"] == client_digest("1.1.1.1") and relayed["raw_intents"] is True
    assert channel.get_metadata(request({}, ["not", "a", "dict"])) == {
        "client": client_digest("10.1.2.3")
    }
