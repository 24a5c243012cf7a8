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


def test_capabilities_are_kept_from_any_client_as_known_names_only(monkeypatch) -> None:
    """`capabilities` only chooses the form of the answers to the client that sent it (a
    sentence and cards, or the numbered list), so a public client may say it; anything but a
    list of known names is dropped, so the actions read no garbage."""
    from types import SimpleNamespace

    from shopdesk_rasa.channels import CAPABILITIES_KEY, ShopperRestInput

    monkeypatch.setenv("SHOPDESK_RASA_TOKEN", "t" * 40)
    channel = ShopperRestInput()

    def kept(metadata: object, token: bool = False) -> object:
        headers = {"authorization": f"Bearer {'t' * 40}"} if token else {}
        request = SimpleNamespace(
            headers=headers, ip="10.1.2.3", json={"sender": "s", "metadata": metadata}
        )
        return channel.get_metadata(request).get(CAPABILITIES_KEY, "dropped")

    widget = {CAPABILITIES_KEY: ["cards", "buttons"]}
    assert kept(widget, token=True) == ["cards", "buttons"]  # the web server relaying
    assert kept(widget) == ["cards", "buttons"]  # a REST client that draws cards itself
    assert kept({CAPABILITIES_KEY: ["buttons", "hologram", "cards", "cards", 7]}) == [
        "cards",
        "buttons",
    ]
    assert kept({CAPABILITIES_KEY: []}) == []
    assert kept({CAPABILITIES_KEY: "cards"}) == "dropped"
    assert kept({CAPABILITIES_KEY: {"cards": True}}) == "dropped"
    assert kept({}) == "dropped"


def test_the_channel_knows_the_capabilities_the_actions_read() -> None:
    """The two sides run in different Python environments and cannot import each other's
    constants; the action server's names are read from its source."""
    import ast
    from pathlib import Path

    from shopdesk_rasa.channels import CAPABILITIES_KEY, KNOWN_CAPABILITIES

    source = Path(__file__).resolve().parents[2] / "actions" / "channel.py"
    constants = {
        node.target.id: node.value.value
        for node in ast.parse(source.read_text(encoding="utf-8")).body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and isinstance(node.value, ast.Constant)
    }
    assert constants["CAPABILITIES_KEY"] == CAPABILITIES_KEY
    assert (constants["CARDS"], constants["BUTTONS"]) == KNOWN_CAPABILITIES
