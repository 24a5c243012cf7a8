import json
from collections.abc import Callable
from pathlib import Path

import pytest
from rasa_sdk import Tracker

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def tracker_from() -> Callable[..., Tracker]:
    """A tracker from a JSON fixture, with the latest message's text or entities replaced."""

    def load(name: str, **latest: object) -> Tracker:
        state = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        state["latest_message"].update(latest)
        return Tracker.from_dict(state)

    return load
