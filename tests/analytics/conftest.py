"""The known conversations (fixtures/conversations.json), in the shop's local time.

The analytics count a conversation on the server's local date, so every test here runs with
the fixture's time zone (UTC-5 all year), whatever the machine's is: shopper-cat's chat at
22:30 local on 2 November is 03:30 UTC on the 3rd, and must count on the 2nd.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics.conversations import Conversation, conversations_from_events
from tracker.writer import write_events

FIXTURE = Path(__file__).parent / "fixtures" / "conversations.json"
KNOWN: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def shop_time_zone() -> Iterator[None]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = KNOWN["timezone"]
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture
def known() -> list[Conversation]:
    """Every conversation of the fixture, sender by sender."""
    return [
        conversation
        for sender_id, events in KNOWN["senders"].items()
        for conversation in conversations_from_events(sender_id, events)
    ]


def make_tracker(url: str) -> None:
    """Rasa's `events` table (tracker/writer.py) with every fixture event, in the order
    Rasa would have written them: by time, the senders' events interleaved."""
    write_events(url, KNOWN["senders"])
