"""web.rasa_client: with several Rasa instances (the scaled setup) each conversation has one
instance of its own, the same in every web process, and moves to the next only when its own
cannot be reached (tested live in tests/e2e/test_scaled.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from web.rasa_client import RasaClient, instance_order
from web.settings import WebSettings


def test_each_conversation_tries_its_own_instance_first_then_every_other() -> None:
    for sender in ("a", "shopper-1", "ünïcode"):
        order = instance_order(sender, 3)
        assert sorted(order) == [0, 1, 2]
        assert order == instance_order(sender, 3)  # stable: no per-process hash seed
    assert instance_order("anything", 1) == [0]


def test_conversations_spread_evenly_over_the_instances() -> None:
    counts = Counter(instance_order(f"shopper-{n}", 2)[0] for n in range(2000))
    assert 900 < counts[0] < 1100


def test_the_web_settings_take_several_rasa_urls() -> None:
    settings = WebSettings.from_env(
        {"SHOPDESK_RASA_URL": "http://127.0.0.1:5005/, http://127.0.0.1:5105"}
    )
    assert settings.rasa_urls == ("http://127.0.0.1:5005", "http://127.0.0.1:5105")
    assert WebSettings.from_env({}).rasa_urls == ("http://127.0.0.1:5005",)


def test_a_client_needs_a_rasa_url() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RasaClient([], "token")
