"""Personal data planted in texts, Rasa events and log records must not come out again;
order numbers, prices, product names and ordinary words must."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from privacy.detection import ADDRESS, CARD, EMAIL, IBAN, IP, PHONE, SSN
from privacy.logs import RedactingFilter, install_log_redaction
from privacy.redaction import (
    TranscriptPolicy,
    redact,
    redact_event,
    redact_tracker,
    redact_value,
    redactor,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]

EMAIL_ADDRESS = "jane.doe@example.com"
US_PHONE = "(212) 555-0143"
INTERNATIONAL_PHONE = "+44 20 7946 0958"
VISA_SPACED = "4111 1111 1111 1111"
VISA_PLAIN = "4111111111111111"
NOT_A_CARD = "4111 1111 1111 1112"  # one digit off: fails the Luhn check, so it is no card
NOT_A_CARD_PLAIN = "4111111111111112"
STREET = "6146 Honey Bluff Parkway"
IBAN_CODE = "DE89 3704 0044 0532 0130 00"
IP_ADDRESS = "192.168.1.20"
SOCIAL_SECURITY = "536-22-1234"

PLANTED = {
    EMAIL_ADDRESS: EMAIL,
    US_PHONE: PHONE,
    INTERNATIONAL_PHONE: PHONE,
    VISA_SPACED: CARD,
    VISA_PLAIN: CARD,
    STREET: ADDRESS,
    IBAN_CODE: IBAN,
    IP_ADDRESS: IP,
    SOCIAL_SECURITY: SSN,
}
# Not personal, and the bot, the agents and the analytics need every one of them.
SURVIVORS = (
    "000000101",
    "#000000102",
    "$45.00",
    "$1,234.56",
    "54.00",
    "Hero Hoodie",
    "Mach Street Sweatshirt",
    "Kenobi Trail Jacket",
    "MH07-M-Black",
    "2026-11-28",
    "size M",
    "black",
    "Order",
    NOT_A_CARD,
)


@pytest.fixture(scope="module", autouse=True)
def loaded() -> None:
    redactor()  # about a second, once for the module


def assert_clean(text: str) -> None:
    for planted in PLANTED:
        assert planted not in text, f"{planted!r} leaked into {text!r}"
    assert "Honey Bluff" not in text


# --- plain text -----------------------------------------------------------------------------


@pytest.mark.parametrize(("planted", "placeholder"), PLANTED.items())
def test_each_kind_of_personal_data_becomes_its_placeholder(planted: str, placeholder: str):
    text = f"Hi, here it is: {planted}. Order 000000101 was $45.00."
    assert redact(text) == f"Hi, here it is: {placeholder}. Order 000000101 was $45.00."


def test_addresses_as_shoppers_type_them():
    for address in (
        "350 Fifth Avenue, Apt 4B",
        "12 Main St",
        "12 main street, boston, MA 02110",
        "6146 Honey Bluff Parkway, Calder, Michigan 49628-7978",
        "1600 Pennsylvania Avenue NW, Washington, DC 20500",
        "PO Box 1234",
    ):
        assert redact(f"please ship to {address} thanks") == f"please ship to {ADDRESS} thanks"


def test_a_whole_message_keeps_what_is_not_personal():
    message = (
        f"I'm {EMAIL_ADDRESS}, call {US_PHONE} or {INTERNATIONAL_PHONE}. Order 000000101 "
        f"(#000000102, $1,234.56): the Hero Hoodie, size M, black, MH07-M-Black, and a Mach "
        f"Street Sweatshirt and a Kenobi Trail Jacket, $45.00 and 54.00 on 2026-11-28. "
        f"Card {VISA_SPACED}, again {VISA_PLAIN}; not {NOT_A_CARD} nor {NOT_A_CARD_PLAIN}. "
        f"I live at {STREET}, IBAN {IBAN_CODE}, from {IP_ADDRESS}, SSN {SOCIAL_SECURITY}."
    )
    redacted = redact(message)
    assert_clean(redacted)
    for survivor in (*SURVIVORS, NOT_A_CARD_PLAIN):
        assert survivor in redacted
    for placeholder in set(PLANTED.values()):
        assert placeholder in redacted


def test_order_numbers_are_never_phone_numbers_or_ssns():
    for number in ("000000001", "000000101", "000099999", "001234567", "123456789", "999999999"):
        for text in (f"order {number}", f"Where is my order number {number}?", number):
            assert redact(text) == text


def test_a_bare_nine_digit_number_is_an_ssn_only_when_called_one():
    assert redact("my ssn is 536221234") == f"my ssn is {SSN}"
    assert redact("order 536221234") == "order 536221234"


def test_words_that_look_like_an_address_but_are_not():
    for text in (
        "I want 2 Mach Street Sweatshirts and 1 Kenobi Trail Jacket",
        "2 pairs on the way",
        "I bought 3 tees on the street",
        "Sprite Stasis Ball 55 cm for $23.00",
        "is it 30 days return window",
    ):
        assert redact(text) == text


def test_text_without_personal_data_is_returned_as_it_is():
    for text in ("", "hello", "black hoodie for men under 60", "Action ran in 12.3 ms"):
        assert redact(text) is text


# --- nested JSON ----------------------------------------------------------------------------


def test_redact_value_walks_dicts_lists_and_tuples():
    value: dict[str, Any] = {
        "shopper": {"email": EMAIL_ADDRESS, "phones": [US_PHONE, INTERNATIONAL_PHONE]},
        "payment": (VISA_SPACED, {"iban": IBAN_CODE}),
        "notes": [f"lives at {STREET}", f"came from {IP_ADDRESS}"],
        "order": "000000101",
        "total_cents": 4500,
        "paid": True,
        "coupon": None,
    }
    redacted = redact_value(value)
    assert_clean(json.dumps(redacted))
    assert redacted["shopper"] == {"email": EMAIL, "phones": [PHONE, PHONE]}
    assert redacted["payment"] == (CARD, {"iban": IBAN})
    assert redacted["notes"] == [f"lives at {ADDRESS}", f"came from {IP}"]
    assert redacted["order"] == "000000101"
    assert (redacted["total_cents"], redacted["paid"], redacted["coupon"]) == (4500, True, None)
    assert value["shopper"]["email"] == EMAIL_ADDRESS  # the original is not touched


# --- Rasa events ----------------------------------------------------------------------------

USER_TEXT = f"my email is {EMAIL_ADDRESS}, order 000000101, ship to {STREET}"


def user_event() -> dict[str, Any]:
    order_start = USER_TEXT.index("000000101")
    return {
        "event": "user",
        "timestamp": 1764320000.25,
        "text": USER_TEXT,
        "parse_data": {
            "intent": {"name": "change_address", "confidence": 0.97},
            "entities": [
                {
                    "entity": "email",
                    "start": 12,
                    "end": 12 + len(EMAIL_ADDRESS),
                    "value": EMAIL_ADDRESS,
                    "extractor": "ShopDeskClassifier",
                },
                {
                    "entity": "order_number",
                    "start": order_start,
                    "end": order_start + 9,
                    "value": "000000101",
                    "extractor": "ShopDeskClassifier",
                },
            ],
            "text": USER_TEXT,
            "message_id": "0b6e4c11a2d94f3b8e6b1c2d3e4f5a6b",
            "intent_ranking": [{"name": "change_address", "confidence": 0.97}],
        },
        "input_channel": "shopdesk",
        "message_id": "0b6e4c11a2d94f3b8e6b1c2d3e4f5a6b",
        "metadata": {"note": f"call me on {INTERNATIONAL_PHONE}"},
    }


def test_a_user_event_is_masked_and_keeps_its_shape():
    event = user_event()
    redacted = redact_event(event, TranscriptPolicy.MASK)
    assert_clean(json.dumps(redacted))
    assert redacted["text"] == f"my email is {EMAIL}, order 000000101, ship to {ADDRESS}"
    assert redacted.keys() == event.keys()
    assert redacted["parse_data"].keys() == event["parse_data"].keys()
    assert redacted["parse_data"]["text"] == redacted["text"]
    assert redacted["parse_data"]["intent"] == event["parse_data"]["intent"]
    assert redacted["message_id"] == event["message_id"]
    assert redacted["metadata"] == {"note": f"call me on {PHONE}"}
    email, order = redacted["parse_data"]["entities"]
    assert email["value"] == EMAIL and order["value"] == "000000101"
    for entity in (email, order):  # offsets moved with the placeholders
        assert redacted["text"][entity["start"] : entity["end"]] == entity["value"]
    assert event == user_event()  # the original is not touched


def test_bot_and_slot_events():
    bot = {
        "event": "bot",
        "text": f"Shall I send it to {STREET}?",
        "data": {"buttons": [{"title": f"Yes, {STREET}", "payload": "/affirm"}]},
        "metadata": {"utter_action": "utter_confirm_address"},
    }
    redacted_bot = redact_event(bot)
    assert redacted_bot["text"] == f"Shall I send it to {ADDRESS}?"
    assert redacted_bot["data"]["buttons"] == [{"title": f"Yes, {ADDRESS}", "payload": "/affirm"}]
    assert redacted_bot["metadata"] == bot["metadata"]

    slots = {
        "email": EMAIL_ADDRESS,
        "street": "Honey Bluff Parkway",  # no house number: masked because of the slot
        "city": "Calder",
        "complaint_text": f"you charged {VISA_PLAIN} twice",
        "order_number": "000000101",
        "contact_email": None,
    }
    for name, value in slots.items():
        redacted = redact_event({"event": "slot", "timestamp": 1.0, "name": name, "value": value})
        assert redacted["name"] == name
        assert_clean(json.dumps(redacted))
        assert "Calder" not in json.dumps(redacted)
    assert redact_event({"event": "slot", "name": "email", "value": EMAIL_ADDRESS})["value"] == (
        EMAIL
    )
    assert redact_event({"event": "slot", "name": "city", "value": "Calder"})["value"] == ADDRESS
    assert redact_event({"event": "slot", "name": "order_number", "value": "000000101"}) == {
        "event": "slot",
        "name": "order_number",
        "value": "000000101",
    }
    assert redact_event({"event": "slot", "name": "contact_email", "value": None})["value"] is None


def test_a_tracker_is_masked_throughout():
    tracker = {
        "sender_id": "9f1c2a4b",
        "slots": {"email": EMAIL_ADDRESS, "order_number": "000000101"},
        "latest_message": user_event()["parse_data"],
        "events": [{"event": "action", "name": "action_listen"}, user_event()],
        "latest_event_time": 1764320000.25,
    }
    redacted = redact_tracker(tracker)
    assert_clean(json.dumps(redacted))
    assert redacted["slots"] == {"email": EMAIL, "order_number": "000000101"}
    assert redacted["events"][0] == tracker["events"][0]
    assert redacted["latest_message"]["intent"]["name"] == "change_address"


def test_the_keep_policy_keeps_everything():
    event = user_event()
    kept = redact_event(event, TranscriptPolicy.KEEP)
    assert kept == event and kept is not event
    assert redact_tracker({"events": [event]}, TranscriptPolicy.KEEP) == {"events": [event]}


def test_the_policy_comes_from_the_environment():
    assert TranscriptPolicy.from_env({}) is TranscriptPolicy.MASK
    assert TranscriptPolicy.from_env({"SHOPDESK_TRANSCRIPT_PII": ""}) is TranscriptPolicy.MASK
    assert TranscriptPolicy.from_env({"SHOPDESK_TRANSCRIPT_PII": "mask"}) is TranscriptPolicy.MASK
    assert TranscriptPolicy.from_env({"SHOPDESK_TRANSCRIPT_PII": " KEEP "}) is (
        TranscriptPolicy.KEEP
    )


@pytest.mark.parametrize("bad", ["hide", "yes", "masked", "0"])
def test_a_bad_policy_is_refused(bad: str):
    with pytest.raises(ValueError, match=r"SHOPDESK_TRANSCRIPT_PII must be one of mask, keep"):
        TranscriptPolicy.from_env({"SHOPDESK_TRANSCRIPT_PII": bad})


# --- logs -----------------------------------------------------------------------------------


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s %(shopper)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger(f"tests.redaction.{uuid.uuid4().hex}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def test_log_records_are_redacted(logged: tuple[logging.Logger, io.StringIO]):
    logger, stream = logged
    logger.info(
        "order %s for %s paid with %s ($45.00, Hero Hoodie)",
        "000000101",
        EMAIL_ADDRESS,
        VISA_SPACED,
        extra={"shopper": {"phone": US_PHONE}},
    )
    logger.warning(
        "address %(street)s, IBAN %(iban)s",
        {"street": STREET, "iban": IBAN_CODE},
        extra={"shopper": INTERNATIONAL_PHONE},
    )
    try:
        raise ValueError(f"no customer {EMAIL_ADDRESS} at {IP_ADDRESS} (card {VISA_PLAIN})")
    except ValueError:
        logger.exception("lookup failed for order %s", "000000101", extra={"shopper": "-"})
    logger.error(f"SSN {SOCIAL_SECURITY}", stack_info=True, extra={"shopper": "-"})
    output = stream.getvalue()
    assert_clean(output)
    for survivor in ("000000101", "$45.00", "Hero Hoodie", "ValueError", "Traceback"):
        assert survivor in output
    for placeholder in (EMAIL, CARD, PHONE, ADDRESS, IBAN, IP, SSN):
        assert placeholder in output


def test_a_broken_log_call_is_withheld_not_raised(logged: tuple[logging.Logger, io.StringIO]):
    logger, stream = logged
    logger.info("%d items for %s", "three", EMAIL_ADDRESS, extra={"shopper": "-"})
    assert "log message withheld" in stream.getvalue()
    assert EMAIL_ADDRESS not in stream.getvalue()


def test_install_log_redaction_covers_the_root_and_named_loggers():
    root = logging.getLogger()
    root_stream, quiet_stream = io.StringIO(), io.StringIO()
    root_handler = logging.StreamHandler(root_stream)
    quiet = logging.getLogger(f"tests.redaction.quiet.{uuid.uuid4().hex}")
    quiet.propagate = False
    quiet_handler = logging.StreamHandler(quiet_stream)
    quiet.addHandler(quiet_handler)
    root.addHandler(root_handler)
    try:
        assert install_log_redaction(quiet.name) >= 2
        assert install_log_redaction(quiet.name) == 0  # nothing twice
        assert sum(isinstance(f, RedactingFilter) for f in root_handler.filters) == 1
        logging.getLogger("tests.redaction.child").warning("mail %s", EMAIL_ADDRESS)
        quiet.warning("phone %s", US_PHONE)
        assert root_stream.getvalue() == f"mail {EMAIL}\n"
        assert quiet_stream.getvalue() == f"phone {PHONE}\n"
    finally:
        root.removeHandler(root_handler)
        quiet.removeHandler(quiet_handler)
        for handler in (*root.handlers, logging.lastResort):
            if handler is None:
                continue
            for log_filter in list(handler.filters):
                if isinstance(log_filter, RedactingFilter):
                    handler.removeFilter(log_filter)


# --- offline ----------------------------------------------------------------------------------

OFFLINE_CHECK = f"""
import socket, sys
def refuse(*args, **kwargs):
    raise AssertionError("network used: " + repr(args[:1]))
socket.getaddrinfo = socket.create_connection = refuse
socket.socket.connect = refuse
from privacy.redaction import redact
assert redact("{EMAIL_ADDRESS} {US_PHONE}") == "<EMAIL> <PHONE>"
assert "torch" not in sys.modules and "transformers" not in sys.modules
print("ok")
"""


def test_presidio_runs_offline_without_a_model_or_torch():
    done = subprocess.run(
        [sys.executable, "-c", OFFLINE_CHECK],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
